/** Durations as a person reads them: one style, and no impossible value at any boundary. */
import { describe, expect, test } from '@jest/globals';
import { formatDuration, parseDuration } from '../../src/plan/duration.js';

describe('formatDuration', () => {
  test.each([
    [0, '0 ms'],
    [0.4, '0 ms'],
    [450, '450 ms'],
    [999.4, '999 ms'],
    [999.6, '1.0 s'],
    [1000, '1.0 s'],
    [9_949, '9.9 s'],
    [9_950, '10 s'],
    [9_999, '10 s'],
    [10_000, '10 s'],
    [59_499, '59 s'],
    [59_600, '1 min'],
    [60_000, '1 min'],
    [71_000, '1 min 11 s'],
    [119_600, '2 min'],
    [535_000, '8 min 55 s'],
    [3_599_400, '59 min 59 s'],
    [3_599_600, '1 h'],
    [3_600_000, '1 h'],
    [7_260_000, '2 h 1 min'],
    [7_289_000, '2 h 1 min'],
    [10_770_000, '3 h'],
    [86_400_000, '24 h']
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('a negative duration (times that run backwards) keeps its sign', () => {
    expect(formatDuration(-4_700)).toBe('−4.7 s');
  });

  test('what it prints, parseDuration reads back as the same duration, rounded', () => {
    for (const ms of [500, 1500, 45_000, 71_000, 7_260_000]) {
      const text = formatDuration(ms).replace(/ ?(ms|s|min|h)\b/g, (_, unit: string) =>
        unit === 'min' ? 'm' : unit
      );
      expect(parseDuration(text.replace(/\s+/g, ''))).toBe(ms);
    }
  });
});
