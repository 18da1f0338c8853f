/**
 * Permissions where roles are given: the bundled action against an emulator whose roles can sit on
 * a subscription or on a resource group (test/emulator/azure/rbac.ts), and whose permissions listing is
 * Azure's resource-group operation, paged by nextLink one entry a page (test/emulator/azure/arm.ts). The
 * check before acting is a warning naming the action and the scope; only a real 403 fails a VM.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import type { AppSpec, FleetSpec, VmSpec } from '../emulator/fleets/fleet.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import { ACTIONS_BY_KIND, type RequiredAction } from '../../src/azure/permissions.js';
import { TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import type { RunRecord } from '../emulator/github/runner.js';
import {
  emulator,
  evictAndSettle,
  fleetOf,
  githubPost,
  leakedSecrets,
  outcomes,
  preemptPayload,
  results,
  SUB,
  TEST_WORKFLOWS,
  UNTIMED,
  until
} from './harness.js';

const GH_TOKEN = 'ghs_emulatedInstallationToken0000000000';
const START = 'Microsoft.Compute/virtualMachines/start/action';
const group = (name: string) => `/subscriptions/${SUB}/resourceGroups/${name}`;

/** Nothing here is about time. */
const OPTIONS = { timeScale: UNTIMED, workflowsDir: TEST_WORKFLOWS };

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu, [GH_TOKEN])).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

function vmsIn(resourceGroup: string, names: string[]): Partial<VmSpec>[] {
  return names.map(name => ({ resourceGroup, name }));
}

function fleet(
  identity: Partial<AppSpec>,
  vms: Partial<VmSpec>[],
  extra: Partial<FleetSpec> = {}
): FleetSpec {
  return fleetOf(vms, { identity, token: GH_TOKEN }, extra);
}

const annotations = (run: RunRecord | undefined, kind: 'warning' | 'error') =>
  run!.log.split('\n').filter(l => l.startsWith(`::${kind}`));

