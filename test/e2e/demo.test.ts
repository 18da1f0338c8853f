/** The README's first command keeps its promise: every eligible VM running, every decoy untouched. */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from '@jest/globals';

describe('npm run demo -- --json', () => {
  test('prints one JSON object: the fast path and the sweep bring every eligible VM back, no decoy touched', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/emulator/demo.ts', '--json'], {
      encoding: 'utf8',
      timeout: 180_000
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const demo = JSON.parse(lines[0]!);
    expect(demo.eligible.length).toBeGreaterThanOrEqual(20);
    expect(demo.started).toEqual(expect.arrayContaining(demo.eligible));
    expect(demo.started).toHaveLength(demo.eligible.length);
    // Standalone VMs and the Uniform scale set's instances come back alike.
    expect(new Set(demo.eligible.map((v: { kind: string }) => v.kind))).toEqual(
      new Set(['vm', 'vmss-uniform'])
    );
    expect(demo.decoys).toBeGreaterThan(0);
    expect(demo.decoys_touched).toBe(0);
    expect(demo.started_twice).toBe(0);
    expect(demo.runs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          workflow: 'restart-on-eviction.yml',
          event: 'repository_dispatch',
          exitCode: 0
        }),
        expect.objectContaining({ workflow: 'restart-on-schedule.yml', event: 'schedule', exitCode: 0 })
      ])
    );
    // Act 3: back on a fallback size, then home again.
    expect(demo.fallback).toEqual({
      vm: 'batch-7',
      preferred: 'Standard_D4s_v5',
      used: 'Standard_D4as_v5',
      reverted: true
    });
    // The fast path: each agent's dispatch came before the eviction, the start after it.
    expect(demo.loop.length).toBeGreaterThan(0);
    for (const step of demo.loop) {
      expect(step.dispatched).toBeLessThan(step.deallocated);
      expect(step.startAccepted).toBeGreaterThanOrEqual(step.deallocated);
      expect(step.running).toBeGreaterThan(step.startAccepted);
      // verify-health: guest-agent in the example workflow: healthy after running, in the table and per VM.
      expect(step.healthy).toBeGreaterThan(step.running);
      expect(demo.vms.find((v: { name: string }) => v.name === step.vm).healthy).toBe(step.healthy);
      expect(step.runExitCode).toBe(0);
    }
  });
});
