/**
 * Resource Graph's per-user quota, shared by every query of a run: VMs, Uniform instances,
 * annotations, their history and Spot prices all draw on it. Microsoft Learn, "Guidance for
 * throttled requests in Azure Resource Graph": "a user can send at most 15 queries within every
 * 5-second window"; `x-ms-user-quota-remaining` is "the remaining resource quota for the user" and
 * `x-ms-user-quota-resets-after` (hh:mm:ss) the time until it is reset; "each paginated query you
 * send takes one query quota". Its sample waits out `resets-after` once `remaining` is 0.
 *
 * So once any answer says the quota is spent, no query of the run goes out before the reset, and
 * queries sent while others are still on their way count against what is left.
 */
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { parseRetryAfter } from '../azure/errors.js';
import type { Clock } from '../azure/retry.js';

export class GraphQuota {
  /** Queries left in the window, as the latest answer said, less those sent since; unknown at first. */
  private remaining: number | undefined;
  private resetsAt = 0;
  private inFlight = 0;
  /** How many times a query waited for the window to reset. */
  waits = 0;

  constructor(private readonly clock: Clock) {}

  /** Waits until a query may go out, and counts it as sent. */
  async acquire(onWait?: (ms: number) => void): Promise<void> {
    const now = this.clock.now();
    if (this.remaining !== undefined && now >= this.resetsAt) this.remaining = undefined;
    if (this.remaining !== undefined && this.remaining <= 0) {
      const ms = this.resetsAt - now;
      this.waits++;
      onWait?.(ms);
      await this.clock.sleep(ms);
      // The window has reset: a fresh quota, as the next answer will say.
      this.remaining = undefined;
    }
    if (this.remaining !== undefined) this.remaining--;
    this.inFlight++;
  }

  /** An answer's quota headers (or none: a failed request still took its place in the window). */
  settle(remaining: string | undefined, resetsAfter: string | undefined): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (remaining === undefined || !Number.isFinite(Number(remaining))) return;
    // Queries still on their way were sent after this one was counted: they will take theirs too.
    this.remaining = Math.max(0, Number(remaining) - this.inFlight);
    this.resetsAt = this.clock.now() + resetWait(resetsAfter);
  }
}

/** `hh:mm:ss(.fff)` → ms; a Retry-After style value is understood too, anything else is a second. */
export function resetWait(resetsAfter: string | undefined): number {
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(resetsAfter ?? '');
  if (!match) return parseRetryAfter(resetsAfter ?? '') ?? 1000;
  return Math.ceil((Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000);
}

/** ARG says how many queries are left in the window and when it refills: how long to wait before the next one. */
export function quotaWait(remaining: string | undefined, resetsAfter: string | undefined): number {
  if (remaining === undefined || Number(remaining) > 0) return 0;
  return resetWait(resetsAfter);
}

/**
 * The quota is the identity's, and a run has one Resource Graph client per identity: the client
 * carries its quota, so every query through it shares one account.
 */
const quotas = new WeakMap<ResourceGraphClient, GraphQuota>();

export function quotaOf(client: ResourceGraphClient, clock: Clock): GraphQuota {
  let quota = quotas.get(client);
  if (!quota) quotas.set(client, (quota = new GraphQuota(clock)));
  return quota;
}
