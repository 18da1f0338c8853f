/**
 * Random fleets and inputs for the property tests, the emulated Resource Graph over them, and the
 * design's eligibility rule written independently of the action's code (the oracle).
 */
import fc from 'fast-check';
import { buildHistoryQuery, historyByVm, needsHistory } from '../../src/discover/annotation-history.js';
import { buildVmQuery, DOWN_STATES, type VmFilter, type VmRecord } from '../../src/discover/discovery.js';
import { judge, judgeDeallocation } from '../../src/judge/eligibility.js';
import { runQuery } from '../emulator/azure/kql.js';

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
 * How a VM came to be deallocated and what Azure has said about it by NOW:
 * - who took it down: an eviction, a person's deallocation, a person's stop followed by an
 *   eviction (the stopped VM kept its allocation), or the action's own revert (its deallocate,
 *   resize and a start that found no capacity, with the action's own record);
 * - how late each annotation arrives, or whether it never does; `occurredTime` is the emit time,
 *   up to a few minutes after the operation;
 * - whether the eviction moved the instance view's time (nothing published says it does);
 * - contradictory times: a person's deallocation with an instance view months older;
 * - an older annotation, and a person's change to the deallocated VM (resize, max price);
 * - the action's own earlier attempts: failed starts at random times (each annotated, the last
 *   one leaving `ProvisioningState/failed`), with its fallback resize or max-price raise.
 */
export const evidenceArb = fc.record({
  cause: fc.constantFrom('evicted', 'person', 'person-stop-then-evicted', 'own-revert'),
  elapsedMin: fc.integer({ min: 0, max: 40 }),
  lagMin: fc.integer({ min: 0, max: 10 }),
  emitMin: fc.integer({ min: 0, max: 3 }),
  missing: fc.boolean(),
  evictionMovesTime: fc.boolean(),
  instanceViewMonthsOld: fc.boolean(),
  ranForMin: fc.constantFrom(2, 8, 60, 3 * 1440),
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
  failedStartsAtMin: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 3 }),
  ownWrite: fc.constantFrom('none', 'resize', 'reprice'),
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

const START = 'VirtualMachineStartInitiatedByControlPlane';
export const OWN_TAG = 'SpotRestarterOwnOperations';

/** The VM's annotations, its instance view and the action's own record, as Azure would hold them at NOW. */
export function timeline(e: Evidence) {
  const deallocatedAt = NOW - e.elapsedMin * MIN;
  const all: TimedAnnotation[] = [];
  const ann = (name: string, who: 'customer' | 'platform', opAt: number, lag: number, missing = false) => {
    const occurred = opAt + e.emitMin * MIN;
    const a = { name, context: e.spelling[who], occurred, visibleAt: occurred + lag * MIN, missing };
    all.push(a);
    return a;
  };
  const evicted = e.cause !== 'person';
  // The VM ran before it went down: its start is annotated (the 14-day history keeps it).
  const startedAt = deallocatedAt - e.ranForMin * MIN;
  ann(START, 'customer', startedAt, 0);
  let lastUserOpEnd = startedAt + MIN;
  let cause: TimedAnnotation;
  const own: number[] = [];
  if (e.cause === 'person') {
    cause = ann('VirtualMachineDeallocationInitiated', 'customer', deallocatedAt - MIN, e.lagMin, e.missing);
    lastUserOpEnd = e.instanceViewMonthsOld ? deallocatedAt - 90 * 1440 * MIN : deallocatedAt;
  } else if (e.cause === 'person-stop-then-evicted') {
    const stoppedAt = startedAt + Math.max(1, Math.floor(e.ranForMin / 2)) * MIN;
    cause = ann('VirtualMachineStopInitiatedByControlPlane', 'customer', stoppedAt, e.lagMin, e.missing);
    lastUserOpEnd = stoppedAt + MIN;
    ann('VirtualMachinePreempted', 'platform', deallocatedAt - MIN / 2, e.lagMin);
  } else if (e.cause === 'own-revert') {
    // Its deallocate, resize and start all before `deallocatedAt`, when the revert gave up.
    own.push(deallocatedAt - 2 * MIN);
    cause = ann(
      'VirtualMachineDeallocationInitiated',
      'customer',
      deallocatedAt - 2 * MIN,
      e.lagMin,
      e.missing
    );
    lastUserOpEnd = deallocatedAt;
  } else {
    cause = ann('VirtualMachinePreempted', 'platform', deallocatedAt - MIN, e.lagMin, e.missing);
    if (e.evictionMovesTime) lastUserOpEnd = deallocatedAt;
  }
  if (e.prior === 'preempted-last-week') {
    ann('VirtualMachinePreempted', 'platform', startedAt - 7 * 1440 * MIN, 0);
    ann(START, 'customer', startedAt - 7 * 1440 * MIN + 30 * MIN, 0);
  }
  if (e.prior === 'person-two-days-ago') {
    ann('VirtualMachineDeallocationInitiated', 'customer', startedAt - 2 * 1440 * MIN, 0);
    ann(START, 'customer', startedAt - 2 * 1440 * MIN + 60 * MIN, 0);
  }
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
  if (later) lastUserOpEnd = Math.max(lastUserOpEnd, later.occurred - e.emitMin * MIN + MIN);
  // The action's own attempts: a start only when its rule would have started it then (the
  // eviction's evidence in, or the bound passed), each failing for capacity; the revert's start
  // failed right after its resize. The fallback's resize follows a failed start, the max-price
  // raise precedes one.
  const attempts = [...new Set(e.failedStartsAtMin)]
    .map(m => deallocatedAt + m * MIN)
    .filter(
      at =>
        at <= NOW &&
        (e.cause === 'own-revert' ||
          at >= deallocatedAt + BOUND_MIN * MIN ||
          (evicted && !cause.missing && at >= cause.visibleAt))
    )
    .filter(() => e.cause !== 'person' || e.missing)
    .sort((a, b) => a - b);
  if (e.cause === 'own-revert') attempts.unshift(deallocatedAt - MIN);
  let failedAt: number | undefined;
  attempts.forEach((at, i) => {
    if (i === 0 && e.ownWrite === 'reprice' && e.cause !== 'own-revert')
      ann('VirtualMachineConfigurationUpdated', 'customer', at - MIN / 2, e.lagMin);
    if (i === 0 && e.cause === 'own-revert')
      ann('VirtualMachineSizeChanged', 'customer', at - MIN / 4, e.lagMin);
    ann(START, 'customer', at, e.lagMin);
    failedAt = at + MIN / 6;
    if (i === 0 && e.ownWrite === 'resize' && e.cause !== 'own-revert') {
      ann('VirtualMachineSizeChanged', 'customer', at + MIN / 3, e.lagMin);
      ann(START, 'customer', at + MIN / 2, e.lagMin);
      failedAt = at + (2 * MIN) / 3;
    }
  });
  const arrived = (a: TimedAnnotation | undefined) => !!a && !a.missing && a.visibleAt <= NOW;
  const visible = all.filter(arrived).sort((a, b) => a.occurred - b.occurred);
  return {
    deallocatedAt,
    cause,
    later,
    arrived,
    visible,
    current: visible.at(-1),
    lastOperationEndedAt: failedAt !== undefined ? Math.min(failedAt, NOW) : lastUserOpEnd,
    lastOperationFailed: failedAt !== undefined ? 'AllocationFailed' : undefined,
    attempts: attempts.length,
    ownTag: own.length
      ? {
          [OWN_TAG]: own
            .map(at => `deallocate@${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')}`)
            .join(' ')
        }
      : {}
  };
}

