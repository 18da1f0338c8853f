/** The agent's note when the VM boots again after an eviction it saw: from its own state file, no request. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { backAfterEviction } from '../../agent/src/back-after-eviction.js';
import { EventState } from '../../agent/src/state.js';

const PREEMPT_SEEN = Date.parse('2026-11-21T12:00:00Z');

describe('back after an eviction', () => {
  test('booted after the Preempt on record: how long until the boot, and until the agent watched again', () => {
    const now = PREEMPT_SEEN + 200_000;
    expect(backAfterEviction({ eventId: 'e1', status: 'dispatched', seenAt: PREEMPT_SEEN }, now, 80)).toEqual(
      {
        eventId: 'e1',
        status: 'dispatched',
        seenAt: '2026-11-21T12:00:00.000Z',
        bootedAt: '2026-11-21T12:02:00.000Z',
        downToBootS: 120,
        downToAgentS: 200
      }
    );
  });

  test('the agent restarted on a machine that never went down: nothing to say', () => {
    expect(
      backAfterEviction(
        { eventId: 'e1', status: 'dispatched', seenAt: PREEMPT_SEEN },
        PREEMPT_SEEN + 60_000,
        3600
      )
    ).toBeUndefined();
    expect(backAfterEviction(undefined, PREEMPT_SEEN, 10)).toBeUndefined();
  });

  test('the state file keeps when an event was first seen, across its status changes, and older files still read', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'agent-state-')), 'state.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        events: { old: { status: 'dispatched', at: '2026-11-20T08:00:00.000Z' } }
      })
    );
    const state = new EventState(path);
    expect(state.lastSeen()).toEqual({
      eventId: 'old',
      status: 'dispatched',
      seenAt: Date.parse('2026-11-20T08:00:00.000Z')
    });
    state.set('NEW', 'pending');
    expect(state.lastSeen()).toMatchObject({ eventId: 'new', status: 'pending' });
    // An event first seen an hour ago, dispatched now: still seen an hour ago.
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const file = JSON.parse(readFileSync(path, 'utf8')) as { events: Record<string, { seenAt: string }> };
    file.events.new!.seenAt = hourAgo;
    writeFileSync(path, JSON.stringify(file));
    const reread = new EventState(path);
    reread.set('NEW', 'dispatched', 2);
    expect(new EventState(path).lastSeen()).toEqual({
      eventId: 'new',
      status: 'dispatched',
      seenAt: Date.parse(hourAgo)
    });
  });
});
