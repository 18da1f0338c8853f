/**
 * Random fleets and inputs for the property tests, the emulated Resource Graph over them, and the
 * design's eligibility rule written independently of the action's code (the oracle).
 */
import fc from 'fast-check';
import { buildHistoryQuery, historyByVm, needsHistory } from '../../src/discover/annotation-history.js';
import { buildVmQuery, DOWN_STATES, type VmFilter, type VmRecord } from '../../src/discover/discovery.js';
import { judge, judgeDeallocation } from '../../src/judge/eligibility.js';
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

const MIN = 60_000;
/** When the property tests' Resource Graph is asked (every VM's times are relative to it). */
export const NOW = Date.parse('2026-11-22T12:00:00Z');
export const BOUND_MIN = 15;

/**
 * How a VM came to be deallocated and what Azure has said about it by NOW: who deallocated it, how
 * late its annotation is (or whether it never comes), an older annotation, and a customer operation
 * on the deallocated VM a few minutes later (resize, max-price change) with its own annotation.
 */
export const evidenceArb = fc.record({
  cause: fc.constantFrom('evicted', 'person'),
  elapsedMin: fc.integer({ min: 0, max: 40 }),
  lagMin: fc.integer({ min: 0, max: 10 }),
  missing: fc.boolean(),
  prior: fc.constantFrom('none', 'preempted-last-week', 'person-two-days-ago', 'started-minutes-before'),
  laterOp: fc.option(
    fc.record({
      name: fc.constantFrom('VirtualMachineSizeChanged', 'VirtualMachineConfigurationUpdated'),
      afterMin: fc.integer({ min: 1, max: 5 }),
      lagMin: fc.integer({ min: 0, max: 10 }),
      missing: fc.boolean()
    }),
    { nil: undefined }
  ),
  spelling: fc.constantFrom(
    { customer: 'Customer Initiated', platform: 'Platform Initiated' },
    { customer: 'User-initiated', platform: 'Platform-Initiated' }
  )
});
export type Evidence = typeof evidenceArb extends fc.Arbitrary<infer T> ? T : never;

interface TimedAnnotation {
  name: string;
  context: string;
  occurred: number;
  visibleAt: number;
  missing: boolean;
}

/** The VM's annotations and the instance view's time, as Azure would hold them at NOW. */
export function timeline(e: Evidence) {
  const deallocatedAt = NOW - e.elapsedMin * MIN;
  const ann = (
    name: string,
    who: 'customer' | 'platform',
    occurred: number,
    lag: number,
    missing = false
  ) => ({
    name,
    context: e.spelling[who],
    occurred,
    visibleAt: occurred + lag * MIN,
    missing
  });
  const cause = ann(
    e.cause === 'evicted' ? 'VirtualMachinePreempted' : 'VirtualMachineDeallocationInitiated',
    e.cause === 'evicted' ? 'platform' : 'customer',
    deallocatedAt - MIN,
    e.lagMin,
    e.missing
  );
  const all: TimedAnnotation[] = [cause];
  if (e.prior === 'preempted-last-week')
    all.push(ann('VirtualMachinePreempted', 'platform', deallocatedAt - 7 * 1440 * MIN, 0));
  if (e.prior === 'person-two-days-ago')
    all.push(ann('VirtualMachineDeallocationInitiated', 'customer', deallocatedAt - 2 * 1440 * MIN, 0));
  if (e.prior === 'started-minutes-before')
    all.push(ann('VirtualMachineStartInitiatedByControlPlane', 'customer', deallocatedAt - 4 * MIN, 0));
  const later =
    e.laterOp && deallocatedAt + e.laterOp.afterMin * MIN <= NOW
      ? ann(
          e.laterOp.name,
          'customer',
          deallocatedAt + e.laterOp.afterMin * MIN,
          e.laterOp.lagMin,
          e.laterOp.missing
        )
      : undefined;
  if (later) all.push(later);
  const arrived = (a: TimedAnnotation | undefined) => !!a && !a.missing && a.visibleAt <= NOW;
  const visible = all.filter(arrived).sort((a, b) => a.occurred - b.occurred);
  return {
    cause,
    later,
    arrived,
    visible,
    current: visible.at(-1),
    lastOperationEndedAt: later ? later.occurred : deallocatedAt
  };
}

/**
 * The evidence rule from the issue, written without the action's code: a VM a person deallocated
 * is never started — except when its annotation never came and nothing else was heard of it for
 * BOUND_MIN (annotations can go missing; the documented trade-off); an evicted VM is started once
 * its annotation has arrived, or once BOUND_MIN has passed with no customer operation heard of.
 */
export function evidenceAllows(e: Evidence): boolean {
  const t = timeline(e);
  const quietSince = NOW - t.lastOperationEndedAt;
  const customerOpHeard = t.arrived(t.later);
  const boundPassed = !customerOpHeard && quietSince >= BOUND_MIN * MIN;
  if (e.cause === 'person') return e.missing && boundPassed;
  return t.arrived(t.cause) || boundPassed;
}

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
  evidence?: Evidence;
  name: string;
  id: string;
};