/**
 * The evidence rule from the issue, written without the action's code: true, the VM must be
 * started; false, it must not; undefined, either is right. A VM whose last down-operation was a
 * person's, with that annotation in, is never started. A VM evicted (or deallocated by the
 * action's own revert) is started once its evidence is in, once the action has tried before, or
 * at the latest BOUND_MIN after the deallocation — or after a person's change to it while down,
 * whichever is later. A person's stop whose annotation is lost is the documented trade-off.
 */
export function evidenceAllows(e: Evidence): boolean | undefined {
  const t = timeline(e);
  // A person's deallocation that did not move the instance view's time (contradictory times),
  // whose annotation is still on its way, has no clock to wait on but its last start's.
  if (e.cause === 'person' && e.instanceViewMonthsOld && !t.arrived(t.cause)) return undefined;
  if (e.cause === 'person' || e.cause === 'person-stop-then-evicted') return e.missing ? undefined : false;
  if (e.cause === 'own-revert' || t.arrived(t.cause)) return true;
  // Its eviction's annotation lost, the action's failed starts since, and a person's stop in the
  // history: the order cannot tell the failed starts from a start that brought it up; the
  // person's word stands (the documented trade-off of a lost annotation).
  if (t.attempts > 0) return e.prior === 'person-two-days-ago' ? undefined : true;
  // A person's change to the deallocated VM moves the instance view's time, annotated or not.
  // The action knows its last start only by that annotation's occurredTime, the emit time (up to
  // emitMin after the start): a VM evicted sooner than that after its start is owed its start
  // once the bound has passed from then, not before.
  const startEmitted = t.deallocatedAt - e.ranForMin * MIN + e.emitMin * MIN;
  const quietFrom = Math.max(
    t.deallocatedAt,
    startEmitted,
    t.later ? t.later.occurred - e.emitMin * MIN + MIN : 0
  );
  return NOW - quietFrom >= BOUND_MIN * MIN ? true : undefined;
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
      tags: {
        ...(v.tag ? { [v.tag.name]: v.tag.value } : {}),
        ...(v.evidence ? timeline(v.evidence).ownTag : {})
      },
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
      (v.evidence
        ? evidenceAllows(v.evidence) === false
        : v.annotation === 'VirtualMachineDeallocationInitiated')
    )
  );
}

/** VMs whose verdict the oracle leaves open (either is right): compared on the rest only. */
export function undetermined(v: FleetVm, i: Inputs): boolean {
  return i.skipUserStopped && !!v.evidence && evidenceAllows(v.evidence) === undefined;
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
      const t = truth.evidence && timeline(truth.evidence);
      const facts = t
        ? {
            lastOperationEndedAt: t.lastOperationEndedAt,
            lastOperationFailed: t.lastOperationFailed,
            now: NOW
          }
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
