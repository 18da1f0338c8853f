/**
 * The cause of a deallocation, row by row from what Microsoft documents (and, where it is silent,
 * what the rule assumes, said as such). Sources, cited per row:
 *
 * - ANN: Microsoft Learn, "Resource Health virtual machine Health Annotations" — names; Preempted is
 *   "Platform Initiated"; DeallocationInitiated, StopInitiatedByControlPlane, StoppedInternally,
 *   SizeChanged, ConfigurationUpdated, StartInitiatedByControlPlane are "Customer Initiated", "as
 *   requested by an authorized user or process" (so the action's own writes produce them too).
 * - EMIT: "Health Resources events in Azure Event Grid": occurredTime is the "Timestamp when the
 *   annotation was emitted by the Azure platform" — it orders events, it is not the operation's start.
 * - STATES: "States and billing status of Azure Virtual Machines": the provisioning state is "the
 *   status of a user-initiated, control-plane operation"; `ProvisioningState/<state>[/<errorCode>]`.
 * - SILENT: nothing published says an eviction moves the ProvisioningState time: planned for both.
 * - FAILED: `ProvisioningState/failed/AllocationFailed` (level Error) beside a deallocated power
 *   state after a failed start: the observed form (public captures), not a Microsoft page.
 * - LAG: "VM availability information in Azure Resource Graph": annotations arrive "within 5
 *   minutes in general"; both spellings of context ("Customer Initiated" / "User-initiated").
 * - LOST: "HealthResources table in Resource Graph has missing entries".
 * - SPOT: "Use Azure Spot Virtual Machines" (an eviction deallocates the VM, "The VM will not be
 *   automatically re-started") with STATES' table: Stopped is "allocated on a host but not running
 *   … the result of invoking the PowerOff API operation or invoking shutdown from within the guest
 *   OS"; Deallocated "has released the lease on the underlying hardware". So a stopped VM still
 *   holds capacity that can be recalled; a deallocated one holds none.
 * - OWN: the action's own record (src/discover/own-record.ts), since no annotation names who acted.
 * - AGENT: the agent saw Preempt in Scheduled Events on the VM, which was running then.
 */
import { describe, expect, test } from '@jest/globals';
import { initiator, type AnnotationEvidence } from '../../src/discover/annotations.js';
import { deallocationCause, type DeallocationEvidence } from '../../src/judge/deallocation-cause.js';
import { OWN_RECORD_TAG, ownOperations, withOwnOperation } from '../../src/discover/own-record.js';

const T = Date.parse('2026-11-22T10:00:00Z');
const min = 60_000;
const day = 24 * 60;
const at = (m: number) => T + m * min;
const a = (name: string, m: number, context?: string): AnnotationEvidence => ({ name, at: at(m), context });
const PREEMPTED = 'VirtualMachinePreempted';
const USER = 'VirtualMachineDeallocationInitiated';
const STOP = 'VirtualMachineStopInitiatedByControlPlane';
const INSIDE = 'VirtualMachineStoppedInternally';
const START = 'VirtualMachineStartInitiatedByControlPlane';
const RESIZE = 'VirtualMachineSizeChanged';
const CONFIG = 'VirtualMachineConfigurationUpdated';
const rules = (nowMinutes: number) => ({ now: at(nowMinutes), startWithoutEvidenceAfterMs: 15 * min });

type Cause = 'evicted' | 'person' | 'own' | 'unknown';
/** [what happened, source, evidence, now (minutes after T), expected cause] */
type Row = [string, string, DeallocationEvidence, number, Cause];

