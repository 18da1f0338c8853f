/**
 * verify-health end to end: the bundle run by the emulator's runner starts evicted VMs and reads
 * their instance views until the guest agent is Ready or Application Health says healthy — or
 * reports them started-unhealthy with what Azure said.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FleetSpec, VmSpec } from '../emulator/fleets/fleet.js';
import { TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import type { VmResult } from '../../src/report/outcomes.js';
import { emulator, fleetOf, leakedSecrets, results, SUB, TEST_WORKFLOWS } from './harness.js';

/** VMs evicted ten minutes ago, with Azure's evidence in: a schedule run starts them at once. */
function fleet(
  vms: Partial<VmSpec>[],
  vars: Record<string, string>,
  extra: Partial<FleetSpec> = {}
): FleetSpec {
  return fleetOf(
    vms,
    {
      each: {
        resourceGroup: 'rg-web',
        powerState: 'deallocated',
        annotation: 'VirtualMachinePreempted',
        sinceMinutes: 10
      },
      name: i => `web-${i + 1}`,
      vars
    },
    extra
  );
}

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu)).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

const byName = (list: VmResult[]) => Object.fromEntries(list.map(r => [r.name, r]));

describe('verify-health', () => {
  test('guest-agent: Ready some seconds after running → started, with healthyAt after Azure said Ready', async () => {
    emu = await emulator(fleet([{}, {}], { VERIFY_HEALTH: 'guest-agent' }), { workflowsDir: TEST_WORKFLOWS });
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    const vms = byName(results(run));
    for (const name of ['web-1', 'web-2']) {
      const r = vms[name]!;
      expect(r).toMatchObject({ outcome: 'started', health: { check: 'guest-agent', state: 'healthy' } });
      expect(r.detail).toMatch(/; healthy \(guest-agent\) .* after it ran$/);
      // The old "Ready" from before the eviction was there the moment it ran: the run waited for the new one.
      const agentReadyAt = emu.clock.realAt(emu.vm(name).guest.agentTime);
      expect(Date.parse(r.healthyAt!)).toBeGreaterThanOrEqual(Math.floor(agentReadyAt));
      expect(Date.parse(r.healthyAt!)).toBeGreaterThanOrEqual(Date.parse(r.runningAt!));
      expect(r.health!.reads).toBeGreaterThanOrEqual(1);
    }
    // Each started VM says when it became healthy, in how it came back.
    expect(run!.summary).toMatch(/· healthy [^|]+ after running \|/);
  });

  test('guest-agent never Ready → started-unhealthy at health-timeout, with what the agent said', async () => {
    emu = await emulator(
      fleet([{ guestAgent: 'never' }, {}], { VERIFY_HEALTH: 'guest-agent', HEALTH_TIMEOUT: '10s' }),
      { workflowsDir: TEST_WORKFLOWS }
    );
    const [run] = await emu.schedule();
    const vms = byName(results(run));
    expect(emu.vm('web-1').powerState).toBe('running');
    expect(vms['web-1']).toMatchObject({ outcome: 'started-unhealthy', health: { state: 'timed-out' } });
    expect(vms['web-1']!.healthyAt).toBeUndefined();
    expect(vms['web-1']!.detail).toContain('running, but not healthy (guest-agent) within 10 s');
    // Polled every 200 ms for 10 s, it still stays within Compute's per-VM read budget (burst 36,
    // 12 a minute, 3 kept in reserve): paced by the budget, never refused for it.
    expect(vms['web-1']!.health!.reads).toBeLessThanOrEqual(36);
    expect(emu.answers['instanceView:429'] ?? 0).toBe(0);
    expect(vms['web-1']!.detail).toContain(
      'Not Ready (ProvisioningState/Unavailable): VM status blob is found but not yet populated.'
    );
    expect(vms['web-2']).toMatchObject({ outcome: 'started', health: { state: 'healthy' } });
    // fail-on error: a VM that is not serving fails the step, and a person sees it first.
    expect(run!.exitCode).toBe(1);
    expect(run!.log).toContain('1 VM(s) started but did not become healthy');
    expect(JSON.parse(run!.outputs.failed!)).toEqual([emu.vm('web-1').id]);
    expect(JSON.parse(run!.outputs.started!)).toEqual([emu.vm('web-2').id]);
    expect(run!.summary.indexOf('| 1 | started-unhealthy<br>timed-out |')).toBeLessThan(
      run!.summary.indexOf('### Started')
    );
  });

  test('application-health: the application reports Unhealthy (Rich Health States) → started-unhealthy with its reason', async () => {
    emu = await emulator(
      fleet([{ applicationHealth: { states: 'rich', settlesTo: 'unhealthy' } }], {
        VERIFY_HEALTH: 'application-health',
        HEALTH_TIMEOUT: '5m'
      }),
      { workflowsDir: TEST_WORKFLOWS }
    );
    const [run] = await emu.schedule();
    const r = byName(results(run))['web-1']!;
    expect(r).toMatchObject({
      outcome: 'started-unhealthy',
      health: { check: 'application-health', state: 'unhealthy' }
    });
    expect(r.detail).toContain(
      'Azure reports it unhealthy: Application Health: The VM health is unhealthy (HealthState/unhealthy)'
    );
    expect(r.detail).toContain('Application found to be unhealthy');
    // It ended at Azure's verdict, not at the five-minute timeout.
    expect(r.detail).not.toContain('within 5 min');
    expect(run!.summary).toContain('Application found to be unhealthy');
  });

  test('a Uniform instance: its vmHealth (Binary Health States: Unhealthy while it starts, then Healthy) → started, healthy', async () => {
    emu = await emulator(
      fleet(
        [],
        { VERIFY_HEALTH: 'application-health' },
        {
          scaleSets: [
            {
              subscriptionId: SUB,
              resourceGroup: 'rg-web',
              name: 'farm',
              orchestration: 'Uniform',
              tags: TAG,
              applicationHealth: { states: 'binary' },
              instances: [
                { powerState: 'deallocated', annotation: 'VirtualMachinePreempted', sinceMinutes: 10 },
                { powerState: 'running' }
              ]
            }
          ]
        }
      ),
      { workflowsDir: TEST_WORKFLOWS }
    );
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    const r = byName(results(run))['farm_0']!;
    expect(r).toMatchObject({ kind: 'vmss-uniform', outcome: 'started', health: { state: 'healthy' } });
    expect(Date.parse(r.healthyAt!)).toBeGreaterThanOrEqual(
      Math.floor(emu.clock.realAt(emu.vm('farm_0').guest.health!.time))
    );
    // Read through the scale set's instance view ("Get VMSS VMs"), never as a standalone VM.
    expect(emu.answers['scaleSetVmInstanceView:200']).toBeGreaterThanOrEqual(2);
  });

  test('none (the default): running is back; no instance view is read for health', async () => {
    emu = await emulator(fleet([{ guestAgent: 'never' }], {}), { workflowsDir: TEST_WORKFLOWS });
    const [run] = await emu.schedule();
    const r = byName(results(run))['web-1']!;
    expect(r.outcome).toBe('started');
    expect(r.health).toBeUndefined();
    expect(r.healthyAt).toBeUndefined();
  });
});
