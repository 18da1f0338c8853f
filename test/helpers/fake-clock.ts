import type { Clock } from '../../src/azure/retry.js';

/** A clock whose sleeps pass at once but still count as time (each one kept in `slept`). */
export function fakeClock(start = '2026-11-21T12:00:00Z'): Clock & { slept: number[] } {
  let now = Date.parse(start);
  const slept: number[] = [];
  return { slept, now: () => now, sleep: async ms => void (slept.push(ms), (now += ms)) };
}
