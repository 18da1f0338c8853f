/**
 * Try & restore only where and while Azure applies it (Microsoft Learn, "Azure Spot Virtual
 * Machines for Virtual Machine Scale Sets": "Try & restore is disabled in scale sets that use
 * Autoscale", it restores VMs "evicted due to capacity", and not after `restoreTimeout`). The
 * emulated platform restores exactly those; the action starts the rest instead of reporting
 * `platform-restores` for instances nobody will bring back.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { DEFAULT_APP, type FleetSpec, type ScaleSetSpec } from '../emulator/fleets/fleet.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { emulator, leakedSecrets, results, TEST_WORKFLOWS, until } from './harness.js';

const [SUB] = subscriptionIds(1) as [string];
const SECRET = 'try-restore-secret';
const AUTOSCALE_READ = 'Microsoft.Insights/autoscalesettings/read';

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu)).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

const evictedLongAgo = {
  powerState: 'deallocated',
  annotation: 'VirtualMachinePreempted',
  sinceMinutes: 30
} as const;
const farm = (name: string, extra: Partial<ScaleSetSpec>): ScaleSetSpec => ({
  subscriptionId: SUB,
  resourceGroup: 'rg-farm',
  name,
  orchestration: 'Uniform',
  tags: TAG,
  spotRestore: true,
  instances: 2,
  ...extra
});

function fleet(actions = shippedRoleActions()): FleetSpec {
  return {
    subscriptions: [SUB],
    apps: [{ clientId: DEFAULT_APP, secret: SECRET, actions }],
    vms: [],
    prices: { 'eastus/Standard_D4s_v5': 0.05 },
    scaleSets: [
      farm('restored', {}),
      farm('autoscaled', { autoscale: true }),
      farm('stale', { restoreTimeout: 'PT5M', instances: [evictedLongAgo, evictedLongAgo] }),
      // Its max price is below the Spot price: what evicted it keeps it down, Try & restore included.
      farm('pricey', { vmSize: 'Standard_D4s_v5', maxPrice: 0.01, instances: [evictedLongAgo] })
    ],
    github: { repository: 'acme/spot-fleet', secrets: { AZURE_CLIENT_SECRET: SECRET } }
  };
}

async function evict(e: Emulator, names: string[]): Promise<void> {
  for (const n of names) e.model.evict(e.vm(n), 'simulated');
  await until(
    () => names.every(n => e.vm(n).powerState === 'deallocated' && e.model.settled(e.vm(n))),
    30_000,
    'evictions and their evidence'
  );
}

const outcomeOf = (list: ReturnType<typeof results>) =>
  Object.fromEntries(list.map(r => [r.name, r.outcome]));

describe('Try & restore', () => {
  test('left to Azure only where it applies: autoscaled, timed-out and priced-out instances are the action’s to start', async () => {
    // The platform's restore comes an emulated hour after the eviction: the run sees them all down.
    emu = await emulator(fleet(), { workflowsDir: TEST_WORKFLOWS, timing: { tryRestoreDelayS: 3600 } });
    await evict(emu, ['restored_0', 'restored_1', 'autoscaled_0', 'autoscaled_1']);
    const [run] = await emu.schedule('restart-with-vars.yml');
    const found = outcomeOf(results(run));
    expect(found).toMatchObject({
      restored_0: 'platform-restores',
      restored_1: 'platform-restores',
      autoscaled_0: 'started',
      autoscaled_1: 'started',
      stale_0: 'started',
      stale_1: 'started',
      pricey_0: 'price-above-max'
    });
    expect(found.pricey_0).not.toBe('platform-restores');
    await until(
      () => ['autoscaled_0', 'autoscaled_1', 'stale_0'].every(n => emu!.vm(n).powerState === 'running'),
      30_000,
      'the started instances to run'
    );
    expect(emu.vm('restored_0').startsAccepted).toBe(0);
    // The emulated platform never restores the autoscaled ones: without the start they would stay down.
    expect(emu.model.timeline.some(t => t.vm === 'autoscaled_0' && t.what.includes('autoscale'))).toBe(true);
  });

  test('a role that cannot read autoscale settings sees no autoscale: the report says so', async () => {
    emu = await emulator(fleet(shippedRoleActions().filter(a => a !== AUTOSCALE_READ)), {
      workflowsDir: TEST_WORKFLOWS,
      timing: { tryRestoreDelayS: 3600 }
    });
    await evict(emu, ['autoscaled_0']);
    const [run] = await emu.schedule('restart-with-vars.yml');
    expect(outcomeOf(results(run)).autoscaled_0).toBe('platform-restores');
    const warning = run!.log
      .split('\n')
      .find(l => l.startsWith('::warning') && l.includes('Missing permissions'));
    expect(warning).toContain(`'${AUTOSCALE_READ}'`);
    expect(warning).toContain("resource group 'rg-farm'");
    expect(run!.summary).toContain(AUTOSCALE_READ);
  });
});
