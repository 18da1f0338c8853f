/** Time and retries: the clock is passed in, so tests and the emulator control it. */
import * as core from '@actions/core';
import { describeAzureError, isTransient } from './errors.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
};

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * The SDK pipeline already retries 429 (with Retry-After), 5xx and dropped connections a few
 * times; this outer loop carries a call through a longer storm, and through 409 "another
 * operation is in progress", which the pipeline does not retry.
 */
export const TRANSIENT_RETRY: RetryPolicy = { attempts: 8, baseMs: 1000, maxMs: 30_000 };

/** Waiting as Azure asks would pass the time this run has for the VM: a later run takes over. */
export class DeadlineError extends Error {
  constructor(
    readonly what: string,
    readonly waitMs: number,
    readonly why: string
  ) {
    super(
      `${what}: Azure's ${why} would have us wait ${Math.round(waitMs / 1000)} s, past the time this run has for it`
    );
    this.name = 'DeadlineError';
  }
}

export async function withTransientRetry<T>(
  clock: Clock,
  what: string,
  fn: () => Promise<T>,
  policy: RetryPolicy = TRANSIENT_RETRY,
  deadline?: number
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const info = describeAzureError(error);
      if (!isTransient(info) || attempt >= policy.attempts) throw error;
      const delay = info.retryAfterMs ?? backoff(attempt, policy);
      if (deadline !== undefined && clock.now() + delay > deadline)
        throw new DeadlineError(
          what,
          delay,
          info.status === 429 ? 'throttling (Retry-After)' : 'retry pause'
        );
      core.info(
        `${what}: ${info.status ?? info.code ?? 'error'} (${info.message.slice(0, 120)}); retrying in ${delay} ms.`
      );
      await clock.sleep(delay);
    }
  }
}

/** Exponential backoff with full jitter, capped. */
export function backoff(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>,
  random = Math.random
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
