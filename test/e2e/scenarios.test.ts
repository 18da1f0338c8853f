/**
 * End-to-end scenarios: the bundle run by the emulator's runner, one emulator per scenario, the
 * result read from the emulator's state and the run's outputs.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FleetSpec } from '../emulator/fleets/fleet.js';
import { DEFAULT_APP } from '../emulator/fleets/fleet.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import type { Emulator } from '../emulator/server.js';
import {
  emulator,
  evictAndSettle,
  fleetOf,
  githubPost,
  leakedSecrets,
  outcomes,
  preemptPayload,
  results,
  SUBJECT,
  TEST_WORKFLOWS,
  UNTIMED,
  until
} from './harness.js';

const GH_TOKEN = 'ghs_emulatedInstallationToken0000000000';
const NAMES = ['vm-a', 'vm-b', 'vm-c'];
/** Nothing here is about time but the dispatch's wait for its eviction. */
const OPTIONS = { timeScale: UNTIMED, workflowsDir: TEST_WORKFLOWS };

function fleet(
  overrides: Partial<FleetSpec> = {},
  vars: Record<string, string> = {},
  secrets: Record<string, string> = {}
): FleetSpec {
  return fleetOf(
    NAMES.map(name => ({ name })),
    { vars, secrets, token: GH_TOKEN },
    overrides
  );
}

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu, [GH_TOKEN])).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

describe('authentication', () => {
  test('GitHub OIDC: the federated credential matches, VMs are started', async () => {
    emu = await emulator(fleet(), OPTIONS);
    await evictAndSettle(emu, NAMES);
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    expect(Object.values(outcomes(run))).toEqual(['started', 'started', 'started']);
    expect(emu.tokensIssued[DEFAULT_APP]).toBe(1);
  });

  test('a client secret works too, and never appears in the log or outputs', async () => {
    const secret = 'Zx8Q~emulatedClientSecretValue.0123456789';
    emu = await emulator(
      fleet({ apps: [{ clientId: DEFAULT_APP, secret }] }, {}, { AZURE_CLIENT_SECRET: secret }),
      OPTIONS
    );
    await evictAndSettle(emu, ['vm-a']);
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    expect(outcomes(run)).toEqual({ 'vm-a': 'started' });
    expect(run!.log).toContain('with a client secret');
    expect(run!.log.replace(/::add-mask::.*/g, '')).not.toContain(secret);
    expect(JSON.stringify(run!.outputs) + run!.summary).not.toContain(secret);
  });

  test('a wrong federated subject fails with the subject to add', async () => {
    emu = await emulator(
      fleet({ apps: [{ clientId: DEFAULT_APP, federatedSubjects: ['repo:acme/other:environment:prod'] }] }),
      OPTIONS
    );
    await evictAndSettle(emu, ['vm-a']);
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(1);
    const error = run!.log.split('\n').find(l => l.startsWith('::error::'));
    expect(error).toContain('no federated credential of the app matches it');
    expect(error).toContain(`subject '${SUBJECT}'`);
    expect(error).toContain('AADSTS70021');
    expect(emu.vm('vm-a').startsAccepted).toBe(0);
  });
});

describe('repository_dispatch (restart-on-eviction.yml)', () => {
  test('the run waits for the preempted VM to be deallocated, then starts it', async () => {
    // A notice of two emulated minutes: the dispatch is answered well before the eviction, however busy the machine.
    // Every moment on one clock (the action's too), so the summary's time order is the truth.
    emu = await emulator(fleet(), {
      timeScale: 20,
      timing: { evictionNoticeS: 120 },
      actionOnEmulatedClock: true
    });
    const vm = emu.vm('vm-b');
    const event = emu.model.evict(vm, 'simulated')!;
    const payload = preemptPayload(vm, event, {
      notBefore: new Date(Date.parse(event.NotBefore)).toISOString(),
      detectedAt: emu.clock.iso(),
      evictionPolicy: 'Deallocate',
      agentVersion: '0.1.0'
    });
    const answer = await githubPost(emu, '/repos/acme/spot-fleet/dispatches', GH_TOKEN, {
      event_type: 'spot-vm-preempted',
      client_payload: payload
    });
    expect(answer.status).toBe(204);
    expect(vm.powerState).toBe('running'); // the run starts before the eviction has happened
    const runs = await emu.settle();
    const run = runs.find(r => r.workflow === 'restart-on-eviction.yml');
    expect(run!.exitCode).toBe(0);
    const mine = results(run).find(r => r.name === 'vm-b')!;
    expect(mine).toMatchObject({ outcome: 'started', source: 'dispatch' });
    expect(emu.model.timeline.filter(t => t.vm === 'vm-b').map(t => t.what)).toEqual([
      expect.stringContaining('Preempt scheduled'),
      'evicted: deallocating',
      'deallocated',
      'start accepted',
      'running'
    ]);
    expect(vm.startsAccepted).toBe(1);
    // The summary draws the VM's way back, every moment of it, in the order it happened. Azure's
    // instance view gives no time for an eviction's deallocation (its provisioning state keeps the
    // time of the VM's last operation), so the summary claims none.
    const timeline = /```mermaid\ntimeline\n([\s\S]*?)```/.exec(run!.summary)?.[1] ?? '';
    expect(timeline.split('\n').flatMap(l => /^ +[^:]+ : (.+)$/.exec(l)?.slice(1) ?? [])).toEqual([
      'Preempt seen by the agent',
      'dispatch received, run started',
      'start accepted',
      'running',
      'healthy' // the example workflow asks for verify-health: guest-agent
    ]);
    expect(mine.evictedAt).toBe(payload.detectedAt);
    expect(Date.parse(mine.runningAt!)).toBeGreaterThanOrEqual(Date.parse(mine.startAcceptedAt!));
    expect(Date.parse(mine.healthyAt!)).toBeGreaterThanOrEqual(Date.parse(mine.runningAt!));
  });
});

