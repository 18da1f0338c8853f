/**
 * A 10 000-VM sweep, run by the emulated runner as GitHub runs it, with Azure's throttling on: its
 * job summary and outputs stay within GitHub's limits (the runner enforces them), and the result
 * file holds every VM the run reported.
 *
 * Most evicted VMs here are on a size no region offers, so their start fails at once: that keeps
 * the run short (a started VM must be polled, and polling is paced in real time) while the report
 * carries thousands of VMs that need a person.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { JOB_OUTPUTS_MAX_UTF16_BYTES, STEP_SUMMARY_MAX_BYTES } from '../../src/report/github-limits.js';
import type { VmResult } from '../../src/report/outcomes.js';
import type { RunRecord } from '../emulator/github/runner.js';
import { scaleFleet } from '../emulator/fleets/scale-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { emulator, leakedSecrets, TEST_WORKFLOWS } from './harness.js';

const fleet = scaleFleet(10_000, 10, { evicted: 0.3, unavailable: 0.95, secret: 'large-fleet-secret' });
// At time scale 1000 each real second of the sweep's own work is 1000 s on the job's clock: the
// job gets the emulated hours its real minute or two amounts to, not GitHub's default 6.
fleet.github = { repository: 'acme/spot-fleet', ...fleet.github, vars: { TIMEOUT_MINUTES: '6000' } };

describe('a 10 000-VM sweep', () => {
  let emu: Emulator;
  let run: RunRecord;
  let file: { vms: VmResult[]; counts: Record<string, number> };

  beforeAll(async () => {
    emu = await emulator(fleet, { timeScale: 1000, workflowsDir: TEST_WORKFLOWS });
    [run] = (await emu.schedule('restart-with-vars.yml')) as [RunRecord];
    file = JSON.parse(readFileSync(run.outputs['result-file']!, 'utf8'));
  }, 300_000);
  afterAll(async () => {
    expect(leakedSecrets(emu)).toEqual([]);
    await emu.stop();
  });

  test('breaks none of GitHub’s limits', () => {
    expect(run.limitErrors).toEqual([]);
    expect(run.summaryBytes).toBeLessThanOrEqual(STEP_SUMMARY_MAX_BYTES);
    expect(run.outputBytes).toBeLessThanOrEqual(JOB_OUTPUTS_MAX_UTF16_BYTES);
    expect(run.exitCode).toBe(0);
  });

  test('the result file holds every VM the sweep reported, once', () => {
    const userStopped = fleet.vms.filter(v => v.annotation === 'VirtualMachineDeallocationInitiated');
    const names = file.vms.map(v => v.name).sort();
    expect(names).toEqual([...fleet.eligible, ...userStopped.map(v => v.name)].sort());
    const started = file.vms.filter(v => v.outcome === 'started').map(v => v.name);
    expect(started.length).toBeGreaterThan(0);
    for (const name of started) expect(emu.vm(name).startsAccepted).toBe(1);
    expect(file.counts['capacity-unavailable']! + file.counts.started!).toBe(fleet.eligible.length);
  });

  test('outputs: counts complete, result shortened to the VMs that need a person and pointing at the file', () => {
    expect(JSON.parse(run.outputs.counts!)).toEqual(file.counts);
    const result = JSON.parse(run.outputs.result!);
    expect(result).toMatchObject({ complete: false, resultFile: run.outputs['result-file'] });
    expect(result.omitted).toBe(file.vms.length - result.vms.length);
    expect(result.vms.length).toBeGreaterThan(0);
    expect(new Set(result.vms.map((v: VmResult) => v.outcome))).toEqual(new Set(['capacity-unavailable']));
    // A shortened list is a prefix of the whole, never a guess.
    const capacity = JSON.parse(run.outputs['capacity-unavailable']!) as string[];
    const all = file.vms.filter(v => v.outcome === 'capacity-unavailable').map(v => v.id);
    expect(all.slice(0, capacity.length)).toEqual(capacity);
    expect(run.log).toContain('Outputs shortened');
  });

  test('the summary opens with the counts, groups the problems before the started VMs, and stays small', () => {
    const s = run.summary;
    const capacity = file.counts['capacity-unavailable']!;
    expect(s.split('\n')[2]).toContain(`${capacity.toLocaleString('en-US')} capacity-unavailable`);
    // One group per size and region, however many VMs are in it: a page that does not grow with the fleet.
    expect(s).toMatch(/### Needs attention: [\d,]+ VMs in 2 groups/);
    expect(s.indexOf('### Needs attention')).toBeLessThan(s.indexOf('### Started'));
    expect(s.match(/is currently not available in location/g)?.length).toBe(2);
    expect(run.summaryBytes).toBeLessThan(256 * 1024);
    // Every started VM is listed, with how it came back.
    expect(s).toContain(`### Started: ${file.counts.started} VMs`);
    expect(s.split('\n').filter(l => l.includes('| evicted: VirtualMachinePreempted'))).toHaveLength(
      file.counts.started!
    );
    // At most ten annotations, one per group.
    expect(run.log.split('\n').filter(l => /^::(error|warning)/.test(l)).length).toBeLessThanOrEqual(10);
  });
});
