/**
 * The fault matrix, end to end: each scenario ends with every eligible VM running once capacity
 * allows, no VM started twice by us, and outputs that tell the truth. (Throttling storms, 5xx,
 * missing permissions and capacity are in scenarios.test.ts; IMDS and GitHub outages and agent
 * restarts in agent.test.ts.)
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { DEFAULT_APP, type FleetSpec } from '../emulator/fleets/fleet.js';
import type { Emulator } from '../emulator/server.js';
import {
  emulator,
  evictAndSettle,
  fleetOf,
  githubPost,
  leakedSecrets,
  preemptPayload,
  results,
  TEST_WORKFLOWS,
  UNTIMED,
  until
} from './harness.js';

const GH_TOKEN = 'ghs_faultMatrixToken00000000000000000000';
const NAMES = Array.from({ length: 8 }, (_, i) => `vm-${i}`);
/** The faults are counted in requests and real seconds; the emulated clock only has to pass evictions. */
const OPTIONS = { timeScale: UNTIMED, workflowsDir: TEST_WORKFLOWS };

function fleet(vars: Record<string, string> = {}): FleetSpec {
  return fleetOf(NAMES.length, { vars, token: GH_TOKEN });
}

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) {
    expect(leakedSecrets(emu, [GH_TOKEN])).toEqual([]);
    // Never started twice by us, whatever happened on the way (a start refused for capacity and
    // tried again counts as accepted by Azure once per try, so only running VMs are counted here).
    for (const n of NAMES)
      expect([
        n,
        emu.vm(n).powerState,
        emu.model.timeline.filter(t => t.vm === n && t.what === 'running').length
      ]).toEqual([n, 'running', 1]);
  }
  await emu?.stop();
  emu = undefined;
});

/** How many faults of a kind the emulator injected, over every kind of request. */
function injected(e: Emulator, kind: string): number {
  return Object.entries(e.faults.injected)
    .filter(([k]) => k.endsWith(`:${kind}`))
    .reduce((n, [, v]) => n + v, 0);
}

async function allRunning(e: Emulator): Promise<void> {
  await until(() => NAMES.every(n => e.vm(n).powerState === 'running'), 15_000, 'every VM running');
}

describe('fault matrix', () => {
  test('dropped connections on one Azure request in five', async () => {
    emu = await emulator(fleet(), OPTIONS);
    await evictAndSettle(emu, NAMES);
    emu.faults.add({ target: 'arm', kind: 'reset', probability: 0.2 });
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    expect(results(run).map(r => r.outcome)).toEqual(NAMES.map(() => 'started'));
    expect(injected(emu, 'reset')).toBeGreaterThan(0);
    await allRunning(emu);
  });

  test('one Azure answer in five a 5xx', async () => {
    emu = await emulator(fleet(), OPTIONS);
    await evictAndSettle(emu, NAMES);
    emu.faults.add({ target: 'arm', kind: '500', probability: 0.1 });
    emu.faults.add({ target: 'arm', kind: '503', probability: 0.1 });
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    expect(results(run).map(r => r.outcome)).toEqual(NAMES.map(() => 'started'));
    expect(injected(emu, '500') + injected(emu, '503')).toBeGreaterThan(0);
    await allRunning(emu);
  });

  test('answers slower than the request timeout are given up and retried', async () => {
    emu = await emulator(fleet(), OPTIONS);
    await evictAndSettle(emu, NAMES);
    emu.faults.add({ target: 'instanceView', kind: 'slow', delayMs: 4000, count: 3 });
    emu.faults.add({ target: 'start', kind: 'slow', delayMs: 4000, count: 2 });
    const [run] = await emu.runner.trigger('schedule', { schedule: '*/5 * * * *' }, undefined, {
      'request-timeout': '1s'
    });
    expect(run!.exitCode).toBe(0);
    expect(results(run).map(r => r.outcome)).toEqual(NAMES.map(() => 'started'));
    await allRunning(emu);
  });

  test('access tokens that expire during the run are renewed', async () => {
    emu = await emulator(fleet({ RETRY_FOR: '20s', RETRY_INTERVAL: '1s' }), {
      ...OPTIONS,
      tokenLifetimeS: 1
    });
    await evictAndSettle(emu, NAMES);
    const vm = emu.vm('vm-0');
    emu.model.setCapacity(vm.location, vm.vmSize, 0);
    const running = emu.schedule();
    // Hold the run for a few seconds on capacity retries, then give capacity back.
    await new Promise(r => setTimeout(r, 4000));
    emu.model.setCapacity(vm.location, vm.vmSize, 100);
    const [run] = await running;
    if (run!.exitCode !== 0) console.log(JSON.stringify(results(run).filter(r => r.outcome !== 'started')));
    expect(run!.exitCode).toBe(0);
    expect(results(run).every(r => r.outcome === 'started')).toBe(true);
    expect(emu.tokensIssued[DEFAULT_APP]).toBeGreaterThan(1);
    await allRunning(emu);
  });

  test('a scheduled sweep and a dispatched run on the same fleet at once: each VM started once, and claimed once', async () => {
    emu = await emulator(fleet(), { timeScale: 20 });
    const target = emu.vm('vm-3');
    const event = emu.model.evict(target, 'simulated')!;
    for (const n of NAMES.filter(n => n !== 'vm-3')) emu.model.evict(emu.vm(n), 'simulated');
    const payload = preemptPayload(target, event);
    expect(
      (
        await githubPost(emu, '/repos/acme/spot-fleet/dispatches', GH_TOKEN, {
          event_type: 'spot-vm-preempted',
          client_payload: payload
        })
      ).status
    ).toBe(204);
    // The dispatched VM may be started already (its agent's Preempt is the evidence); the rest wait for theirs.
    await until(
      () =>
        NAMES.filter(n => n !== 'vm-3').every(
          n => emu!.vm(n).powerState === 'deallocated' && emu!.model.settled(emu!.vm(n))
        ),
      30_000,
      'eviction and its evidence'
    );
    const [sweep] = await emu.schedule('restart-on-schedule.yml');
    const dispatched = await emu.settle();
    const claims = [sweep!, ...dispatched].flatMap(r =>
      results(r)
        .filter(v => v.outcome === 'started')
        .map(v => v.name)
    );
    expect(claims.sort()).toEqual([...NAMES].sort());
    await allRunning(emu);
  });
});
