/**
 * Azure's throttling, with its documented numbers, in emulated time:
 * - Resource Graph: 15 queries per 5-second window per user (x-ms-user-quota-remaining / -resets-after).
 * - Resource Manager (token bucket per principal and subscription): reads 250, refill 25/s; writes 200, refill 10/s.
 * - Compute, per region (Microsoft Learn, "Compute throttling limits"): "Update VM" (start included)
 *   per subscription 1500, refill 500/min, per VM 12, refill 4/min; "Low Cost Get VM" (GET and
 *   instance view) per subscription 24 000, refill 8 000/min, per VM 36, refill 12/min; "Get
 *   Operation" per subscription 15 000, refill 5 000/min, per resource 45, refill 15/min.
 */
import type { ScaledClock } from '../clock.js';

export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly capacity: number,
    private readonly refillPerMs: number,
    private readonly clock: ScaledClock
  ) {
    this.tokens = capacity;
    this.last = clock.now();
  }

  /** Takes one token, or says how long (emulated ms) until one is there. */
  take(): { ok: true; remaining: number } | { ok: false; retryAfterMs: number } {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.refillPerMs);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, remaining: Math.floor(this.tokens) };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - this.tokens) / this.refillPerMs) };
  }
}

/** A fixed window, as Resource Graph's per-user quota is. */
export class QuotaWindow {
  private windowStart: number;
  private used = 0;
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: ScaledClock
  ) {
    this.windowStart = clock.now();
  }

  take(): { ok: boolean; remaining: number; resetsAfterMs: number } {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    const resetsAfterMs = this.windowStart + this.windowMs - now;
    if (this.used >= this.limit) return { ok: false, remaining: 0, resetsAfterMs };
    this.used++;
    return { ok: true, remaining: this.limit - this.used, resetsAfterMs };
  }
}

export const LIMITS = {
  argPerWindow: 15,
  argWindowMs: 5000,
  armReads: { capacity: 250, perSecond: 25 },
  armWrites: { capacity: 200, perSecond: 10 },
  computeUpdatePerRegion: { capacity: 1500, perMinute: 500 },
  computeUpdatePerVm: { capacity: 12, perMinute: 4 },
  computeLowCostGetPerSubscription: { capacity: 24_000, perMinute: 8_000 },
  computeHighCostGetPerSubscription: { capacity: 900, perMinute: 300 },
  computeLowCostGetPerVm: { capacity: 36, perMinute: 12 },
  computeGetOperationPerSubscription: { capacity: 15_000, perMinute: 5_000 },
  computeGetOperationPerResource: { capacity: 45, perMinute: 15 }
};

/**
 * Compute's scale-set policies (Microsoft Learn, "Compute throttling limits", tables for Virtual
 * Machine Scale Sets and for their VMs; per region): "Update VMSS" (start included) per
 * subscription 1500, refill 500/min — its per-resource limit does not apply to start (footnote 2);
 * "Low Cost Get VMSS" (GET) per scale set 36, refill 12/min, per subscription 2400, refill 800/min;
 * "Get VMSS VMs" (GET and instance view of an instance) per instance 36, refill 12/min, per
 * subscription 6000, refill 2000/min.
 */
export const SCALE_SET_LIMITS = {
  updatePerSubscription: { capacity: 1500, perMinute: 500 },
  lowCostGetPerScaleSet: { capacity: 36, perMinute: 12 },
  lowCostGetPerSubscription: { capacity: 2400, perMinute: 800 },
  getVmPerInstance: { capacity: 36, perMinute: 12 },
  getVmPerSubscription: { capacity: 6000, perMinute: 2000 }
};

/**
 * Which Compute policy refused a request, and what it allows (for Compute's 429 body); when taken,
 * `header` is `x-ms-ratelimit-remaining-resource` as Azure writes it: one `<source RP>/<policy or
 * bucket>;<count>` per policy that counted the call, comma-joined as in the captured responses
 * (`Microsoft.Compute/PutVM3Min;239,Microsoft.Compute/PutVM30Min;1198`; Microsoft Learn,
 * "Troubleshooting throttling errors": "There will be a separate x-ms-ratelimit-remaining-resource
 * header for each policy" — the same thing to an HTTP client). Microsoft publishes the form, not the
 * names of the token-bucket policies: `<Policy>Subscription` and `<Policy>Resource` are ours.
 */
export type ComputeTake =
  | { ok: true; remaining: number; header: string }
  | { ok: false; retryAfterMs: number; policy: string; allowed: number };

/** Resource Manager's answer to a read or write: its per-principal and global counts as headers. */
export type ArmTake =
  { ok: true; remaining: number; headers: Record<string, string> } | { ok: false; retryAfterMs: number };

/**
 * Resource Manager's global limits, shared by every principal of a subscription: 15 times the
 * per-principal ones ("Understand how Azure Resource Manager throttles requests"; observed headers:
 * `x-ms-ratelimit-remaining-subscription-reads: 249` with `…-global-reads: 3749`).
 */
export const GLOBAL_FACTOR = 15;

export class Throttles {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly windows = new Map<string, QuotaWindow>();
  constructor(
    private readonly clock: ScaledClock,
    readonly enabled = true
  ) {}

  arg(principal: string) {
    let w = this.windows.get(principal);
    if (!w)
      this.windows.set(principal, (w = new QuotaWindow(LIMITS.argPerWindow, LIMITS.argWindowMs, this.clock)));
    return this.enabled
      ? w.take()
      : { ok: true, remaining: LIMITS.argPerWindow, resetsAfterMs: LIMITS.argWindowMs };
  }

