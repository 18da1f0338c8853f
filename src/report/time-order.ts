/**
 * A report's times come from two clocks: Azure's (evictions, deallocations) and the runner's
 * (when a start was accepted and the VM ran). When those disagree, a VM seems to start before it
 * was evicted. The report checks the order of every VM's moments and says so, rather than print
 * impossible downtimes.
 */
import { formatDuration } from '../plan/duration.js';
import type { VmResult } from './outcomes.js';
import type { RunReport } from './run-report.js';

/** Clocks of machines kept in sync by NTP differ by well under this. */
export const CLOCK_TOLERANCE_MS = 2000;

export interface BackwardTime {
  vm: string;
  /** e.g. "start accepted 1 min 39 s before the eviction". */
  what: string;
  byMs: number;
}

/** Each VM's moments, in the order they happen. */
const ORDER: [keyof VmResult, string][] = [
  ['evictedAt', 'the eviction'],
  ['deallocatedAt', 'the deallocation'],
  ['startAcceptedAt', 'start accepted'],
  ['runningAt', 'running'],
  ['healthyAt', 'healthy']
];

export function backwardTimes(report: RunReport): BackwardTime[] {
  const found: BackwardTime[] = [];
  const runBegan = Date.parse(report.startedAt ?? '');
  for (const r of report.results) {
    const moments = ORDER.flatMap(([key, name]) => {
      const at = Date.parse(String(r[key] ?? ''));
      return Number.isFinite(at) ? [{ name, at }] : [];
    });
    const backwards = (later: { name: string; at: number }, earlier: { name: string; at: number }) => {
      const byMs = earlier.at - later.at;
      if (byMs > CLOCK_TOLERANCE_MS)
        found.push({
          vm: r.name,
          what: `${later.name} ${formatDuration(byMs)} before ${earlier.name}`,
          byMs
        });
      return byMs > CLOCK_TOLERANCE_MS;
    };
    // Our moments (start accepted, running) against Azure's and each other. The eviction and the
    // deallocation are both Azure's, and an annotation's time is when it was emitted: not compared.
    // The first pair out of order names the VM's problem; one line per VM is enough.
    let reported = false;
    for (let i = 0; i < moments.length && !reported; i++)
      if (['start accepted', 'running', 'healthy'].includes(moments[i]!.name))
        for (let j = 0; j < i && !reported; j++) reported = backwards(moments[i]!, moments[j]!);
    const accepted = moments.find(m => m.name === 'start accepted');
    if (!reported && accepted && Number.isFinite(runBegan))
      backwards(accepted, { name: 'this run began', at: runBegan });
  }
  return found;
}
