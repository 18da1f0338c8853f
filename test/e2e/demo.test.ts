/** The README's first command keeps its promise: every eligible VM running, every decoy untouched. */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from '@jest/globals';

describe('npm run demo -- --json', () => {
  test('prints one JSON object: all eligible VMs started, no decoy touched, the run green', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/emulator/demo.ts', '--json'], {
      encoding: 'utf8',
      timeout: 120_000
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const demo = JSON.parse(lines[0]!);
    expect(demo.eligible).toBeGreaterThanOrEqual(20);
    expect(demo.started).toBe(demo.eligible);
    expect(demo.decoys).toBeGreaterThan(0);
    expect(demo.decoys_touched).toBe(0);
    expect(demo.runs).toEqual([
      expect.objectContaining({ workflow: 'restart-on-schedule.yml', event: 'schedule', exitCode: 0 })
    ]);
  });
});
