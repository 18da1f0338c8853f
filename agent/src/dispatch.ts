/**
 * Sending the repository_dispatch: at once, then with backoff while the notice lasts, honouring
 * Retry-After and GitHub's secondary rate limits. 401/403/404/422 are not retried in a loop: they
 * will not fix themselves, and each is logged with what to fix.
 *
 * A wave's agents are refused together and told the same Retry-After: each waits what GitHub asks
 * plus a random part of what is left of its deadline, so that they come back spread out rather than
 * all in the same second; a wait that would pass the deadline is not started.
 */
import type { Credentials } from './credentials.js';
import type { DispatchPayload } from '../../src/plan/payload.js';
import { header, send, type HttpAnswer } from './http.js';
import { githubHeaders } from './github-headers.js';

export type DispatchResult =
  | { ok: true; attempts: number; status: number }
  | { ok: false; attempts: number; status?: number; retryable: boolean; reason: string };

export interface DispatchOptions {
  apiUrl: string;
  repository: string;
  eventType: string;
  payload: DispatchPayload;
  credentials: Credentials;
  /** Give up (for now) after this moment, ms since the epoch. */
  deadline: number;
  sleep?: (ms: number) => Promise<void>;
  /** The agent is stopping: no further attempt (the event stays pending for the next start). */
  signal?: AbortSignal;
  onRetry?: (attempt: number, why: string, delayMs: number) => void;
  /** An attempt's request has been fully written to the connection (not yet answered). */
  onWritten?: (attempt: number) => void;
  /** Spreads the retries (tests pass a fixed one). */
  random?: () => number;
  now?: () => number;
}

/**
 * "Rate limits for the REST API": past a secondary limit, with neither `retry-after` nor
 * `x-ratelimit-remaining: 0`, "wait for at least one minute before retrying".
 */
const SECONDARY_WAIT_MS = 60_000;

function sleepUnless(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  return ms =>
    new Promise<void>(resolve => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
    });
}

export async function sendDispatch(o: DispatchOptions): Promise<DispatchResult> {
  const sleep = o.sleep ?? sleepUnless(o.signal);
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    let status: number | undefined;
    let retryAfterMs: number | undefined;
    let why: string;
    try {
      const token = await o.credentials.token();
      const response = await send(`${o.apiUrl.replace(/\/+$/, '')}/repos/${o.repository}/dispatches`, {
        method: 'POST',
        headers: githubHeaders(token, true),
        body: JSON.stringify({ event_type: o.eventType, client_payload: o.payload }),
        timeoutMs: 10_000,
        onWritten: () => o.onWritten?.(attempt)
      });
      status = response.status;
      if (status === 204 || status === 200) return { ok: true, attempts: attempt, status };
      const message = safeMessage(response.text);
      retryAfterMs = retryAfter(response, now);
      const secondary = /secondary rate limit/i.test(message);
      const rateLimited =
        status === 429 ||
        (status === 403 &&
          (retryAfterMs !== undefined || header(response, 'x-ratelimit-remaining') === '0' || secondary));
      if (rateLimited && retryAfterMs === undefined && secondary) retryAfterMs = SECONDARY_WAIT_MS;
      if (status === 401 && o.credentials.kind === 'github-app' && !refreshed) {
        // An installation token can expire between two events: fetch a new one, once.
        o.credentials.invalidate();
        refreshed = true;
        attempt--;
        continue;
      }
      if (!rateLimited && [400, 401, 403, 404, 422].includes(status)) {
        return {
          ok: false,
          attempts: attempt,
          status,
          retryable: false,
          reason: advice(status, o.repository, message)
        };
      }
      why = rateLimited ? `rate limited (${status})` : `GitHub answered ${status}`;
    } catch (error) {
      why = `request failed: ${(error as Error).message}`;
    }
    const least = Math.min(retryAfterMs ?? Math.min(5000, 250 * 2 ** (attempt - 1)), 60_000);
    const slack = o.deadline - now() - least;
    const delay = Math.round(least + random() * Math.max(0, Math.min(least, slack)));
    if (slack < 0)
      return {
        ok: false,
        attempts: attempt,
        status,
        retryable: true,
        reason: `${why}; gave up at the deadline`
      };
    o.onRetry?.(attempt, why, delay);
    await sleep(delay);
    if (o.signal?.aborted)
      return {
        ok: false,
        attempts: attempt,
        status,
        retryable: true,
        reason: `${why}; the agent is stopping`
      };
  }
}

function retryAfter(response: HttpAnswer, now: () => number): number | undefined {
  const value = header(response, 'retry-after');
  if (value && /^\d+$/.test(value)) return Number(value) * 1000;
  if (header(response, 'x-ratelimit-remaining') === '0') {
    const reset = Number(header(response, 'x-ratelimit-reset'));
    if (reset) return Math.max(1000, reset * 1000 - now());
  }
  return undefined;
}

function safeMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string };
    return String(body.message ?? '').slice(0, 300);
  } catch {
    return text.slice(0, 200);
  }
}

export function advice(status: number, repository: string, message: string): string {
  switch (status) {
    case 401:
      return `GitHub refused the credentials (401 ${message}): the token is wrong, expired or revoked`;
    case 403:
      return `GitHub refused the dispatch (403 ${message}): the token needs "Contents: write" on ${repository} (fine-grained token or GitHub App) or the "repo" scope (classic token)`;
    case 404:
      return `GitHub answered 404 for ${repository}: the repository does not exist, or the token cannot see it (check --repository and the token's repository access)`;
    case 422:
      return `GitHub refused the payload (422 ${message}): check --event-type`;
    default:
      return `GitHub answered ${status} ${message}`;
  }
}
