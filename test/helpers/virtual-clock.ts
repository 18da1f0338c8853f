import type { Clock } from '../../src/azure/retry.js';

/** Emulated time that moves only when the test advances it. */
export type VirtualClock = Clock & {
  /** Calls `fn` once the clock is advanced `ms` past now: the timer the emulator's schedulers take. */
  after(ms: number, fn: () => void): undefined;
  /** Moves time on by `ms`, waking each sleeper and timer in the order its time comes. */
  advance(ms: number): Promise<void>;
};

/**
 * A clock whose time moves only when the test advances it, waking each sleeper in the order its
 * time comes (unlike fakeClock, where every sleep returns at once): for code whose waits overlap.
 */
export function virtualClock(start = Date.parse('2026-11-21T12:00:00Z')): VirtualClock {
  let now = start;
  let timers: { at: number; wake: () => void }[] = [];
  const settle = () => new Promise(r => setImmediate(r));
  const after = (ms: number, wake: () => void) => void timers.push({ at: now + Math.max(0, ms), wake });
  return {
    now: () => now,
    sleep: ms => new Promise<void>(wake => after(ms, wake)),
    after,
    async advance(ms: number) {
      const end = now + ms;
      await settle();
      for (;;) {
        const due = timers.filter(t => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter(t => t !== due);
        now = due.at;
        due.wake();
        await settle();
      }
      now = end;
      await settle();
    }
  };
}
