/**
 * Random fleets and inputs for the property tests, the emulated Resource Graph over them, and the
 * design's eligibility rule written independently of the action's code (the oracle).
 */
import fc from 'fast-check';
import { buildVmQuery, type VmFilter, type VmRecord } from '../../src/discovery.js';
import { judge } from '../../src/eligibility.js';
import { runQuery } from '../emulator/kql.js';

export const SUBS = [
  '11111111-0000-4000-8000-000000000001',
  '22222222-0000-4000-8000-000000000002',
  '33333333-0000-4000-8000-000000000003'
];
const GROUPS = ['rg-a', 'RG-B', 'rg-c'];
const TAG_NAMES = ['AttemptRestartAfterEviction', 'attemptrestartafterEVICTION', 'Other'];
const TAG_VALUES = ['true', 'True', 'TRUE', 'false', 'yes'];

export const vmArb = fc.record({
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

export const inputsArb = fc.record({
  subscriptions: fc.subarray(SUBS),
  resourceGroups: fc.subarray(GROUPS.map(g => g.toLowerCase())),
  skipUserStopped: fc.boolean()
});

export type Inputs = { subscriptions: string[]; resourceGroups: string[]; skipUserStopped: boolean };
export type FleetVm = {
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

export function tables(fleet: FleetVm[]) {
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
export function oracle(v: FleetVm, i: Inputs): boolean {
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

/** Resource Graph over the fleet, as the action's lookups see it: its own query, evaluated for real. */
export function lookupOver(
  fleet: FleetVm[],
  subscriptions: string[]
): (filter: VmFilter) => Promise<VmRecord[]> {
  const t = tables(fleet);
  // Resource Graph's scope: the requested subscriptions, or all.
  const scoped = {
    resources: t.resources.filter(r => !subscriptions.length || subscriptions.includes(r.subscriptionId)),
    healthresources: t.healthresources
  };
  return async filter =>
    (runQuery(buildVmQuery(filter), scoped).rows as Record<string, unknown>[]).map(
      r =>
        ({
          ...r,
          tags: r.tags ?? {},
          annotationName: r.annotationName ?? '',
          annotationAt: r.annotationAt ?? ''
        }) as unknown as VmRecord
    );
}

export const TAG = { name: 'AttemptRestartAfterEviction', value: 'true' };

/** What the action's sweep decides: its query over the emulated tables, then its judge. */
export async function actionStarts(fleet: FleetVm[], i: Inputs): Promise<string[]> {
  const rows = await lookupOver(
    fleet,
    i.subscriptions
  )({ candidatesOnly: true, resourceGroups: i.resourceGroups, withAnnotations: i.skipUserStopped });
  return rows
    .filter(vm => judge(vm, { ...i, tag: TAG }).eligible)
    .map(vm => vm.id)
    .sort();
}

export const withIds = (vms: Omit<FleetVm, 'name' | 'id'>[]): FleetVm[] =>
  vms.map((v, n) => ({
    ...v,
    name: `vm-${n}`,
    id: `/subscriptions/${v.sub}/resourceGroups/${v.group}/providers/Microsoft.Compute/virtualMachines/vm-${n}`
  }));