export function tables(fleet: FleetVm[]) {
  const annotationId = (v: FleetVm) =>
    `${v.id}/providers/Microsoft.ResourceHealth/resourceAnnotations/current`;
  const health = (v: FleetVm, name: string, occurredTime: string, context?: string) => ({
    id: annotationId(v),
    type: 'microsoft.resourcehealth/resourceannotations',
    subscriptionId: v.sub,
    properties: {
      targetResourceId: v.id,
      annotationName: name,
      occurredTime,
      ...(context ? { context } : {})
    }
  });
  return {
    resources: fleet.map(v => ({
      id: v.id,
      name: v.name,
      type: 'microsoft.compute/virtualmachines',
      resourceGroup: v.group.toLowerCase(),
      subscriptionId: v.sub,
      location: 'eastus',
      // Resource Graph's resources table always has a zones column (null for a regional VM).
      zones: null,
      tags: v.tag ? { [v.tag.name]: v.tag.value } : {},
      properties: {
        priority: v.priority,
        ...(v.evictionPolicy ? { evictionPolicy: v.evictionPolicy } : {}),
        hardwareProfile: { vmSize: 'Standard_D2s_v5' },
        billingProfile: { maxPrice: -1 },
        extended: { instanceView: { powerState: { code: `PowerState/${v.power}` } } }
      }
    })),
    healthresources: fleet.flatMap(v => {
      if (!v.evidence) return v.annotation ? [health(v, v.annotation, '2026-11-21T00:00:00Z')] : [];
      const current = timeline(v.evidence).current;
      return current
        ? [health(v, current.name, new Date(current.occurred).toISOString(), current.context)]
        : [];
    }),
    // One change per annotation that has arrived; a change lists only what changed, as Azure's do.
    healthresourcechanges: fleet.flatMap(v =>
      (v.evidence ? timeline(v.evidence).visible : []).map((a, i, list) => {
        const before = list[i - 1];
        const changes: Record<string, { newValue: string }> = {
          'properties.occurredTime': { newValue: new Date(a.occurred).toISOString() }
        };
        if (before?.name !== a.name) changes['properties.annotationName'] = { newValue: a.name };
        if (before?.context !== a.context) changes['properties.context'] = { newValue: a.context };
        return {
          id: `${annotationId(v)}/providers/Microsoft.Resources/changes/${i}`,
          type: 'microsoft.resources/changes',
          subscriptionId: v.sub,
          properties: {
            targetResourceId: annotationId(v),
            targetResourceType: 'microsoft.resourcehealth/resourceannotations',
            changeAttributes: { timestamp: new Date(a.visibleAt).toISOString() },
            changes
          }
        };
      })
    )
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
    !(
      i.skipUserStopped &&
      (v.evidence ? !evidenceAllows(v.evidence) : v.annotation === 'VirtualMachineDeallocationInitiated')
    )
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
    ...t,
    resources: t.resources.filter(r => !subscriptions.length || subscriptions.includes(r.subscriptionId))
  };
  return async filter =>
    (runQuery(buildVmQuery(filter), scoped).rows as Record<string, unknown>[]).map(
      r =>
        ({
          ...r,
          tags: r.tags ?? {},
          annotationName: r.annotationName ?? '',
          annotationAt: r.annotationAt ?? '',
          annotationContext: r.annotationContext || undefined
        }) as unknown as VmRecord
    );
}

export const TAG = { name: 'AttemptRestartAfterEviction', value: 'true' };

/**
 * What the action's sweep decides: its query over the emulated tables, the annotation history
 * where it reads one, its judge, then — for a VM whose instance view shows it deallocated — its
 * judgement of the deallocation's cause at NOW.
 */
export async function actionStarts(fleet: FleetVm[], i: Inputs): Promise<string[]> {
  const t = tables(fleet);
  const scoped = {
    ...t,
    resources: t.resources.filter(r => !i.subscriptions.length || i.subscriptions.includes(r.subscriptionId))
  };
  const rows = await lookupOver(
    fleet,
    i.subscriptions
  )({ candidatesOnly: true, resourceGroups: i.resourceGroups, withAnnotations: i.skipUserStopped });
  const down = rows.filter(vm => DOWN_STATES.includes(vm.powerState));
  const wanted = down.filter(needsHistory);
  if (i.skipUserStopped && wanted.length) {
    const history = historyByVm(
      runQuery(buildHistoryQuery(wanted.map(v => v.id)), scoped).rows as Record<string, unknown>[]
    );
    for (const vm of wanted) vm.history = history.get(vm.id.toLowerCase()) ?? [];
  }
  const settings = { ...i, tag: TAG, startWithoutEvidenceAfterMs: BOUND_MIN * MIN };
  return down
    .filter(vm => judge(vm, settings).eligible)
    .filter(vm => {
      const truth = fleet.find(v => v.id === vm.id)!;
      if (truth.power !== 'deallocated') return false; // the instance view: only deallocated VMs are started
      const facts = truth.evidence
        ? { lastOperationEndedAt: timeline(truth.evidence).lastOperationEndedAt, now: NOW }
        : { lastOperationEndedAt: Date.parse('2026-11-21T00:05:00Z'), now: NOW };
      return judgeDeallocation(vm, facts, settings).eligible;
    })
    .map(vm => vm.id)
    .sort();
}

export const withIds = (vms: Omit<FleetVm, 'name' | 'id'>[]): FleetVm[] =>
  vms.map((v, n) => ({
    ...v,
    name: `vm-${n}`,
    id: `/subscriptions/${v.sub}/resourceGroups/${v.group}/providers/Microsoft.Compute/virtualMachines/vm-${n}`
  }));
