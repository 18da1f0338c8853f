/**
 * Errors as Azure nests them, end to end: the emulator fails a start operation for want of
 * capacity the way Azure does — `ResourceOperationFailure` with `AllocationFailed` in `details[]`,
 * or `ZonalAllocationFailed` in `innererror` (test/emulator/azure/azure-errors.ts) — and the bundled
 * action must read the nested code: retried as capacity, reported `capacity-unavailable`, never
 * `failed`.
 */
import { afterEach, expect, test } from '@jest/globals';
import { DEFAULT_APP, type FleetSpec } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { emulator, leakedSecrets, results, TEST_WORKFLOWS, until } from './harness.js';

const [SUB] = subscriptionIds(1) as [string];
const SUBJECT = 'repo:acme/spot-fleet:ref:refs/heads/main';
const GH_TOKEN = 'ghs_emulatedInstallationToken0000000000';

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu, [GH_TOKEN])).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

function fleet(): FleetSpec {
  return {
    subscriptions: [SUB],
    apps: [{ clientId: DEFAULT_APP, federatedSubjects: [SUBJECT] }],
    vms: [
      {
        subscriptionId: SUB,
        resourceGroup: 'rg-batch',
        name: 'vm-regional',
        tags: TAG,
        powerState: 'running'
      },
      {
        subscriptionId: SUB,
        resourceGroup: 'rg-batch',
        name: 'vm-zonal',
        zone: '2',
        tags: TAG,
        powerState: 'running'
      }
    ],
    github: {
      repository: 'acme/spot-fleet',
      tokens: [{ token: GH_TOKEN, repositories: ['acme/spot-fleet'] }],
      vars: { RETRY_FOR: '3s', RETRY_INTERVAL: '1s' }
    }
  };
}

test('a nested AllocationFailed / ZonalAllocationFailed is retried as capacity and reported capacity-unavailable', async () => {
  emu = await emulator(fleet(), { workflowsDir: TEST_WORKFLOWS });
  const names = ['vm-regional', 'vm-zonal'];
  for (const n of names) emu.model.evict(emu.vm(n), 'capacity');
  await until(
    () => names.every(n => emu!.vm(n).powerState === 'deallocated' && emu!.model.settled(emu!.vm(n))),
    30_000,
    'eviction and its evidence'
  );

  const [run] = await emu.schedule();

  // The emulator really nested them: the top code of every failed start is the operation's own.
  const failedOps = [...emu.model.operations.values()].filter(op => op.status === 'Failed');
  expect(failedOps.length).toBeGreaterThanOrEqual(4);
  expect(new Set(failedOps.map(op => op.error?.code))).toEqual(new Set(['ResourceOperationFailure']));

  expect(run!.exitCode).toBe(0); // fail-on: error does not count capacity
  const byName = Object.fromEntries(results(run).map(r => [r.name, r]));
  expect(byName['vm-regional']).toMatchObject({
    outcome: 'capacity-unavailable',
    errorCode: 'AllocationFailed'
  });
  expect(byName['vm-zonal']).toMatchObject({
    outcome: 'capacity-unavailable',
    errorCode: 'ZonalAllocationFailed'
  });
  for (const n of names) {
    expect(byName[n]!.attempts).toBeGreaterThan(1); // retried as capacity, not given up as a failure
    expect(byName[n]!.detail).toContain("terminal provisioning state 'Failed'"); // the outer message stays visible
    expect(emu.vm(n).startsAccepted).toBe(byName[n]!.attempts);
    expect(emu.vm(n).powerState).toBe('deallocated');
  }
  expect(JSON.parse(run!.outputs.failed!)).toEqual([]);
  expect(JSON.parse(run!.outputs['capacity-unavailable']!).sort()).toEqual(
    names.map(n => emu!.vm(n).id).sort()
  );
});
