/**
 * A mass eviction against the strict emulated GitHub, at a time scale: the agents of a pool's VMs
 * report a wave within a minute, capacity comes back in steps, two VMs elsewhere go unreported,
 * and workflows-examples/restart-on-eviction.yml with dist/index.js takes it — every opted-in VM
 * running at the end, nothing else started, one job at a time, and the minutes of about one run.
 */
import { describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { runWave } from '../emulator/scenarios/wave-scenario.js';

const WORKFLOW = fileURLToPath(new URL('../../workflows-examples/restart-on-eviction.yml', import.meta.url));

describe('a wave of evictions', () => {
  test('one run takes the wave: all back, no wrong start, one job, the minutes of one run', async () => {
    const wave = await runWave({
      workflow: WORKFLOW,
      waveVms: 24,
      elsewhere: 2,
      timeScale: 30,
      // Capacity back in 10 steps over 10 minutes; the workflow's schedule as it is (every 10).
      capacityReturnS: 600,
      capacitySteps: 10,
      maxS: 3600
    });
    // Final states: every opted-in VM running, the decoys (untagged, stopped by their owner) not.
    expect(wave.vms_left_down).toBe(0);
    expect(wave.wrong_starts).toBe(0);
    // Runs: one per accepted dispatch and schedule, GitHub cancelled all but the one in progress
    // and the last one pending; never more than one job at once.
    expect(wave.dispatches_lost).toBe(0);
    expect(wave.runs_blocked).toBe(0);
    expect(wave.runs - wave.runs_cancelled).toBeLessThanOrEqual(3);
    expect(wave.max_concurrent_jobs).toBe(1);
    expect(wave['429s']).toBe(0);
    // Billed minutes: the run that waited through the 11-minute recall, and a check or two after
    // it (at this time scale each real second of a process's own work bills 30 emulated seconds).
    expect(wave.billed_minutes).toBeLessThanOrEqual(20);
    expect(wave.billed_minutes).toBeGreaterThanOrEqual(11);
  }, 180_000);
});
