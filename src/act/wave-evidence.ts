/**
 * The wave as evidence for its own VMs. In a wave, many agents cannot report: GitHub refuses a
 * token's dispatches past 80 a minute, and the agents hold back once the wave is near that. Their
 * VMs are found by the sweep, deallocated, with no Resource Health annotation yet (it arrives
 * "within 5 minutes in general"): on evidence alone they would wait minutes for it while capacity
 * may already be back. But the agents that did report saw Azure preempt VMs of the same pool —
 * region, size, zone — in the same minutes. When at least three such reports bracket a VM's
 * deallocation, they stand for the annotation that is still on its way.
 *
 * This only ever answers "awaiting evidence": whatever Azure has already said (a person's stop, a
 * resize) was judged first and stands.
 */
import type { VmRecord } from '../discover/discovery.js';
import type { Decide, Verdict } from '../judge/eligibility.js';

/** Fewer reports than this are not a wave: one VM's eviction says nothing about its neighbours. */
export const MIN_REPORTS = 3;
/** Azure's notice is at most 30 s, and a deallocation takes a few minutes at most. */
const BEFORE_MS = 10 * 60_000;
/** Clocks of the agents and of Azure differ a little. */
const AFTER_MS = 60_000;

type Pool = Pick<VmRecord, 'location' | 'vmSize' | 'zone'>;
const poolKey = (vm: Pool) => `${vm.location}|${vm.vmSize}|${vm.zone ?? ''}`.toLowerCase();

export class WaveEvidence {
  private readonly reports = new Map<string, number[]>();

  /** An agent saw Preempt for this VM at `detectedAt`. */
  note(vm: Pool, detectedAt: number): void {
    if (Number.isNaN(detectedAt)) return;
    const key = poolKey(vm);
    this.reports.set(key, [...(this.reports.get(key) ?? []), detectedAt]);
  }

  /** The reports of the VM's pool that bracket a deallocation ended at `deallocatedAt`, if they are a wave. */
  vouch(vm: Pool, deallocatedAt: number | undefined): number[] | undefined {
    if (deallocatedAt === undefined) return undefined;
    const near = (this.reports.get(poolKey(vm)) ?? []).filter(
      at => at >= deallocatedAt - BEFORE_MS && at <= deallocatedAt + AFTER_MS
    );
    return near.length >= MIN_REPORTS ? near.sort((a, b) => a - b) : undefined;
  }

  /** `decide` as the judge has it, with the wave standing in for an annotation still on its way. */
  decide(vm: VmRecord, decide: Decide): Decide {
    return async facts => {
      const verdict: Verdict = await decide(facts);
      if (verdict.eligible || verdict.outcome !== 'awaiting-evidence') return verdict;
      const near = this.vouch(vm, facts.lastOperationEndedAt);
      if (!near) return verdict;
      const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
      return {
        eligible: true,
        because: `no Resource Health annotation yet, but agents saw Azure preempt ${near.length} VMs of its size (${vm.vmSize}) in ${vm.location} between ${iso(near[0]!)} and ${iso(near.at(-1)!)}`
      };
    };
  }
}
