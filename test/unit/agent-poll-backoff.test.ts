/**
 * How the agent waits between Scheduled Events polls while IMDS fails (agent/src/monitor.ts): it
 * backs off to a cap well inside an eviction's 30 s notice, and keeps polling however long the
 * outage lasts — the end-to-end test watches 30 s of an outage; this covers every length.
 */
import { describe, expect, test } from '@jest/globals';
import { MAX_BACKOFF_MS, nextPollMs } from '../../agent/src/monitor.js';

describe('the poll backoff', () => {
  test('no failure: the poll interval', () => {
    expect(nextPollMs(1000, 0)).toBe(1000);
  });

  test('doubles per failure from the poll interval, up to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6].map(f => nextPollMs(1000, f))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000
    ]);
    expect([1, 2, 3, 4, 5, 6].map(f => nextPollMs(200, f))).toEqual([200, 400, 800, 1600, 3200, 3200]);
  });

  test('an outage of any length: every wait is positive and at most the cap, so the agent never stops polling', () => {
    // A day of failures at the cap, and far past any count the agent could reach.
    for (const failures of [100, 8640, 1e6, Number.MAX_SAFE_INTEGER]) {
      const wait = nextPollMs(1000, failures);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(MAX_BACKOFF_MS);
    }
    expect(MAX_BACKOFF_MS).toBeLessThan(30_000);
  });
});
