/**
 * The bundle, run by the emulator's runner from workflows-examples/ exactly as GitHub would run
 * it, against the emulated Azure: resulting states are checked in the emulator.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Emulator } from '../emulator/server.js';
import { sampleFleet } from '../emulator/fleets/sample-fleet.js';
import { emulator, leakedSecrets, outcomes, results, until } from './harness.js';

describe('a scheduled sweep (restart-on-schedule.yml)', () => {
  const fleet = sampleFleet({ subscriptions: 3, eligible: 9, decoysPerKind: 2 });
  let emu: Emulator;

  beforeAll(async () => {
    emu = await emulator(fleet);
    for (const vm of fleet.vms.filter(v => v.role === 'eligible' || v.role === 'delete-policy'))
      emu.model.evict(emu.vm(vm.name), 'simulated');
    await until(
      () =>
        fleet.vms
          .filter(v => v.role === 'eligible')
          .every(v => emu.vm(v.name).powerState === 'deallocated' && emu.model.settled(emu.vm(v.name))),
      10_000,
      'the wave to be deallocated'
    );
  });
  afterAll(async () => {
    expect(leakedSecrets(emu)).toEqual([]);
    await emu.stop();
  });

  test('starts exactly the eligible VMs and touches none of the decoys', async () => {
    const [run] = await emu.schedule('restart-on-schedule.yml');
    expect(run!.exitCode).toBe(0);
    const eligible = fleet.vms.filter(v => v.role === 'eligible').map(v => v.name);
    const byOutcome = outcomes(run);
    expect(
      Object.entries(byOutcome)
        .filter(([, o]) => o === 'started')
        .map(([n]) => n)
        .sort()
    ).toEqual(eligible.sort());
    expect(
      Object.entries(byOutcome)
        .filter(([, o]) => o === 'user-stopped')
        .map(([n]) => n)
        .sort()
    ).toEqual(
      fleet.vms
        .filter(v => v.role === 'user-stopped')
        .map(v => v.name)
        .sort()
    );
    await until(
      () => eligible.every(n => emu.vm(n).powerState === 'running'),
      10_000,
      'the eligible VMs to run'
    );
    for (const decoy of fleet.vms.filter(v => v.role !== 'eligible')) {
      expect([decoy.name, emu.model.vms.get(emu.vm(decoy.name).key)!.startsAccepted]).toEqual([
        decoy.name,
        0
      ]);
    }
    expect(emu.vm(fleet.vms.find(v => v.role === 'user-stopped')!.name).powerState).toBe('deallocated');
    expect(JSON.parse(run!.outputs.started!)).toHaveLength(eligible.length);
    expect(run!.limitErrors).toEqual([]);
    // The emulator's clock runs faster than the action's: the summary says its times run backwards,
    // and leaves the downtimes out rather than print impossible ones.
    expect(run!.summary).toContain(`### Started: ${eligible.length} VMs\n`);
    expect(run!.summary).toContain('**Times run backwards**');
    expect(run!.summary.indexOf('### Started')).toBeLessThan(run!.summary.indexOf('<details>'));
  });

  test('a second sweep finds nothing to do', async () => {
    await until(
      () =>
        fleet.vms.filter(v => v.role === 'eligible').every(v => emu.vm(v.name).argPowerState === 'running'),
      10_000,
      'ARG to catch up'
    );
    const [run] = await emu.schedule('restart-on-schedule.yml');
    expect(run!.exitCode).toBe(0);
    expect(results(run).filter(r => r.outcome === 'started')).toEqual([]);
    expect(fleet.vms.filter(v => v.role === 'eligible').every(v => emu.vm(v.name).startsAccepted === 1)).toBe(
      true
    );
  });
});
