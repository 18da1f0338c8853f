/**
 * The rule that matters most, as a property (fast-check): over random fleets and random inputs,
 * the VMs the action would start are exactly those the design makes eligible — Spot, eviction
 * policy Deallocate, deallocated, tagged (any letter case), in the subscriptions and resource
 * groups in scope, and not deallocated by a user. The action's own query (src/discovery.ts) is
 * evaluated by the emulator's Resource Graph over the fleet, and its own judge decides; the oracle
 * below is written from the design, independently.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { actionStarts, inputsArb, oracle, SUBS, vmArb, withIds, type FleetVm } from './fleets.js';

describe('the scope rule', () => {
  test('the action starts exactly the eligible VMs, over 1000 random fleets and inputs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(vmArb, { maxLength: 25 }), inputsArb, async (vms, inputs) => {
        const fleet = withIds(vms);
        const expected = fleet
          .filter(v => oracle(v, inputs))
          .map(v => v.id)
          .sort();
        expect(await actionStarts(fleet, inputs)).toEqual(expected);
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
    ['a resource group in another letter case is in scope', { group: 'rg-b' }, true]
  ])('%s', async (_, change, eligible) => {
    const [v] = withIds([{ ...base, ...change }]);
    expect(
      await actionStarts([v!], { subscriptions: [], resourceGroups: ['rg-b'], skipUserStopped: true })
    ).toEqual(eligible ? [v!.id] : []);
  });
});
