/**
 * VMs grouped by what one person can act on, the way a status page groups incidents by component:
 * the outcome and Azure's reason, with the size and region where capacity, price and quota live,
 * and the subscription where quota and permissions live. Each group carries its count, when it
 * began and a few example VMs; the per-VM rows belong in the result file.
 */
import type { Outcome, VmResult } from './outcomes.js';

export interface Group {
  outcome: Outcome;
  /** Azure's error code, or a short reason in our words. */
  reason: string;
  size?: string;
  region?: string;
  subscription?: string;
  /** Sorted by name. */
  vms: VmResult[];
  /** The earliest eviction (or deallocation) among them, ms since the epoch. */
  since?: number;
}

/** What makes two VMs the same problem, per outcome: the dimensions a fix is made in. */
const DIMENSIONS: Partial<Record<Outcome, ('reason' | 'size' | 'region' | 'subscription')[]>> = {
  'capacity-unavailable': ['reason', 'size', 'region'],
  'price-above-max': ['reason', 'size', 'region'],
  'quota-exceeded': ['reason', 'region', 'subscription'],
  failed: ['reason', 'subscription'],
  'not-deallocated-in-time': ['reason'],
  'started-unhealthy': ['reason', 'size', 'region'],
  'awaiting-evidence': ['reason']
};

export function groupResults(results: readonly VmResult[], order: readonly Outcome[]): Group[] {
  const groups = new Map<string, Group>();
  for (const r of results) {
    const dims = DIMENSIONS[r.outcome] ?? ['reason'];
    const g: Group = {
      outcome: r.outcome,
      reason: reasonOf(r),
      size: dims.includes('size') ? r.vmSize : undefined,
      region: dims.includes('region') ? r.location : undefined,
      subscription: dims.includes('subscription') ? r.subscriptionId : undefined,
      vms: []
    };
    const key = [g.outcome, g.reason, g.size, g.region, g.subscription].join('\u0000').toLowerCase();
    const group = groups.get(key) ?? g;
    groups.set(key, group);
    group.vms.push(r);
    const began = Date.parse(r.evictedAt ?? r.deallocatedAt ?? '');
    if (Number.isFinite(began) && (group.since === undefined || began < group.since)) group.since = began;
  }
  const rank = (o: Outcome) => (order.includes(o) ? order.indexOf(o) : order.length);
  return [...groups.values()]
    .map(g => ({ ...g, vms: [...g.vms].sort((a, b) => a.name.localeCompare(b.name)) }))
    .sort(
      (a, b) =>
        b.vms.length - a.vms.length || rank(a.outcome) - rank(b.outcome) || a.reason.localeCompare(b.reason)
    );
}

/** Azure's code, or the gist of the detail without its times and numbers (so that alike VMs group). */
export function reasonOf(r: VmResult): string {
  if (r.errorCode) return r.errorCode;
  const annotation = /\b(VirtualMachine[A-Za-z]+)\b/.exec(r.detail)?.[1];
  if (r.outcome === 'user-stopped') return annotation ?? 'deallocated by a person';
  if (r.outcome === 'awaiting-evidence') return 'no evidence yet';
  if (r.outcome === 'started-unhealthy' && r.health) return r.health.state;
  const gist = r.detail
    .replace(/\s*\(.*$/s, '')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '…')
    .replace(/\d+(\.\d+)?\s*(ms|s|min|h)\b/g, 'N $2')
    .trim();
  return gist.length > 60 ? `${gist.slice(0, 57).replace(/\s+\S*$/, '')} …` : gist || r.outcome;
}

/** The first `n` names, and how many more. */
export function examples(g: Group, n = 3): { names: string[]; more: number } {
  return { names: g.vms.slice(0, n).map(v => v.name), more: Math.max(0, g.vms.length - n) };
}
