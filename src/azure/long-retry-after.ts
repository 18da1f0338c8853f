/**
 * The SDK's retry policy sleeps whatever a 429 or 503 asks (`Retry-After`), and Compute can ask for
 * 1 200 s (Microsoft Learn, "Troubleshooting throttling errors in Azure - Virtual Machines"). A run
 * must never sleep past the time it has for a VM, so a wait longer than `capMs` is taken out of the
 * SDK's hands: the headers are moved aside and the 429 reaches our own retry, which weighs the wait
 * against the VM's deadline (retry.ts). Shorter waits stay with the SDK.
 */
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/** Where the moved wait is kept, in milliseconds; errors.ts reads it like Retry-After. */
export const HELD_RETRY_AFTER = 'x-spot-restarter-retry-after-ms';
const RETRY_HEADERS = ['retry-after-ms', 'x-ms-retry-after-ms', 'retry-after'];

export function longRetryAfterPolicy(capMs: number): { position: 'perRetry'; policy: PipelinePolicy } {
  return {
    position: 'perRetry',
    policy: {
      name: 'longRetryAfter',
      async sendRequest(request, next) {
        const response = await next(request);
        if (response.status !== 429 && response.status !== 503) return response;
        const waitMs = retryAfterMs(response.headers);
        if (waitMs === undefined || waitMs <= capMs) return response;
        for (const name of RETRY_HEADERS) response.headers.delete(name);
        response.headers.set(HELD_RETRY_AFTER, String(waitMs));
        return response;
      }
    }
  };
}

function retryAfterMs(headers: { get(name: string): string | undefined }): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = Number(headers.get(name));
    if (headers.get(name) && Number.isFinite(value)) return value;
  }
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
