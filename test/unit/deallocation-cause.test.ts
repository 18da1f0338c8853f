/**
 * The cause of a deallocation, from Microsoft's documented behaviour: annotations that arrive
 * minutes late or never, one current annotation replaced by later customer operations, the
 * history in HealthResourceChanges, two spellings of `context`, and the agent's Preempt.
 */
import { describe, expect, test } from '@jest/globals';
import { initiator, type AnnotationEvidence } from '../../src/discover/annotations.js';
import { deallocationCause, type DeallocationEvidence } from '../../src/judge/deallocation-cause.js';

const T = Date.parse('2026-11-22T10:00:00Z');
const min = 60_000;
const at = (m: number) => T + m * min;
const a = (name: string, m: number, context?: string): AnnotationEvidence => ({ name, at: at(m), context });
const PREEMPTED = 'VirtualMachinePreempted';
const USER = 'VirtualMachineDeallocationInitiated';
const START = 'VirtualMachineStartInitiatedByControlPlane';
const RESIZE = 'VirtualMachineSizeChanged';
const CONFIG = 'VirtualMachineConfigurationUpdated';
const rules = (nowMinutes: number) => ({ now: at(nowMinutes), startWithoutEvidenceAfterMs: 15 * min });

type Case = [string, DeallocationEvidence, number, 'evicted' | 'person' | 'unknown'];

// The deallocation ended at T (minute 0) unless a case says otherwise; "now" is the third column.
const cases: Case[] = [
  [
    'an eviction whose annotation has arrived',
    { lastOperationEndedAt: at(0), current: a(PREEMPTED, -1, 'Platform Initiated') },
    1,
    'evicted'
  ],
  [
    "a person's deallocation whose annotation has arrived",
    { lastOperationEndedAt: at(0), current: a(USER, -1, 'Customer Initiated') },
    1,
    'person'
  ],
  [
    'the other spelling of the contexts changes nothing',
    { lastOperationEndedAt: at(0), current: a(USER, -1, 'User-initiated') },
    1,
    'person'
  ],
  [
    "a person deallocated it, the sweep runs before the annotation: last week's Preempted is stale",
    { lastOperationEndedAt: at(0), current: a(PREEMPTED, -7 * 24 * 60) },
    2,
    'unknown'
  ],
  [
    'evicted, restarted, then a person deallocated it; the new annotation is late',
    { lastOperationEndedAt: at(0), current: a(START, -3) },
    2,
    'unknown'
  ],
  ['no annotation at all yet, within the bound', { lastOperationEndedAt: at(0) }, 4, 'unknown'],
  [
    'no annotation at all after the bound (annotations can go missing)',
    { lastOperationEndedAt: at(0) },
    16,
    'evicted'
  ],
  [
    'only a stale annotation after the bound',
    { lastOperationEndedAt: at(0), current: a(PREEMPTED, -3 * 24 * 60) },
    20,
    'evicted'
  ],
  [
    "a person's stop whose annotation arrived is never overruled by the bound",
    { lastOperationEndedAt: at(0), current: a(USER, -2) },
    24 * 60,
    'person'
  ],
  [
    'a person resized it after deallocating: the history shows the deallocation',
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
    {
      lastOperationEndedAt: at(5),
      current: a(CONFIG, 4),
      history: [a(PREEMPTED, -30 * 24 * 60), a(USER, -1), a(CONFIG, 4)]
    },
    40,
    'person'
  ],
  [
    'resized after an eviction: the history shows the eviction',
    { lastOperationEndedAt: at(3), current: a(RESIZE, 2), history: [a(PREEMPTED, -1), a(RESIZE, 2)] },
    4,
    'evicted'
  ],
  [
    'resized while deallocated, the history has not got the cause: a person touched it, do not start',
    { lastOperationEndedAt: at(3), current: a(RESIZE, 2), history: [a(RESIZE, 2)] },
    60,
    'person'
  ],
  [
    'an old resize, then an unexplained deallocation: not a change to the deallocated VM',
    { lastOperationEndedAt: at(0), current: a(RESIZE, -5 * 24 * 60) },
    5,
    'unknown'
  ],
  [
    'the agent saw the Preempt: evicted at once, before any annotation',
    { lastOperationEndedAt: at(0), current: a(START, -60), agentPreemptAt: at(-1) },
    0.5,
    'evicted'
  ],
  [
    'the agent saw the Preempt, but a person deallocated it during the notice',
    { lastOperationEndedAt: at(0), current: a(USER, -0.5), agentPreemptAt: at(-1) },
    1,
    'person'
  ],
  [
    "a person's stop older than the agent's Preempt does not count",
    { lastOperationEndedAt: at(0), current: a(USER, -60 * 24), agentPreemptAt: at(-1) },
    1,
    'evicted'
  ],
  [
    'an agent event from another eviction long ago is no evidence',
    { lastOperationEndedAt: at(0), agentPreemptAt: at(-3 * 60) },
    1,
    'unknown'
  ],
  ['an operation is under way: the instance view shows no time', { current: a(PREEMPTED, -1) }, 1, 'unknown']
];

describe('deallocationCause', () => {
  test.each(cases)('%s', (_name, evidence, now, expected) => {
    expect(deallocationCause(evidence, rules(now)).cause).toBe(expected);
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
      'VirtualMachineDeallocationInitiated at 2026-11-22T09:59:00Z, by a user or script'
    );
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
