/**
 * The wave as evidence: the agents' reports of a pool stand for the annotation a VM of the same
 * pool is still waiting for — only when at least three of them bracket its deallocation, and never
 * against what Azure has already said.
 */
import { describe, expect, test } from '@jest/globals';
import { MIN_REPORTS, WaveEvidence } from '../../src/act/wave-evidence.js';
import type { VmRecord } from '../../src/discover/discovery.js';
import type { Verdict } from '../../src/judge/eligibility.js';

const T = Date.parse('2026-11-21T12:00:00Z');
const pool = { location: 'eastus', vmSize: 'Standard_D4s_v5', zone: undefined };
const vm = { ...pool, name: 'lost-1' } as VmRecord;
const awaiting: Verdict = { eligible: false, outcome: 'awaiting-evidence', detail: 'no annotation yet' };

function wave(reports: number[], where = pool) {
  const w = new WaveEvidence();
  for (const at of reports) w.note(where, at);
  return w;
}

describe('wave evidence', () => {
  test.each([
    ['three reports in the minute before the deallocation', [T - 50_000, T - 40_000, T - 30_000], T, 3],
    ['two are not a wave', [T - 50_000, T - 40_000], T, undefined],
    [
      'reports long before the deallocation say nothing about it',
      [T - 20 * 60_000, T - 19 * 60_000, T - 18 * 60_000],
      T,
      undefined
    ],
    [
      'reports after it (beyond clock skew) do not explain it',
      [T + 2 * 60_000, T + 3 * 60_000, T + 4 * 60_000],
      T,
      undefined
    ],
    ['no deallocation time: nothing to bracket', [T - 50_000, T - 40_000, T - 30_000], undefined, undefined]
  ])('%s', (_why, reports, deallocatedAt, count) => {
    expect(wave(reports).vouch(pool, deallocatedAt)?.length).toBe(count);
  });

  test('only the same region, size and zone count', () => {
    const w = wave([T - 50_000, T - 40_000, T - 30_000], { ...pool, vmSize: 'Standard_D2s_v5' });
    expect(w.vouch(pool, T)).toBeUndefined();
    expect(MIN_REPORTS).toBe(3);
  });

  test('it answers only "awaiting evidence": a person’s stop, or any other verdict, stands', async () => {
    const w = wave([T - 50_000, T - 40_000, T - 30_000]);
    const facts = { lastOperationEndedAt: T, now: T + 60_000 };
    const vouched = await w.decide(vm, () => awaiting)(facts);
    expect(vouched).toEqual({
      eligible: true,
      because: expect.stringContaining(
        'agents saw Azure preempt 3 VMs of its size (Standard_D4s_v5) in eastus'
      )
    });
    const person: Verdict = {
      eligible: false,
      outcome: 'user-stopped',
      detail: 'VirtualMachineDeallocationInitiated'
    };
    expect(await w.decide(vm, () => person)(facts)).toBe(person);
    expect(await new WaveEvidence().decide(vm, () => awaiting)(facts)).toBe(awaiting);
  });
});
