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

export async function withTransientRetry<T>(
  clock: Clock,
  what: string,
  fn: () => Promise<T>,
  policy: RetryPolicy = TRANSIENT_RETRY
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const info = describeAzureError(error);
      if (!isTransient(info) || attempt >= policy.attempts) throw error;
      const delay = info.retryAfterMs ?? backoff(attempt, policy);
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
