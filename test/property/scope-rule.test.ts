/**
 * The rule that matters most, as a property (fast-check): over random fleets and random inputs,
 * the VMs the action would start are exactly those the design makes eligible — Spot, eviction
 * policy Deallocate, deallocated, tagged (any letter case), in the subscriptions and resource
 * groups in scope, and deallocated by an eviction as Azure's evidence shows it, with random
 * annotation lags and emit delays, missing annotations, older annotations, later customer
 * operations, the action's own writes and revert, failed starts at random times, evictions that do
 * not move the instance view's time, and contradictory times. The
 * action's own queries (src/discovery.ts, src/annotation-history.ts) are evaluated by the
 * emulator's Resource Graph over the fleet, and its own judges decide; the oracle (fleets.ts) is
 * written from the design and the issue, independently.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  actionStarts,
  evidenceAllows,
  evidenceArb,
  inputsArb,
  oracle,
  SUBS,
  undetermined,
  vmArb,
  withIds,
  type Evidence,
  type FleetVm
} from './fleets.js';

const withEvidence = fc
  .tuple(vmArb, fc.option(evidenceArb, { nil: undefined }))
  .map(([v, evidence]) => ({ ...v, evidence }));

function ev(change: Partial<Evidence>): Evidence {
  return {
    cause: 'evicted',
    elapsedMin: 5,
    lagMin: 0,
    emitMin: 0,
    missing: false,
    evictionMovesTime: true,
    instanceViewMonthsOld: false,
    ranForMin: 60,
    prior: 'none',
    laterOp: undefined,
    failedStartsAtMin: [],
    ownWrite: 'none',
    spelling: { customer: 'User-initiated', platform: 'Platform-Initiated' },
    ...change
  };
}

describe('the scope rule', () => {
  test('the action starts exactly the eligible VMs, over 1000 random fleets and inputs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(withEvidence, { maxLength: 25 }), inputsArb, async (vms, inputs) => {
        const fleet = withIds(vms);
        const open = new Set(fleet.filter(v => undetermined(v, inputs)).map(v => v.id));
        const expected = fleet
          .filter(v => !open.has(v.id) && oracle(v, inputs))
          .map(v => v.id)
          .sort();
        expect((await actionStarts(fleet, inputs)).filter(id => !open.has(id))).toEqual(expected);
      }),
      { numRuns: 1000 }
    );
  });

  test("never a VM whose last down-operation was a person's (but for a lost annotation); always an evicted one, in every run, once its evidence is in, the action has tried before, or the bound has passed; over 1000 random fleets", async () => {
    const base = {
      sub: SUBS[0]!,
      group: 'rg-a',
      priority: 'Spot',
      evictionPolicy: 'Deallocate',
      power: 'deallocated',
      tag: { name: 'AttemptRestartAfterEviction', value: 'true' },
      annotation: ''
    };
    const inputs = { subscriptions: [], resourceGroups: [], skipUserStopped: true };
    await fc.assert(
      fc.asyncProperty(fc.array(evidenceArb, { minLength: 1, maxLength: 20 }), async evidence => {
        const fleet = withIds(evidence.map(e => ({ ...base, evidence: e })));
        const started = new Set(await actionStarts(fleet, inputs));
        for (const v of fleet) {
          const e = v.evidence!;
          if (
            (e.cause === 'person' || e.cause === 'person-stop-then-evicted') &&
            evidenceAllows(e) !== undefined
          )
            expect([v.name, e.cause, started.has(v.id)]).toEqual([v.name, e.cause, false]);
          const allowed = evidenceAllows(e);
          if (allowed !== undefined) expect([v.name, started.has(v.id)]).toEqual([v.name, allowed]);
        }
      }),
      { numRuns: 1000 }
    );
  });

  // Counterexamples worth keeping as regression cases.
  const base = {
    sub: SUBS[0]!,
    group: 'RG-B',
    priority: 'Spot',
    evictionPolicy: 'Deallocate',
    power: 'deallocated',
    tag: { name: 'AttemptRestartAfterEviction', value: 'true' },
    annotation: ''
  };
  test.each<[string, Partial<FleetVm>, boolean]>([
    [
      'a tag name in another letter case still opts in',
      { tag: { name: 'attemptrestartafterEVICTION', value: 'TRUE' } },
      true
    ],
    ['a user-stopped VM is not started', { annotation: 'VirtualMachineDeallocationInitiated' }, false],
    ['no eviction policy is not Deallocate', { evictionPolicy: '' }, false],
    ['Low priority is not Spot', { priority: 'Low' }, false],
    ['a resource group in another letter case is in scope', { group: 'rg-b' }, true],
    [
      "deallocated by a person, annotation still on its way, last week's Preempted current",
      { evidence: ev({ cause: 'person', elapsedMin: 2, lagMin: 5, prior: 'preempted-last-week' }) },
      false
    ],
    [
      'deallocated by a person, then resized; both annotations in',
      {
        evidence: ev({
          cause: 'person',
          elapsedMin: 20,
          laterOp: { name: 'VirtualMachineSizeChanged', afterMin: 3, lagMin: 1, missing: false }
        })
      },
      false
    ],
    [
      'evicted, its annotation lost, 16 minutes on',
      { evidence: ev({ elapsedMin: 16, missing: true }) },
      true
    ],
    ['evicted, the other spelling of the context', { evidence: ev({ elapsedMin: 4, lagMin: 2 }) }, true]
  ])('%s', async (_, change, eligible) => {
    const [v] = withIds([{ ...base, ...change }]);
    expect(
      await actionStarts([v!], { subscriptions: [], resourceGroups: ['rg-b'], skipUserStopped: true })
    ).toEqual(eligible ? [v!.id] : []);
  });
});
