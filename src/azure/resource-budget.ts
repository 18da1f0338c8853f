/**
 * Compute's per-resource throttling, mirrored on our side so that a run spends a VM's budget on
 * purpose instead of learning it from 429s. Microsoft Learn, "Compute throttling limits": every
 * policy is a token bucket per resource (and per subscription); "Low Cost Get VM" (GET, instance
 * view) refills 12 a minute up to 36, "Get Operation" (polling a start) 15 a minute up to 45.
 * Other callers (the portal, scripts, another run) spend the same buckets, so what Azure reports in
 * `x-ms-ratelimit-remaining-resource` replaces our estimate when it is lower.
 */
import type { Clock } from './retry.js';
import { DeadlineError } from './retry.js';

export interface BucketLimits {
  /** The policy's name, as Azure spells it in x-ms-ratelimit-remaining-resource (without the window). */
  policy: string;
  capacity: number;
  perMinute: number;
}

export const LOW_COST_GET_VM: BucketLimits = {
  policy: 'Microsoft.Compute/LowCostGet',
  capacity: 36,
  perMinute: 12
};
export const GET_OPERATION: BucketLimits = {
  policy: 'Microsoft.Compute/GetOperation',
  capacity: 45,
  perMinute: 15
};

/**
 * Compute's "Update VM" policy (start included) per subscription and region: 1 500, refilled 500 a
 * minute ("Compute throttling limits"); "Update VMSS" has the same numbers per subscription and
 * region, and a scale set's start spends one token whatever its instances. Azure's own count comes
 * as `Microsoft.Compute/UpdateVM3Min;N` (the policy's name with its window, as Microsoft's examples
 * spell `PutVM3Min` or `HighCostGet3Min`; Microsoft Learn, "Troubleshooting throttling errors in
 * Azure - Virtual Machines") and `Microsoft.Compute/UpdateVMSS…;N`. Kept per `subscription|region`.
 */
export const UPDATE_VM: BucketLimits = {
  policy: 'Microsoft.Compute/UpdateVM3Min',
  capacity: 1500,
  perMinute: 500
};
export const UPDATE_VMSS: BucketLimits = {
  policy: 'Microsoft.Compute/UpdateVMSS',
  capacity: 1500,
  perMinute: 500
};

export class ResourceBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    readonly limits: BucketLimits
  ) {}

  /**
   * Takes one token for `key`, first waiting for it to refill if needed. `reserve` tokens are left
   * for reads that matter more (the one after the deallocation, the start's own). Never waits past
   * `deadline`: throws DeadlineError instead.
   */
  async take(
    key: string,
    options: { reserve?: number; deadline?: number; what?: string } = {}
  ): Promise<void> {
    const bucket = this.refill(key);
    const needed = 1 + (options.reserve ?? 0);
    if (bucket.tokens < needed) {
      const waitMs = Math.ceil(((needed - bucket.tokens) * 60_000) / this.limits.perMinute);
      if (options.deadline !== undefined && this.clock.now() + waitMs > options.deadline)
        throw new DeadlineError(
          options.what ?? `${this.limits.policy} for ${key}`,
          waitMs,
          'its read budget'
        );
      await this.clock.sleep(waitMs);
      this.refill(key);
    }
    bucket.tokens -= 1;
  }

  /** Azure's own count (`x-ms-ratelimit-remaining-resource`), when it names this policy. */
  observe(key: string, header: string | undefined): void {
    if (!header) return;
    const prefix = this.limits.policy.toLowerCase();
    for (const part of header.split(',')) {
      const [name, value] = part.split(';');
      if (!name || !name.trim().toLowerCase().startsWith(prefix)) continue;
      const remaining = Number(value);
      if (!Number.isFinite(remaining)) continue;
      const bucket = this.refill(key);
      bucket.tokens = Math.min(bucket.tokens, remaining);
    }
  }

  private refill(key: string): { tokens: number; at: number } {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: this.limits.capacity, at: now }));
    refillBucket(bucket, this.limits.capacity, this.limits.perMinute / 60_000, now);
    return bucket;
  }
}

/** A token bucket's refill since it was last looked at, up to its capacity (Azure's and ours alike). */
export function refillBucket(
  bucket: { tokens: number; at: number },
  capacity: number,
  perMs: number,
  now: number
): void {
  bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
  bucket.at = now;
}
