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
  /** The policy, for messages. */
  policy: string;
  /**
   * The names in `x-ms-ratelimit-remaining-resource` that count this bucket's calls. Microsoft
   * publishes the header's form and windowed names (`HighCostGet3Min`, `LowCostGet30Min`,
   * `PutVM3Min`; "Troubleshooting throttling errors"), not the names of the token-bucket policies of
   * "Compute throttling limits", so the match is on the policy's stem, whatever its window or level.
   */
  names: RegExp;
  /** Whether the bucket is the subscription's (per region) or one resource's. */
  level: 'subscription' | 'resource';
  capacity: number;
  perMinute: number;
}

/** "Low Cost Get VM" per VM: GET, instance view; 36, refilled 12 a minute. */
export const LOW_COST_GET_VM: BucketLimits = {
  policy: 'Low Cost Get VM',
  names: /^Microsoft\.Compute\/LowCostGet/i,
  level: 'resource',
  capacity: 36,
  perMinute: 12
};
/** "Get Operation" per resource: polls of its operations; 45, refilled 15 a minute. */
export const GET_OPERATION: BucketLimits = {
  policy: 'Get Operation',
  names: /^Microsoft\.Compute\/GetOperation/i,
  level: 'resource',
  capacity: 45,
  perMinute: 15
};
/**
 * "Update VM" (Update, Start, Restart, Power Off, Redeploy, …; a resize and a new max price are
 * updates): per subscription and region 1 500, refilled 500 a minute, and per VM 12, refilled 4 a
 * minute — so a fallback that tries six sizes (a start, then a resize and a start for each other
 * size) fits one VM's bucket. A revert's deallocate is "Delete VM", another policy.
 */
export const UPDATE_VM: BucketLimits = {
  policy: 'Update VM',
  names: /^Microsoft\.Compute\/UpdateVM(?!SS|ScaleSet)/i,
  level: 'subscription',
  capacity: 1500,
  perMinute: 500
};
export const UPDATE_VM_PER_VM: BucketLimits = { ...UPDATE_VM, level: 'resource', capacity: 12, perMinute: 4 };
/**
 * "Update VMSS" (Create Or Update, Start, …): a scale set's start is counted per subscription and
 * region only ("Only subscription level policies are applicable"), 1 500, refilled 500 a minute.
 */
export const UPDATE_VMSS: BucketLimits = {
  policy: 'Update VMSS',
  names: /^Microsoft\.Compute\/(UpdateVMSS|UpdateVMScaleSet)/i,
  level: 'subscription',
  capacity: 1500,
  perMinute: 500
};

/**
 * Every policy a header names: `<source RP>/<policy or bucket>;<count>`, one header per policy
 * (Microsoft Learn) or several in one comma-joined value (captured responses; an HTTP client joins
 * repeated headers the same way).
 */
export function remainingByPolicy(header: string | undefined | null): { name: string; remaining: number }[] {
  if (!header) return [];
  return header.split(',').flatMap(part => {
    const [name, value] = part.split(';');
    const remaining = Number(value?.trim());
    return name?.trim() && value !== undefined && Number.isFinite(remaining)
      ? [{ name: name.trim(), remaining }]
      : [];
  });
}

/** The largest per-resource bucket of "Compute throttling limits" (Get Operation's 45). */
const RESOURCE_MAX = 45;

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

  /**
   * Azure's own counts (`x-ms-ratelimit-remaining-resource`) from the answer to a call this bucket
   * paid for: the tightest policy that covers the call wins. A resource's bucket takes every
   * policy of its family (a subscription's count below the resource's stops this resource too); a
   * subscription's bucket only those that cannot be one resource's: named for the subscription or
   * a window (the published `…3Min`/`…30Min`), or above what one resource's bucket holds.
   */
  observe(key: string, header: string | undefined | null): void {
    const covering = remainingByPolicy(header).filter(
      p =>
        this.limits.names.test(p.name) &&
        (this.limits.level === 'resource' ||
          (!/Resource$/i.test(p.name) &&
            (/(Subscription|\d+Min)$/i.test(p.name) || p.remaining > RESOURCE_MAX)))
    );
    if (!covering.length) return;
    const bucket = this.refill(key);
    bucket.tokens = Math.min(bucket.tokens, ...covering.map(p => p.remaining));
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
