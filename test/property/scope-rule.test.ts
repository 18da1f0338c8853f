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
import { buildVmQuery, type VmRecord } from '../../src/discovery.js';
import { judge } from '../../src/eligibility.js';
import { runQuery } from '../emulator/kql.js';

const SUBS = [
  '11111111-0000-4000-8000-000000000001',
  '22222222-0000-4000-8000-000000000002',
  '33333333-0000-4000-8000-000000000003'
];
const GROUPS = ['rg-a', 'RG-B', 'rg-c'];
const TAG_NAMES = ['AttemptRestartAfterEviction', 'attemptrestartafterEVICTION', 'Other'];
const TAG_VALUES = ['true', 'True', 'TRUE', 'false', 'yes'];

const vmArb = fc.record({
  sub: fc.constantFrom(...SUBS),
  group: fc.constantFrom(...GROUPS),
  priority: fc.constantFrom('Spot', 'Regular', 'Low'),
  evictionPolicy: fc.constantFrom('Deallocate', 'Delete', ''),
  power: fc.constantFrom('deallocated', 'running', 'deallocating', 'stopped', 'starting'),
  tag: fc.option(fc.record({ name: fc.constantFrom(...TAG_NAMES), value: fc.constantFrom(...TAG_VALUES) }), {
    nil: undefined
  }),
  annotation: fc.constantFrom('', 'VirtualMachinePreempted', 'VirtualMachineDeallocationInitiated')
});

const inputsArb = fc.record({
  subscriptions: fc.subarray(SUBS),
  resourceGroups: fc.subarray(GROUPS.map(g => g.toLowerCase())),
  skipUserStopped: fc.boolean()
});

type Inputs = { subscriptions: string[]; resourceGroups: string[]; skipUserStopped: boolean };
type FleetVm = {
  sub: string;
  group: string;
  priority: string;
  evictionPolicy: string;
  power: string;
  tag?: { name: string; value: string };
  annotation: string;
  name: string;
  id: string;
};

function tables(fleet: FleetVm[]) {
  return {
    resources: fleet.map(v => ({
      id: v.id,
      name: v.name,
      type: 'microsoft.compute/virtualmachines',
      resourceGroup: v.group.toLowerCase(),
      subscriptionId: v.sub,
      location: 'eastus',
      tags: v.tag ? { [v.tag.name]: v.tag.value } : {},
      properties: {
        priority: v.priority,
        ...(v.evictionPolicy ? { evictionPolicy: v.evictionPolicy } : {}),
        hardwareProfile: { vmSize: 'Standard_D2s_v5' },
        billingProfile: { maxPrice: -1 },
        extended: { instanceView: { powerState: { code: `PowerState/${v.power}` } } }
      }
    })),
    healthresources: fleet
      .filter(v => v.annotation)
      .map(v => ({
        id: `${v.id}/providers/Microsoft.ResourceHealth/resourceAnnotations/current`,
        type: 'microsoft.resourcehealth/resourceannotations',
        subscriptionId: v.sub,
        properties: {
          targetResourceId: v.id,
          annotationName: v.annotation,
          occurredTime: '2026-11-21T00:00:00Z'
        }
      }))
  };
}

/** The design's rule (design §2, the action issue §4–5), written without the action's code. */
function oracle(v: FleetVm, i: Inputs): boolean {
  return (
    v.priority === 'Spot' &&
    v.evictionPolicy === 'Deallocate' &&
    v.power === 'deallocated' &&
    !!v.tag &&
    v.tag.name.toLowerCase() === 'attemptrestartaftereviction' &&
    v.tag.value.toLowerCase() === 'true' &&
    (i.subscriptions.length === 0 || i.subscriptions.includes(v.sub)) &&
    (i.resourceGroups.length === 0 || i.resourceGroups.includes(v.group.toLowerCase())) &&
    !(i.skipUserStopped && v.annotation === 'VirtualMachineDeallocationInitiated')
  );
}

/** What the action's sweep decides: its query over the emulated tables, then its judge. */
function actionStarts(fleet: FleetVm[], i: Inputs): string[] {
  const query = buildVmQuery({
    candidatesOnly: true,
    resourceGroups: i.resourceGroups,
    withAnnotations: i.skipUserStopped
  });
  const t = tables(fleet);
  // Resource Graph's scope: the requested subscriptions, or all.
  const scoped = {
    resources: t.resources.filter(r => !i.subscriptions.length || i.subscriptions.includes(r.subscriptionId)),
    healthresources: t.healthresources
  };
  const rows = runQuery(query, scoped).rows as Record<string, unknown>[];
  const settings = { ...i, tag: { name: 'AttemptRestartAfterEviction', value: 'true' } };
  return rows
    .map(
      r =>
        ({
          ...r,
          tags: r.tags ?? {},
          annotationName: r.annotationName ?? '',
          annotationAt: r.annotationAt ?? ''
        }) as unknown as VmRecord
    )
    .filter(vm => judge(vm, settings).eligible)
    .map(vm => vm.id)
    .sort();
}

const withIds = (vms: Omit<FleetVm, 'name' | 'id'>[]): FleetVm[] =>
  vms.map((v, n) => ({
    ...v,
    name: `vm-${n}`,
    id: `/subscriptions/${v.sub}/resourceGroups/${v.group}/providers/Microsoft.Compute/virtualMachines/vm-${n}`
  }));

describe('the scope rule', () => {
  test('the action starts exactly the eligible VMs, over 1000 random fleets and inputs', () => {
    fc.assert(
      fc.property(fc.array(vmArb, { maxLength: 25 }), inputsArb, (vms, inputs) => {
        const fleet = withIds(vms);
        const expected = fleet
          .filter(v => oracle(v, inputs))
          .map(v => v.id)
          .sort();
        expect(actionStarts(fleet, inputs)).toEqual(expected);
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
  ])('%s', (_, change, eligible) => {
    const [v] = withIds([{ ...base, ...change }]);
    expect(
      actionStarts([v!], { subscriptions: [], resourceGroups: ['rg-b'], skipUserStopped: true })
    ).toEqual(eligible ? [v!.id] : []);
  });
});