describe('capacity and price', () => {
  test('capacity taken away: capacity-unavailable after retry-for', async () => {
    emu = await emulator(fleet({}, { RETRY_FOR: '0' }), OPTIONS);
    await evictAndSettle(emu, ['vm-a'], 'capacity');
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0); // fail-on: error does not count capacity
    expect(results(run)).toMatchObject([
      { name: 'vm-a', outcome: 'capacity-unavailable', errorCode: 'AllocationFailed' }
    ]);
    expect(JSON.parse(run!.outputs['capacity-unavailable']!)).toEqual([emu.vm('vm-a').id]);
    expect(emu.vm('vm-a').powerState).toBe('deallocated');
  });

  test('capacity given back within retry-for: started', async () => {
    emu = await emulator(fleet({}, { RETRY_FOR: '30s', RETRY_INTERVAL: '500ms' }), OPTIONS);
    await evictAndSettle(emu, ['vm-a'], 'capacity');
    const vm = emu.vm('vm-a');
    const running = emu.schedule();
    await until(
      () => emu!.model.timeline.some(t => t.what.includes('allocation failed')),
      20_000,
      'a failed allocation'
    );
    emu.model.setCapacity(vm.location, vm.vmSize, 5);
    const [run] = await running;
    const [result] = results(run);
    expect(result).toMatchObject({ outcome: 'started' });
    expect(result!.attempts).toBeGreaterThan(1);
  });

  test('price above the max: price-above-max with the current price', async () => {
    emu = await emulator(
      fleetOf(
        [{ name: 'vm-a', maxPrice: 0.015 }],
        { vars: { FAIL_ON: 'capacity' }, token: GH_TOKEN },
        { prices: { 'eastus/Standard_D2s_v5': 0.012 } }
      ),
      OPTIONS
    );
    await evictAndSettle(emu, ['vm-a'], 'price');
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(1); // fail-on: capacity
    expect(results(run)).toMatchObject([
      { outcome: 'price-above-max', currentPrice: 0.025, errorCode: 'SpotPriceGreaterThanProvidedMaxPrice' }
    ]);
  });
});

describe('faults', () => {
  test('a 429 storm and 10 % server errors still end with every eligible VM started', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `vm-${i}`);
    emu = await emulator(fleetOf(names.length, { token: GH_TOKEN }), OPTIONS);
    await evictAndSettle(emu, names);
    emu.faults.add({ target: 'arg', kind: '429', count: 3, retryAfterS: 1 });
    emu.faults.add({ target: 'start', kind: '429', count: 12, retryAfterS: 1 });
    emu.faults.add({ target: 'arm', kind: '503', probability: 0.1 });
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    expect(Object.values(outcomes(run)).every(o => o === 'started')).toBe(true);
    expect(results(run)).toHaveLength(names.length);
    await until(() => names.every(n => emu!.vm(n).powerState === 'running'), 10_000, 'all running');
    expect(names.every(n => emu!.vm(n).startsAccepted === 1)).toBe(true);
    expect(emu.faults.injected['arg:429']).toBe(3);
    expect(emu.faults.injected['start:429']).toBe(12);
  });
});

describe('least privilege', () => {
  test('a role without start permission: a clear 403 outcome naming it', async () => {
    const actions = shippedRoleActions().filter(a => !a.endsWith('/start/action'));
    emu = await emulator(
      fleet({ apps: [{ clientId: DEFAULT_APP, federatedSubjects: [SUBJECT], actions }] }),
      OPTIONS
    );
    await evictAndSettle(emu, ['vm-a']);
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(1);
    const [result] = results(run);
    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'AuthorizationFailed' });
    expect(result!.detail).toContain("lacks the permission 'Microsoft.Compute/virtualMachines/start/action'");
    // One annotation for the group, ':' escaped as the runner wants.
    expect(run!.log).toContain('::error title=1 VM(s) failed%3A AuthorizationFailed::');
  });
});
