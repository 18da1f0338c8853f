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
  'failed'
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outputs group outcomes: `failed`, `capacity-unavailable` and `skipped` list resource IDs. */
export const OUTPUT_GROUPS: Record<'started' | 'failed' | 'capacity-unavailable' | 'skipped', Outcome[]> = {
  started: ['started'],
  failed: ['failed', 'quota-exceeded', 'not-deallocated-in-time'],
  'capacity-unavailable': ['capacity-unavailable', 'price-above-max'],
  skipped: ['skipped', 'user-stopped', 'deleted', 'already-running']
};

export interface VmResult {
  id: string;
  name: string;
  resourceGroup: string;
  subscriptionId: string;
  vmSize?: string;
  outcome: Outcome;
  detail: string;
  /** Where the VM came from: the sweep, a dispatch payload or the `vms` input. */
  source: 'sweep' | 'dispatch' | 'vms';
  attempts: number;
  /** When the start call was accepted, ISO-8601. */
  startAcceptedAt?: string;
  durationMs: number;
  currentPrice?: number;
  errorCode?: string;
}