const rows: Row[] = [
  // The plain cases.
  [
    'an eviction whose annotation has arrived',
    'ANN',
    { lastOperationEndedAt: at(-90), current: a(PREEMPTED, -1, 'Platform Initiated') },
    1,
    'evicted'
  ],
  [
    "a person's deallocation whose annotation has arrived",
    'ANN',
    { lastOperationEndedAt: at(0), current: a(USER, -1, 'Customer Initiated') },
    1,
    'person'
  ],
  [
    'the other spelling of the contexts changes nothing',
    'LAG',
    { lastOperationEndedAt: at(0), current: a(USER, -1, 'User-initiated') },
    1,
    'person'
  ],
  [
    "a person's stop whose annotation arrived is never overruled by the bound",
    'ANN, LOST',
    { lastOperationEndedAt: at(0), current: a(USER, -2) },
    day,
    'person'
  ],
  // Scenario 3: an eviction does not move the ProvisioningState time.
  [
    'evicted: the instance view still shows the start of months ago',
    'SILENT, STATES',
    { lastOperationEndedAt: at(-90 * day), current: a(PREEMPTED, 1) },
    2,
    'evicted'
  ],
  [
    're-evicted 10 minutes after its last start: the order says so',
    'SILENT, EMIT',
    { lastOperationEndedAt: at(-9), current: a(PREEMPTED, -2), history: [a(PREEMPTED, -60), a(START, -10)] },
    0,
    'evicted'
  ],
  [
    'evicted, and the eviction did move the time after all',
    'SILENT',
    { lastOperationEndedAt: at(0), current: a(PREEMPTED, -1) },
    1,
    'evicted'
  ],
  // Scenario 4: the latest thing Azure says is a person's deallocation.
  [
    "a person's deallocation an hour ago, the instance view's time months older",
    'ANN, STATES',
    { lastOperationEndedAt: at(-120 * day), current: a(USER, -60) },
    0,
    'person'
  ],
  [
    "contradictory order: a Preempt emitted after a person's deallocation of the VM",
    'ANN, SPOT',
    { lastOperationEndedAt: at(0), current: a(PREEMPTED, 2), history: [a(START, -60), a(USER, 1)] },
    3,
    'person'
  ],
  // Scenario 5: a person powered it off, then Azure evicted it.
  [
    'a person stopped it (still allocated), then it was evicted',
    'SPOT, ANN',
    { lastOperationEndedAt: at(-30), current: a(PREEMPTED, 0), history: [a(START, -2 * day), a(STOP, -31)] },
    1,
    'person'
  ],
  [
    'shut down from inside, then evicted',
    'ANN',
    { lastOperationEndedAt: at(-30), current: a(PREEMPTED, 0), history: [a(INSIDE, -31)] },
    1,
    'person'
  ],
  [
    "a person deallocated it two days ago; it was evicted now, so it ran since (that start's annotation is missing)",
    'SPOT, LOST',
    { lastOperationEndedAt: at(-2 * day), current: a(PREEMPTED, 0), history: [a(USER, -2 * day)] },
    1,
    'evicted'
  ],
  [
    'the workload shut the VM down from inside on the Preempt notice, then it was evicted',
    'ANN, SPOT',
    {
      lastOperationEndedAt: at(-60),
      current: a(PREEMPTED, 0),
      history: [a(START, -60), a(INSIDE, -0.5)]
    },
    1,
    'evicted'
  ],
  [
    'the agent saw the Preempt, and the workload shut the VM down from inside',
    'AGENT, ANN',
    { lastOperationEndedAt: at(-60), current: a(INSIDE, -0.5), agentPreemptAt: at(-1) },
    0,
    'evicted'
  ],
  [
    'a person stopped it, started it again, then it was evicted',
    'ANN',
    { lastOperationEndedAt: at(-20), current: a(PREEMPTED, 0), history: [a(STOP, -40), a(START, -21)] },
    1,
    'evicted'
  ],
  // Scenario 2: failed starts do not reset the clock.
  [
    'evicted, then a start failed for capacity 20 minutes later',
    'FAILED, STATES',
    {
      lastOperationEndedAt: at(20),
      lastOperationFailed: 'AllocationFailed',
      current: a(START, 19),
      history: [a(PREEMPTED, 0), a(START, 19)]
    },
    21,
    'evicted'
  ],
  [
    'several failed starts in a row, each annotated',
    'FAILED',
    {
      lastOperationEndedAt: at(60),
      lastOperationFailed: 'ZonalAllocationFailed',
      current: a(START, 59),
      history: [a(PREEMPTED, 0), a(START, 20), a(START, 40), a(START, 59)]
    },
    61,
    'evicted'
  ],
  [
    'a failed start and no annotation at all: whoever asked wanted it running',
    'FAILED, LOST',
    { lastOperationEndedAt: at(30), lastOperationFailed: 'AllocationFailed' },
    31,
    'evicted'
  ],
  [
    "a failed start, then a person's deallocation from before it arrives late",
    'FAILED, LAG',
    {
      lastOperationEndedAt: at(30),
      lastOperationFailed: 'AllocationFailed',
      current: a(START, 29),
      history: [a(USER, 0), a(START, 29)]
    },
    31,
    'person'
  ],
  // Scenario 1: the action's own writes.
  [
    'evicted 12 minutes before the action resized it (fallback) and started it on the new size, which failed too',
    'ANN, FAILED',
    {
      lastOperationEndedAt: at(13),
      lastOperationFailed: 'AllocationFailed',
      current: a(START, 12.5),
      history: [a(PREEMPTED, 0), a(START, 11), a(RESIZE, 12), a(START, 12.5)]
    },
    14,
    'evicted'
  ],
  [
    'evicted, then resized by hand: the resize does not change who took it down',
    'ANN',
    {
      lastOperationEndedAt: at(12),
      current: a(RESIZE, 12),
      history: [a(PREEMPTED, 0), a(RESIZE, 12)]
    },
    13,
    'evicted'
  ],
  [
    // The one place a write of the action still counts: its start was refused at once (no failed
    // state), so an annotated start stands before the resize, and the order cannot tell it failed.
    'a start, then the action resized it, and its next start was refused at once: the bound counts from the resize',
    'ANN, LOST',
    {
      lastOperationEndedAt: at(12),
      current: a(RESIZE, 12),
      history: [a(PREEMPTED, 0), a(START, 11), a(RESIZE, 12)]
    },
    13,
    'unknown'
  ],
  [
    'evicted 12 minutes before the action raised its max price',
    'ANN',
    { lastOperationEndedAt: at(12), current: a(CONFIG, 12), history: [a(PREEMPTED, 0), a(CONFIG, 12)] },
    60,
    'evicted'
  ],
  [
    'the revert deallocated it, resized it, and its start failed: the record says the deallocation was ours',
    'OWN, ANN',
    {
      lastOperationEndedAt: at(3),
      lastOperationFailed: 'AllocationFailed',
      current: a(START, 2),
      history: [a(START, -5 * day), a(USER, 0.5), a(RESIZE, 1), a(START, 2)],
      own: [{ kind: 'deallocate', at: at(0) }]
    },
    5,
    'own'
  ],
  [
    "the same without the record: a deallocation nobody claims is a person's",
    'ANN',
    {
      lastOperationEndedAt: at(3),
      lastOperationFailed: 'AllocationFailed',
      current: a(START, 2),
      history: [a(START, -5 * day), a(USER, 0.5), a(RESIZE, 1), a(START, 2)]
    },
    5,
    'person'
  ],
  [
    "a person deallocated it after the action's revert had started it",
    'OWN, ANN',
    {
      lastOperationEndedAt: at(90),
      current: a(USER, 89),
      history: [a(USER, 0.5), a(START, 2), a(USER, 89)],
      own: [{ kind: 'deallocate', at: at(0) }]
    },
    91,
    'person'
  ],
  [
    'a record does not claim a deallocation emitted long after it',
    'OWN, EMIT',
    { lastOperationEndedAt: at(60), current: a(USER, 59), own: [{ kind: 'deallocate', at: at(0) }] },
    61,
    'person'
  ],
  // Late and missing annotations.
  [
    "a person deallocated it, the sweep runs before the annotation: last week's Preempted is stale",
    'LAG, STATES',
    { lastOperationEndedAt: at(0), current: a(PREEMPTED, -7 * day) },
    2,
    'unknown'
  ],
  [
    'evicted, restarted, then a person deallocated it; the new annotation is late',
    'LAG',
    { lastOperationEndedAt: at(0), current: a(START, -3) },
    2,
    'unknown'
  ],
  [
    'after a start nothing says what took it down, past the bound',
    'LOST',
    { lastOperationEndedAt: at(0), current: a(START, -3) },
    16,
    'evicted'
  ],
  ['no annotation at all yet, within the bound', 'LAG', { lastOperationEndedAt: at(0) }, 4, 'unknown'],
  [
    'no annotation at all after the bound (annotations can go missing)',
    'LOST',
    { lastOperationEndedAt: at(0) },
    16,
    'evicted'
  ],
  [
    'only a stale annotation after the bound',
    'LOST',
    { lastOperationEndedAt: at(0), current: a(PREEMPTED, -3 * day) },
    20,
    'evicted'
  ],
  [
    'a person resized it after deallocating: the history shows the deallocation',
    'ANN',
    {
      lastOperationEndedAt: at(30),
      current: a(RESIZE, 29, 'User-initiated'),
      history: [a(USER, -1), a(RESIZE, 29)]
    },
    31,
    'person'
  ],
  [
    'a person changed its max price after deallocating: the history shows it',
    'ANN',
    {
      lastOperationEndedAt: at(5),
      current: a(CONFIG, 4),
      history: [a(PREEMPTED, -30 * day), a(START, -29 * day), a(USER, -1), a(CONFIG, 4)]
    },
    40,
    'person'
  ],
  [
    'resized while deallocated, the cause lost: the bound counts from before the resize',
    'LOST, ANN',
    { lastOperationEndedAt: at(3), current: a(RESIZE, 2), history: [a(RESIZE, 2)] },
    10,
    'unknown'
  ],
  [
    'resized while deallocated, the cause lost, past the bound',
    'LOST, ANN',
    { lastOperationEndedAt: at(3), current: a(RESIZE, 2), history: [a(RESIZE, 2)] },
    18,
    'evicted'
  ],
  [
    'an old resize, then an unexplained deallocation: not a change to the deallocated VM',
    'LAG',
    { lastOperationEndedAt: at(0), current: a(RESIZE, -5 * day) },
    5,
    'unknown'
  ],
  // The agent's Preempt (dispatch).
  [
    'the agent saw the Preempt: evicted at once, before any annotation',
    'AGENT, SILENT',
    { lastOperationEndedAt: at(-60 * day), current: a(START, -60 * day), agentPreemptAt: at(-1) },
    0.5,
    'evicted'
  ],
  [
    'the agent saw the Preempt, and the eviction moved the time',
    'AGENT, SILENT',
    { lastOperationEndedAt: at(0), agentPreemptAt: at(-1) },
    0.5,
    'evicted'
  ],
  [
    'the agent saw the Preempt, but a person deallocated it during the notice',
    'AGENT, ANN',
    { lastOperationEndedAt: at(0), current: a(USER, -0.5), agentPreemptAt: at(-1) },
    1,
    'person'
  ],
  [
    "a person's stop older than the agent's Preempt does not count",
    'AGENT',
    { lastOperationEndedAt: at(0), current: a(USER, -60 * 24), agentPreemptAt: at(-1) },
    1,
    'evicted'
  ],
  [
    'an agent event from another eviction long ago is no evidence',
    'AGENT, STATES',
    { lastOperationEndedAt: at(0), agentPreemptAt: at(-3 * 60) },
    1,
    'unknown'
  ],
  [
    'the VM came back after the agent saw the Preempt',
    'AGENT, ANN',
    { lastOperationEndedAt: at(0), current: a(START, -30), agentPreemptAt: at(-60) },
    1,
    'unknown'
  ],
  ['an operation under way and no annotation: the instance view shows no time', 'STATES', {}, 1, 'unknown']
];

