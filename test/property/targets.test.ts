/**
 * A payload or a `vms` entry naming a VM never makes an ineligible VM eligible: over random fleets
 * and random names (in the fleet or not, in scope or not), the action's dispatch and `vms` paths
 * (src/judge/targets.ts, with Resource Graph emulated over the fleet) try to start exactly the named VMs
 * the design's rule allows. Power state is left to the start itself (it waits for deallocation).
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { judge } from '../../src/judge/eligibility.js';
import type { Settings } from '../../src/plan/inputs.js';
import { buildPayload } from '../../src/plan/payload.js';
import { parseVmResourceId } from '../../src/azure/resource-id.js';
import { handleDispatch, resolveTargets, startIfEligible, type Start } from '../../src/judge/targets.js';
import {
  inputsArb,
  lookupOver,
  oracle,
  SUBS,
  TAG,
  vmArb,
  withIds,
  type FleetVm,
  type Inputs
} from './fleets.js';

function settings(i: Inputs): Settings {
  return { ...i, tag: TAG, startWithoutEvidenceAfterMs: 15 * 60_000 } as unknown as Settings;
}

/** The fleet's annotations are dated 2026-11-21T00:00:00Z; the deallocations ended 5 minutes later. */
const DEALLOCATED_AT = Date.parse('2026-11-21T00:05:00Z');

/** A start that records what it was asked to start, after the recheck a real start runs. */
function recorder(): { start: Start; started: string[] } {
  const started: string[] = [];
  const start: Start = async (vm, source, _mode, decide) => {
    // Twenty minutes on: a VM with no annotation at all is past the no-evidence bound.
    const verdict = await decide({ lastOperationEndedAt: DEALLOCATED_AT, now: DEALLOCATED_AT + 20 * 60_000 });
    if (verdict.eligible) started.push(vm.id);
    return {
      id: vm.id,
      name: vm.name,
      resourceGroup: vm.resourceGroup,
      subscriptionId: vm.subscriptionId,
      outcome: verdict.eligible ? 'started' : verdict.outcome,
      detail: '',
      source,
      attempts: 1,
      durationMs: 0
    };
  };
  return { start, started };
}

/** Eligible by the design, power state aside (a dispatch arrives before the VM is down). */
const allowed = (v: FleetVm, i: Inputs) => oracle({ ...v, power: 'deallocated' }, i);

describe('named VMs', () => {
  test('a dispatch starts its VM only if the rule allows it; a user stop older than the Preempt does not count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(vmArb, { minLength: 1, maxLength: 12 }),
        inputsArb,
        fc.nat(),
        fc.boolean(),
        fc.boolean(),
        async (vms, inputs, pick, outsider, annotationAfterPreempt) => {
          const fleet = withIds(vms);
          const named = outsider
            ? `/subscriptions/${SUBS[pick % SUBS.length]}/resourceGroups/rg-elsewhere/providers/Microsoft.Compute/virtualMachines/not-in-fleet`
            : fleet[pick % fleet.length]!.id;
          // The fleet's annotations are dated 2026-11-21T00:00Z, its deallocations ended at 00:05; the
          // Preempt was seen before or after the annotation.
          const detectedAt = annotationAfterPreempt ? '2026-11-20T23:58:00Z' : '2026-11-21T00:04:00Z';
          const payload = buildPayload({
            vmResourceId: named,
            vmId: '8f2b6c0e-1c1f-4a3e-9f55-2b7c1d2a0e11',
            eventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123',
            eventType: 'Preempt',
            detectedAt
          });
          const { start, started } = recorder();
          await handleDispatch(payload, settings(inputs), lookupOver(fleet, inputs.subscriptions), start);
          const target = fleet.find(v => v.id === named);
          const userStopCounts = annotationAfterPreempt;
          const expected =
            target && allowed(userStopCounts ? target : { ...target, annotation: '' }, inputs)
              ? [target.id]
              : [];
          expect(started).toEqual(expected);
          expect(parseVmResourceId(named)).toBeDefined();
        }
      ),
      { numRuns: 500 }
    );
  });

  test('the vms input starts only the named VMs the rule allows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(vmArb, { minLength: 1, maxLength: 12 }),
        inputsArb,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        async (vms, inputs, picks, byName) => {
          const fleet = withIds(vms);
          const chosen = [...new Set(picks.map(p => fleet[p % fleet.length]!))];
          const targets = chosen.map(v =>
            byName
              ? { kind: 'name' as const, resourceGroup: v.group, name: v.name }
              : { kind: 'id' as const, ref: parseVmResourceId(v.id)! }
          );
          const s = settings(inputs);
          const { start, started } = recorder();
          const found = await resolveTargets(targets, s, lookupOver(fleet, inputs.subscriptions));
          for (const item of found)
            if (!('outcome' in item)) await startIfEligible(item, 'vms', judge(item, s), start, s);
          expect(started.sort()).toEqual(
            chosen
              .filter(v => allowed(v, inputs))
              .map(v => v.id)
              .sort()
          );
        }
      ),
      { numRuns: 500 }
    );
  });
});