  private bucket(key: string, capacity: number, perMs: number) {
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new TokenBucket(capacity, perMs, this.clock)));
    return b;
  }

  read(principal: string, subscription: string): ArmTake {
    return this.arm('reads', principal, subscription, LIMITS.armReads);
  }

  write(principal: string, subscription: string): ArmTake {
    return this.arm('writes', principal, subscription, LIMITS.armWrites);
  }

  /** The principal's bucket and the subscription's global one: refused when either is empty. */
  private arm(
    kind: 'reads' | 'writes',
    principal: string,
    subscription: string,
    limit: { capacity: number; perSecond: number }
  ): ArmTake {
    const global = this.take(
      this.bucket(
        `g${kind}|${subscription}`,
        limit.capacity * GLOBAL_FACTOR,
        (limit.perSecond * GLOBAL_FACTOR) / 1000
      )
    );
    if (!global.ok) return global;
    const own = this.take(
      this.bucket(`${kind}|${principal}|${subscription}`, limit.capacity, limit.perSecond / 1000)
    );
    if (!own.ok) return own;
    return {
      ok: true,
      remaining: own.remaining,
      headers: {
        [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(own.remaining),
        [`x-ms-ratelimit-remaining-subscription-global-${kind}`]: String(global.remaining)
      }
    };
  }

  /** "Update VM" (Update, Start, resize, …): the subscription's bucket in the region and the VM's. */
  computeUpdate(subscription: string, region: string, vmKey: string): ComputeTake {
    return this.computePolicy('UpdateVM', [
      ['Subscription', `c|${subscription}|${region}`, LIMITS.computeUpdatePerRegion],
      ['Resource', `v|${vmKey}`, LIMITS.computeUpdatePerVm]
    ]);
  }

  /** "Low Cost Get VM": a VM's GET or instance view. */
  computeRead(subscription: string, region: string, vmKey: string): ComputeTake {
    return this.computePolicy('LowCostGetVM', [
      ['Subscription', `lcg|${subscription}|${region}`, LIMITS.computeLowCostGetPerSubscription],
      ['Resource', `lcg|${vmKey}`, LIMITS.computeLowCostGetPerVm]
    ]);
  }

  /** "High Cost Get VM" (List, List All, List By Location): per subscription only. */
  computeList(subscription: string): ComputeTake {
    return this.computePolicy('HighCostGetVM', [
      ['Subscription', `hcg|${subscription}`, LIMITS.computeHighCostGetPerSubscription]
    ]);
  }

  /** "Get Operation": the status of a VM's asynchronous operation, e.g. its start. */
  computeOperationRead(subscription: string, region: string, resourceKey: string): ComputeTake {
    return this.computePolicy('GetOperation', [
      ['Subscription', `gop|${subscription}|${region}`, LIMITS.computeGetOperationPerSubscription],
      ['Resource', `gop|${resourceKey}`, LIMITS.computeGetOperationPerResource]
    ]);
  }

  /** "Update VMSS": a scale set's start, one token per call whatever the number of instances. */
  scaleSetUpdate(subscription: string, region: string): ComputeTake {
    return this.computePolicy('UpdateVMSS', [
      ['Subscription', `uvmss|${subscription}|${region}`, SCALE_SET_LIMITS.updatePerSubscription]
    ]);
  }

  /** "Low Cost Get VMSS": GET of a scale set. */
  scaleSetRead(subscription: string, region: string, scaleSetKey: string): ComputeTake {
    return this.computePolicy('LowCostGetVMSS', [
      ['Subscription', `lcgvmss|${subscription}|${region}`, SCALE_SET_LIMITS.lowCostGetPerSubscription],
      ['Resource', `lcgvmss|${scaleSetKey}`, SCALE_SET_LIMITS.lowCostGetPerScaleSet]
    ]);
  }

  /** "Get VMSS VMs": GET or instance view of one instance of a scale set. */
  scaleSetVmRead(subscription: string, region: string, instanceKey: string): ComputeTake {
    return this.computePolicy('GetVMSSVMs', [
      ['Subscription', `gvmssvm|${subscription}|${region}`, SCALE_SET_LIMITS.getVmPerSubscription],
      ['Resource', `gvmssvm|${instanceKey}`, SCALE_SET_LIMITS.getVmPerInstance]
    ]);
  }

  /** Every bucket of the policy must have a token, the subscription's first; the refusal names the policy. */
  private computePolicy(
    policy: string,
    buckets: [level: string, key: string, limit: { capacity: number; perMinute: number }][]
  ): ComputeTake {
    const taken: { name: string; remaining: number }[] = [];
    for (const [level, key, limit] of buckets) {
      const t = this.take(this.bucket(key, limit.capacity, limit.perMinute / 60_000));
      if (!t.ok)
        return {
          ok: false,
          retryAfterMs: t.retryAfterMs,
          policy: `${policy}${level}`,
          allowed: limit.capacity
        };
      taken.push({ name: `Microsoft.Compute/${policy}${level}`, remaining: t.remaining });
    }
    return {
      ok: true,
      remaining: Math.min(...taken.map(t => t.remaining)),
      header: taken.map(t => `${t.name};${t.remaining}`).join(',')
    };
  }

  private take(bucket: TokenBucket) {
    if (!this.enabled) return { ok: true as const, remaining: 1000 };
    return bucket.take();
  }
}
