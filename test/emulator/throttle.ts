/**
 * Azure's throttling, with its documented numbers, in emulated time:
 * - Resource Graph: 15 queries per 5-second window per user (x-ms-user-quota-remaining / -resets-after).
 * - Resource Manager (token bucket per principal and subscription): reads 250, refill 25/s; writes 200, refill 10/s.
 * - Compute, per region (Microsoft Learn, "Compute throttling limits"): "Update VM" (start included)
 *   per subscription 1500, refill 500/min, per VM 12, refill 4/min; "Low Cost Get VM" (GET and
 *   instance view) per subscription 24 000, refill 8 000/min, per VM 36, refill 12/min; "Get
 *   Operation" per subscription 15 000, refill 5 000/min, per resource 45, refill 15/min.
 */
import type { ScaledClock } from './clock.js';

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

/** Which Compute policy refused a request, and what it allows (for Compute's 429 body). */
export type ComputeTake =
  { ok: true; remaining: number } | { ok: false; retryAfterMs: number; policy: string; allowed: number };

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

  read(principal: string, subscription: string) {
    return this.take(
      this.bucket(
        `r|${principal}|${subscription}`,
        LIMITS.armReads.capacity,
        LIMITS.armReads.perSecond / 1000
      )
    );
  }

  write(principal: string, subscription: string) {
    return this.take(
      this.bucket(
        `w|${principal}|${subscription}`,
        LIMITS.armWrites.capacity,
        LIMITS.armWrites.perSecond / 1000
      )
    );
  }

  /**
   * Compute's own policy for VM updates, start included: the region bucket and the VM's bucket.
   * `remaining` is the region's: the subscription-level count Azure reports for the policy in
   * `x-ms-ratelimit-remaining-resource` (`Microsoft.Compute/UpdateVM3Min;N`, named as Microsoft's
   * examples name such policies, e.g. `PutVM3Min`).
   */
  computeUpdate(subscription: string, region: string, vmKey: string) {
    const region_ = this.take(
      this.bucket(
        `c|${subscription}|${region}`,
        LIMITS.computeUpdatePerRegion.capacity,
        LIMITS.computeUpdatePerRegion.perMinute / 60_000
      )
    );
    if (!region_.ok) return region_;
    const vm = this.take(
      this.bucket(
        `v|${vmKey}`,
        LIMITS.computeUpdatePerVm.capacity,
        LIMITS.computeUpdatePerVm.perMinute / 60_000
      )
    );
    return vm.ok ? region_ : vm;
  }

  /** "Low Cost Get VM": a VM's GET or instance view. */
  computeRead(subscription: string, region: string, vmKey: string): ComputeTake {
    return this.computePolicy('LowCostGetVM', [
      [`lcg|${subscription}|${region}`, LIMITS.computeLowCostGetPerSubscription],
      [`lcg|${vmKey}`, LIMITS.computeLowCostGetPerVm]
    ]);
  }

  /** "Get Operation": the status of a VM's asynchronous operation, e.g. its start. */
  computeOperationRead(subscription: string, region: string, resourceKey: string): ComputeTake {
    return this.computePolicy('GetOperation', [
      [`gop|${subscription}|${region}`, LIMITS.computeGetOperationPerSubscription],
      [`gop|${resourceKey}`, LIMITS.computeGetOperationPerResource]
    ]);
  }

  /** "Update VMSS": a scale set's start, one token per call whatever the number of instances. */
  scaleSetUpdate(subscription: string, region: string): ComputeTake {
    return this.computePolicy('UpdateVMSS', [
      [`uvmss|${subscription}|${region}`, SCALE_SET_LIMITS.updatePerSubscription]
    ]);
  }

  /** "Low Cost Get VMSS": GET of a scale set. */
  scaleSetRead(subscription: string, region: string, scaleSetKey: string): ComputeTake {
    return this.computePolicy('LowCostGetVMSS', [
      [`lcgvmss|${subscription}|${region}`, SCALE_SET_LIMITS.lowCostGetPerSubscription],
      [`lcgvmss|${scaleSetKey}`, SCALE_SET_LIMITS.lowCostGetPerScaleSet]
    ]);
  }

  /** "Get VMSS VMs": GET or instance view of one instance of a scale set. */
  scaleSetVmRead(subscription: string, region: string, instanceKey: string): ComputeTake {
    return this.computePolicy('GetVMSSVMs', [
      [`gvmssvm|${subscription}|${region}`, SCALE_SET_LIMITS.getVmPerSubscription],
      [`gvmssvm|${instanceKey}`, SCALE_SET_LIMITS.getVmPerInstance]
    ]);
  }

  private computePolicy(
    policy: string,
    buckets: [string, { capacity: number; perMinute: number }][]
  ): ComputeTake {
    let remaining = Number.POSITIVE_INFINITY;
    for (const [key, limit] of buckets) {
      const taken = this.take(this.bucket(key, limit.capacity, limit.perMinute / 60_000));
      if (!taken.ok) return { ok: false, retryAfterMs: taken.retryAfterMs, policy, allowed: limit.capacity };
      remaining = Math.min(remaining, taken.remaining);
    }
    return { ok: true, remaining };
  }

  private take(bucket: TokenBucket) {
    if (!this.enabled) return { ok: true as const, remaining: 1000 };
    return bucket.take();
  }
}
