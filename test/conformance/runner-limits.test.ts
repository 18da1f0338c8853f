/**
 * The emulated runner is as strict as GitHub's about what a step hands back: a summary over 1 MiB
 * is not shown (with GitHub's own error), and outputs over 1 MB per job, counted in UTF-16, are lost.
 */
import { describe, expect, test } from '@jest/globals';
import { JOB_OUTPUTS_MAX_UTF16_BYTES, STEP_SUMMARY_MAX_BYTES } from '../../src/report/github-limits.js';
import { enforceLimits, type RunRecord } from '../emulator/runner.js';

function record(): RunRecord {
  return {
    id: 1,
    workflow: 'w.yml',
    event: 'schedule',
    exitCode: 0,
    outputs: {},
    summary: '',
    summaryPath: '',
    summaryBytes: 0,
    outputBytes: 0,
    largestOutputBytes: 0,
    limitErrors: [],
    log: '',
    startedAt: 0
  };
}

describe('the emulated runner enforces GitHub’s limits', () => {
  test('a summary of exactly 1 MiB is shown; one byte more is refused with GitHub’s message', () => {
    const fits = record();
    enforceLimits(fits, {}, Buffer.alloc(STEP_SUMMARY_MAX_BYTES, 'a'));
    expect(fits.limitErrors).toEqual([]);
    expect(fits.summary).toHaveLength(STEP_SUMMARY_MAX_BYTES);

    const over = record();
    enforceLimits(over, {}, Buffer.alloc(STEP_SUMMARY_MAX_BYTES + 1, 'a'));
    expect(over.summary).toBe('');
    expect(over.limitErrors).toEqual([
      expect.stringContaining(
        '$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got 1024k.'
      )
    ]);
    expect(over.log).toContain('##[error]$GITHUB_STEP_SUMMARY upload aborted');
  });

  test('outputs are counted in UTF-16: past 1 MB per job they are lost', () => {
    // Half a million characters is 1 MB in UTF-16 though only 0.5 MB in UTF-8.
    const half = JOB_OUTPUTS_MAX_UTF16_BYTES / 2;
    const fits = record();
    enforceLimits(fits, { a: 'x'.repeat(half - 1) }, Buffer.alloc(0));
    expect(fits.limitErrors).toEqual([]);
    expect(fits.outputs.a).toHaveLength(half - 1);
    expect(fits.largestOutputBytes).toBe(JOB_OUTPUTS_MAX_UTF16_BYTES);

    const over = record();
    enforceLimits(over, { a: 'x'.repeat(half / 2), b: 'y'.repeat(half / 2) }, Buffer.alloc(0));
    expect(over.outputs).toEqual({});
    expect(over.outputBytes).toBe(JOB_OUTPUTS_MAX_UTF16_BYTES + 4);
    expect(over.limitErrors).toEqual([expect.stringContaining("over GitHub's limit of 1000000 per job")]);
  });
});