describe('deallocationCause', () => {
  test.each(rows)('%s (%s)', (_name, _source, evidence, now, expected) => {
    expect(deallocationCause(evidence, rules(now)).cause).toBe(expected);
  });

  test('the order of the history rows does not matter', () => {
    const history = [a(STOP, -31), a(START, -2 * day), a(PREEMPTED, 0)];
    for (const order of [history, [...history].reverse(), [history[2]!, history[0]!, history[1]!]])
      expect(deallocationCause({ lastOperationEndedAt: at(-30), history: order }, rules(1)).cause).toBe(
        'person'
      );
  });

  test('awaiting evidence says how long it has waited', () => {
    const found = deallocationCause({ lastOperationEndedAt: at(0) }, rules(4));
    expect(found).toMatchObject({ cause: 'unknown', waitedMs: 4 * min });
    expect(found.because).toContain('deallocated 4 min ago');
  });

  test("a person's stop says who and when", () => {
    const found = deallocationCause(
      { lastOperationEndedAt: at(0), current: a(USER, -1, 'Customer Initiated') },
      rules(1)
    );
    expect(found.because).toBe(
      'VirtualMachineDeallocationInitiated at 2026-11-22T09:59:00Z, by a user or script, and no start since'
    );
  });

  test("scenario 5 says that the eviction came after the person's stop", () => {
    const found = deallocationCause(
      { lastOperationEndedAt: at(-30), current: a(PREEMPTED, 0), history: [a(STOP, -31, 'User-initiated')] },
      rules(1)
    );
    expect(found.because).toContain('the eviction at 2026-11-22T10:00:00Z came after it');
  });

  test('a failed start says so, and the bound is not counted from it', () => {
    const found = deallocationCause(
      { lastOperationEndedAt: at(30), lastOperationFailed: 'AllocationFailed' },
      rules(31)
    );
    expect(found.because).toContain('failed (AllocationFailed');
  });

  test('a start after the bound says why it had no evidence', () => {
    const found = deallocationCause({ lastOperationEndedAt: at(0) }, rules(16));
    expect(found.because).toContain('no Resource Health annotation, 16 min after the deallocation');
  });

  test('the eviction time comes from the annotation or the agent', () => {
    expect(
      deallocationCause({ lastOperationEndedAt: at(0), current: a(PREEMPTED, -1) }, rules(1))
    ).toMatchObject({
      evictedAt: at(-1)
    });
    expect(
      deallocationCause({ lastOperationEndedAt: at(0), agentPreemptAt: at(-2) }, rules(1))
    ).toMatchObject({
      evictedAt: at(-2)
    });
  });

  test.each([
    ['Customer Initiated', 'customer'],
    ['User-initiated', 'customer'],
    ['Platform Initiated', 'platform'],
    ['Platform-Initiated', 'platform'],
    ['VM Initiated', 'vm'],
    ['', 'unknown']
  ])('context %p is %p', (context, who) => {
    expect(initiator(context)).toBe(who);
  });
});

describe("the action's own record", () => {
  test('written with the other tags kept, read back, at most three entries under 14 days old', () => {
    let tags: Record<string, string> = { team: 'batch', SpotRestarterPreferredSize: 'Standard_D2s_v5' };
    for (const m of [-20 * day, -3 * day, -day, 0])
      tags = withOwnOperation(tags, { kind: 'deallocate', at: at(m) }, at(m));
    expect(tags).toMatchObject({ team: 'batch', SpotRestarterPreferredSize: 'Standard_D2s_v5' });
    expect(ownOperations(tags)).toEqual(
      [at(-3 * day), at(-day), at(0)].map(t => ({ kind: 'deallocate', at: t }))
    );
    expect(tags[OWN_RECORD_TAG]!.length).toBeLessThanOrEqual(256); // Azure's limit for a tag value
  });

  test('a tag name in another letter case is the same tag; entries that do not parse are ignored', () => {
    expect(
      ownOperations({ spotrestarterownoperations: 'deallocate@2026-11-22T10:00:00Z resize@x junk' })
    ).toEqual([{ kind: 'deallocate', at: T }]);
    expect(ownOperations({})).toEqual([]);
  });
});
