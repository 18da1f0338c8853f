/** The outcome classes of a VM (one per VM per run) and how they group in outputs and fail-on. */
export const OUTCOMES = [
  'started',
  'already-running',
  'skipped',
  'capacity-unavailable',
  'price-above-max',
  'quota-exceeded',
  'deleted',
  'user-stopped',
  'not-deallocated-in-time',
  'failed',
  /** Deallocated, but Azure's evidence of why has not arrived yet: a later run decides. */
  'awaiting-evidence',
  /** Started on one of the owner's fallback sizes because the preferred one had no capacity. */
  'started-fallback',
  /** A scale set with Try & restore: Azure restores its instances itself, so we leave them be. */
  'platform-restores',
  /** Revert mode: back on its preferred size, and running. */
  'reverted',
  /** Started and running, but not healthy (verify-health) within health-timeout, or Azure reports it unhealthy. */
  'started-unhealthy'
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outputs group outcomes: `failed`, `capacity-unavailable` and `skipped` list resource IDs. */
export const OUTPUT_GROUPS: Record<'started' | 'failed' | 'capacity-unavailable' | 'skipped', Outcome[]> = {
  started: ['started', 'started-fallback', 'reverted'],
  failed: ['failed', 'quota-exceeded', 'not-deallocated-in-time', 'started-unhealthy'],
  'capacity-unavailable': ['capacity-unavailable', 'price-above-max'],
  skipped: ['skipped', 'user-stopped', 'deleted', 'already-running', 'awaiting-evidence', 'platform-restores']
};

/**
 * What the health check after a start found (verify-health): healthy; unhealthy (Azure says so);
 * timed-out (not healthy within health-timeout); down (deallocated or gone again before it was
 * healthy); unreadable (its instance view could not be read).
 */
export type HealthState = 'healthy' | 'unhealthy' | 'timed-out' | 'down' | 'unreadable';

/** What kind of thing a target is: a standalone VM, or an instance of a Flexible or Uniform scale set. */
export type TargetKind = 'vm' | 'vmss-flex' | 'vmss-uniform';

export interface VmResult {
  id: string;
  kind?: TargetKind;
  name: string;
  resourceGroup: string;
  subscriptionId: string;
  vmSize?: string;
  /** The VM's region: problems are grouped by size and region, as capacity and quota are. */
  location?: string;
  outcome: Outcome;
  detail: string;
  /** Where the VM came from: the sweep, a dispatch payload or the `vms` input. */
  source: 'sweep' | 'dispatch' | 'vms';
  attempts: number;
  /** When Azure evicted it, ISO-8601: the Preempt annotation's time, or the agent's detection. */
  evictedAt?: string;
  /**
   * Why a started VM was taken for evicted: Azure's evidence (with `evictedAt`), or, without it,
   * the no-evidence bound (`start-without-evidence-after`).
   */
  because?: string;
  /** When the VM was seen deallocated (its instance view's last operation end), ISO-8601. */
  deallocatedAt?: string;
  /** When the start call was accepted, ISO-8601. */
  startAcceptedAt?: string;
  /** When the start operation succeeded (the VM running), ISO-8601. */
  runningAt?: string;
  /** verify-health: when the VM was first seen healthy, ISO-8601. */
  healthyAt?: string;
  /** verify-health: which check ran, what it found, and what Azure said (the guest agent, vmHealth, the extension). */
  health?: { check: string; state: HealthState; said: string; reads: number };
  /** started-fallback: the size the owner prefers and the size it started on. */
  preferredSize?: string;
  usedSize?: string;
  /** Sizes a start was tried on in this run, in order (the fallback sizes included). */
  sizesTried?: string[];
  /** Fallback sizes passed over, and why (restricted, over quota, above the max price, …). */
  sizesSkipped?: { size: string; reason: string }[];
  /** The max price before and after this run raised it (raise-max-price). */
  oldMaxPrice?: number;
  newMaxPrice?: number;
  /** Revert mode: whether the VM is back on its preferred size. */
  reverted?: boolean;
  durationMs: number;
  currentPrice?: number;
  errorCode?: string;
}