describe('roles on resource groups', () => {
  test('a role assigned on a resource group only: its VMs are started, and no gap is reported', async () => {
    emu = await emulator(
      fleet({ scopes: [group('rg-batch')] }, [
        ...vmsIn('rg-batch', ['vm-a', 'vm-b']),
        ...vmsIn('rg-other', ['vm-x'])
      ]),
      OPTIONS
    );
    await evictAndSettle(emu, ['vm-a', 'vm-b', 'vm-x']);
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    // vm-x is in a group the identity has no role on: Resource Graph does not show it, nothing touches it.
    expect(outcomes(run)).toEqual({ 'vm-a': 'started', 'vm-b': 'started' });
    expect(emu.vm('vm-x').startsAccepted).toBe(0);
    expect(annotations(run, 'warning').filter(l => /permission/i.test(l))).toEqual([]);
    expect(annotations(run, 'error')).toEqual([]);
    // One listing of rg-batch (one assignment, one page) for its two VMs.
    expect(emu.answers['permissions:200']).toBe(1);
    expect(run!.summary).not.toContain('seem to lack');
  });

  test('a role without start on one group: a warning naming the action and the group; its VMs fail naming the permission, the others start', async () => {
    const withoutStart = shippedRoleActions().filter(a => a !== START);
    emu = await emulator(
      fleet(
        {
          assignments: [
            // A subscription-wide role too, so each group's listing has two entries: two pages.
            { scope: SUB, actions: ['Microsoft.Resources/subscriptions/read'] },
            { scope: group('rg-a'), actions: shippedRoleActions() },
            { scope: group('rg-b'), actions: withoutStart }
          ]
        },
        [...vmsIn('rg-a', ['a-1', 'a-2', 'a-3']), ...vmsIn('rg-b', ['b-1', 'b-2', 'b-3'])]
      ),
      OPTIONS
    );
    await evictAndSettle(emu, ['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'b-3']);
    const [run] = await emu.schedule();

    const gapWarnings = annotations(run, 'warning').filter(l => l.includes('Missing permissions'));
    expect(gapWarnings).toHaveLength(1);
    expect(gapWarnings[0]).toContain(`'${START}'`);
    expect(gapWarnings[0]).toContain("resource group 'rg-b'");
    expect(gapWarnings[0]).not.toContain('rg-a');

    const byName = Object.fromEntries(results(run).map(r => [r.name, r]));
    for (const n of ['a-1', 'a-2', 'a-3']) expect(byName[n]).toMatchObject({ outcome: 'started' });
    for (const n of ['b-1', 'b-2', 'b-3']) {
      expect(byName[n]).toMatchObject({ outcome: 'failed', errorCode: 'AuthorizationFailed' });
      expect(byName[n]!.detail).toContain(`lacks the permission '${START}'`);
      expect(emu.vm(n).startsAccepted).toBe(0);
    }
    // The step fails for the VMs that Azure refused, not for the warning.
    expect(run!.exitCode).toBe(1);
    const failure = annotations(run, 'error').find(l => l.startsWith('::error::'));
    expect(failure).toContain('3 VM(s) could not be started (failed)');
    expect(failure).not.toMatch(/lacks permissions/);
    // Each group listed once for its three VMs, every nextLink followed: 2 groups × 2 pages.
    expect(emu.answers['permissions:200']).toBe(4);
    expect(run!.summary).toContain(`${group('rg-b')}: ${START}`);
  });
});

describe('least privilege: the shipped role is enough, and each of its actions is needed', () => {
  // A plain VM needs no scale-set action; a Uniform instance needs no plain-VM one.
  const forVm = ACTIONS_BY_KIND.vm;
  test.each(shippedRoleActions())('without %s the run warns, naming it and the group', async missing => {
    const actions = shippedRoleActions().filter(a => a !== missing);
    const onVm = forVm.includes(missing as RequiredAction);
    emu = await emulator(
      fleet({ actions }, onVm ? vmsIn('rg-batch', ['vm-a']) : [], {
        scaleSets: onVm
          ? []
          : [
              {
                subscriptionId: SUB,
                resourceGroup: 'rg-batch',
                name: 'farm',
                orchestration: 'Uniform',
                tags: TAG,
                instances: 1
              }
            ]
      }),
      OPTIONS
    );
    const vm = emu.vm(onVm ? 'vm-a' : 'farm_0');
    const event = emu.model.evict(vm, 'simulated')!;
    await until(
      () => vm.powerState === 'deallocated' && emu!.model.settled(vm),
      30_000,
      'eviction and its evidence'
    );
    // A dispatch names the VM's group before anything is read, so even a role that cannot see the VM is checked.
    const answer = await githubPost(emu, '/repos/acme/spot-fleet/dispatches', GH_TOKEN, {
      event_type: 'spot-vm-preempted',
      client_payload: preemptPayload(vm, event)
    });
    expect(answer.status).toBe(204);
    const [run] = await emu.settle();
    const warning = annotations(run, 'warning').find(l => l.includes('Missing permissions'));
    expect(warning).toContain(`'${missing}'`);
    expect(warning).toContain("resource group 'rg-batch'");
  });

  test('a group holding no scale set draws no warning for the scale-set actions a role lacks', async () => {
    const actions = shippedRoleActions().filter(a => forVm.includes(a as RequiredAction));
    emu = await emulator(fleet({ actions }, vmsIn('rg-batch', ['vm-a', 'vm-b'])), OPTIONS);
    await evictAndSettle(emu, ['vm-a', 'vm-b']);
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    expect(outcomes(run)).toEqual({ 'vm-a': 'started', 'vm-b': 'started' });
    expect(annotations(run, 'warning').filter(l => l.includes('Missing permissions'))).toEqual([]);
    expect(run!.summary).not.toContain('seem to lack');
  });
});
