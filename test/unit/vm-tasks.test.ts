/**
 * One piece of work per VM at a time, whichever source names it; an outcome that may still change
 * (awaiting evidence) can be taken again, any other is final for the run.
 */
import { describe, expect, test } from '@jest/globals';
import { VmTasks } from '../../src/act/vm-tasks.js';
import type { Outcome, VmResult } from '../../src/report/outcomes.js';
import { virtualClock } from '../helpers/virtual-clock.js';

const result = (name: string, outcome: Outcome) => ({ id: name, name, outcome }) as VmResult;

describe('VM tasks', () => {
  test('a VM under way or settled is not taken again; awaiting-evidence is', async () => {
    const clock = virtualClock();
    const seen: string[] = [];
    const tasks = new VmTasks(clock, r => seen.push(`${r.name}:${r.outcome}`));
    let finish!: (r: VmResult) => void;
    expect(tasks.take('a', () => new Promise(r => (finish = r)))).toBe(true);
    expect(tasks.take('a', async () => result('a', 'started'))).toBe(false);
    expect(tasks.take('b', async () => result('b', 'awaiting-evidence'))).toBe(true);
    expect(tasks.take('c', async () => result('c', 'capacity-unavailable'))).toBe(true);
    await clock.advance(0);
    expect(tasks.take('b', async () => result('b', 'started'))).toBe(true);
    expect(tasks.take('c', async () => result('c', 'started'))).toBe(false);
    finish(result('a', 'started'));
    await tasks.settled();
    expect(
      tasks
        .results()
        .map(r => `${r.name}:${r.outcome}`)
        .sort()
    ).toEqual(['a:started', 'b:started', 'c:capacity-unavailable']);
    expect(seen).toContain('b:awaiting-evidence');
  });

  test('idleWithin returns as soon as the last task ends, or when the time is up', async () => {
    const clock = virtualClock();
    const tasks = new VmTasks(clock, () => undefined);
    let finish!: (r: VmResult) => void;
    tasks.take('a', () => new Promise(r => (finish = r)));
    let idle = false;
    void tasks.idleWithin(30_000).then(() => (idle = true));
    await clock.advance(10_000);
    expect(idle).toBe(false);
    finish(result('a', 'started'));
    await clock.advance(0);
    expect(idle).toBe(true);
  });

  test('work that throws fails the run when it is settled, as a thrown start always did', async () => {
    const tasks = new VmTasks(virtualClock(), () => undefined);
    tasks.take('a', async () => {
      throw new Error('Resource Graph is down');
    });
    await expect(tasks.settled()).rejects.toThrow('Resource Graph is down');
  });
});
