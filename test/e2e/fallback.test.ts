/**
 * Fallback sizes, revert and price first, end to end: the bundle runs as GitHub runs it against
 * the emulator, whose Compute refuses what Azure refuses (a resize of a VM that is not
 * deallocated, a restricted size, a family over its Spot vCPU quota) and whose SpotResources
 * table follows its prices. Results are read from the emulated VMs and the run's outputs.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FleetSpec, VmSpec } from '../emulator/fleets/fleet.js';
import { TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import { emulator, fleetOf, leakedSecrets, results, SUB } from './harness.js';

const WORKFLOWS = new URL('./fallback-workflows', import.meta.url).pathname;
const FALLBACK_ROLE = (
  JSON.parse(
    readFileSync(new URL('../../docs/spot-restarter-fallback-role.json', import.meta.url), 'utf8')
  ) as {
    Actions: string[];
  }
).Actions;
const LIST = { SpotRestarterFallbackSizes: 'Standard_D2as_v5,Standard_D2s_v4' };

function fleet(
  vms: Partial<VmSpec>[],
  extra: Partial<FleetSpec> = {},
  vars: Record<string, string> = {},
  actions = [...shippedRoleActions(), ...FALLBACK_ROLE]
): FleetSpec {
  return fleetOf(
    vms,
    {
      each: { vmSize: 'Standard_D2s_v5', powerState: 'deallocated', annotation: 'VirtualMachinePreempted' },
      identity: { actions },
      vars
    },
    extra
  );
}

const noCapacity = (...sizes: string[]) => sizes.map(vmSize => ({ location: 'eastus', vmSize, capacity: 0 }));

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu)).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

async function sweep(): Promise<ReturnType<typeof results>> {
  const [run] = await emu!.schedule();
  expect(run!.exitCode).toBe(0);
  return results(run);
}

describe('fallback sizes', () => {
  test("capacity for a VM's size gone: it starts on its first available fallback, and its preferred size is recorded", async () => {
    emu = await emulator(fleet([{ tags: LIST }, {}], { pools: noCapacity('Standard_D2s_v5') }), {
      workflowsDir: WORKFLOWS
    });
    const [listed, plain] = await sweep();
    expect(listed).toMatchObject({
      name: 'vm-0',
      outcome: 'started-fallback',
      preferredSize: 'Standard_D2s_v5',
      usedSize: 'Standard_D2as_v5',
      sizesTried: ['Standard_D2s_v5', 'Standard_D2as_v5']
    });
    const vm = emu.vm('vm-0');
    expect(vm.vmSize).toBe('Standard_D2as_v5');
    expect(vm.powerState).toBe('running');
    expect(vm.tags.SpotRestarterPreferredSize).toBe('Standard_D2s_v5');
    expect(vm.tags.SpotRestarterFallbackSizes).toBe(LIST.SpotRestarterFallbackSizes);
    // The tag was written before the resize.
    const order = emu.model.timeline.filter(t => t.vm === 'vm-0').map(t => t.what);
    expect(order.findIndex(w => w.startsWith('tags set'))).toBeLessThan(
      order.findIndex(w => w.startsWith('resized'))
    );
    // A VM without a list is never resized.
    expect(plain).toMatchObject({ name: 'vm-1', outcome: 'capacity-unavailable' });
    expect(emu.vm('vm-1').vmSize).toBe('Standard_D2s_v5');
  });

  test('the preferred-size tag is merged: a tag Resource Graph does not show yet is kept', async () => {
    emu = await emulator(fleet([{ tags: LIST }], { pools: noCapacity('Standard_D2s_v5') }), {
      workflowsDir: WORKFLOWS
    });
    const vm = emu.vm('vm-0');
    // Added in Resource Manager a moment ago; Resource Graph still shows the tags without it.
    vm.argTags = { ...vm.tags };
    vm.tags = { ...vm.tags, CostCenter: 'cc-42' };
    const [listed] = await sweep();
    expect(listed).toMatchObject({ name: 'vm-0', outcome: 'started-fallback' });
    expect(vm.tags).toEqual({
      ...TAG,
      ...LIST,
      CostCenter: 'cc-42',
      SpotRestarterPreferredSize: 'Standard_D2s_v5'
    });
  });

  test('the fallbacks gone too: capacity-unavailable, with every size tried listed', async () => {
    emu = await emulator(
      fleet([{ tags: LIST }], {
        pools: noCapacity('Standard_D2s_v5', 'Standard_D2as_v5', 'Standard_D2s_v4')
      }),
      { workflowsDir: WORKFLOWS }
    );
    const [r] = await sweep();
    expect(r).toMatchObject({
      outcome: 'capacity-unavailable',
      sizesTried: ['Standard_D2s_v5', 'Standard_D2as_v5', 'Standard_D2s_v4']
    });
    expect(r!.detail).toContain('sizes tried: Standard_D2s_v5, Standard_D2as_v5, Standard_D2s_v4');
    expect(emu.vm('vm-0').powerState).toBe('deallocated');
  });

  test("a size restricted for the subscription, or over the region's Spot vCPU quota: skipped, with the reason", async () => {
    emu = await emulator(
      // The region's one Spot pool: this VM's 2 vCPUs count while it is deallocated; 4 do not fit in 3.
      fleet([{ tags: { SpotRestarterFallbackSizes: 'Standard_E2s_v5,Standard_D4s_v4,Standard_D2s_v4' } }], {
        pools: noCapacity('Standard_D2s_v5'),
        restrictedSizes: [{ location: 'eastus', vmSize: 'Standard_E2s_v5' }],
        quotas: { eastus: 3 }
      }),
      { workflowsDir: WORKFLOWS }
    );
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'started-fallback', usedSize: 'Standard_D2s_v4' });
    expect(r!.sizesSkipped).toEqual([
      {
        size: 'Standard_E2s_v5',
        reason: expect.stringContaining('restricted for the subscription: NotAvailableForSubscription')
      },
      { size: 'Standard_D4s_v4', reason: expect.stringContaining("region's Spot vCPU quota") }
    ]);
  });

  test('sizes Azure refuses for good (not for Spot, across the temp-disk boundary): one PATCH each, then the next size', async () => {
    emu = await emulator(
      fleet([{ tags: { SpotRestarterFallbackSizes: 'Standard_F2s_v2,Standard_E2as_v5,Standard_D2as_v5' } }], {
        pools: noCapacity('Standard_D2s_v5'),
        spotIncapableSizes: ['Standard_E2as_v5']
      }),
      { workflowsDir: WORKFLOWS }
    );
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'started-fallback', usedSize: 'Standard_D2as_v5' });
    expect(r!.sizesSkipped).toEqual([
      { size: 'Standard_F2s_v2', reason: expect.stringContaining('temp-disk boundary') },
      { size: 'Standard_E2as_v5', reason: expect.stringContaining('not offered for Spot') }
    ]);
    // The temp-disk refusal is Azure's to make (newer docs allow it for Linux): refused once, not
    // retried as if the VM were busy. The size not for Spot is passed over from Resource SKUs, unwritten.
    expect(emu.answers['update:409']).toBe(1);
    expect(emu.vm('vm-0')).toMatchObject({ vmSize: 'Standard_D2as_v5', powerState: 'running' });
  });

  // "Compute throttling limits": Update VM (Update, Start, …) per VM 12, refilled 4 a minute. Six
  // sizes are a start, then a resize and a start for each of five others: eleven of the VM's tokens.
  test("a fallback that tries six sizes stays within the VM's Update VM budget: no 429", async () => {
    const list = 'Standard_D2as_v5,Standard_D2s_v4,Standard_D4s_v5,Standard_D4as_v5,Standard_E2s_v5';
    emu = await emulator(
      fleet([{ tags: { SpotRestarterFallbackSizes: list } }], {
        pools: noCapacity(
          'Standard_D2s_v5',
          'Standard_D2as_v5',
          'Standard_D2s_v4',
          'Standard_D4s_v5',
          'Standard_D4as_v5'
        )
      }),
      { workflowsDir: WORKFLOWS }
    );
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'started-fallback', usedSize: 'Standard_E2s_v5' });
    expect(r!.sizesTried).toHaveLength(6);
    expect(Object.keys(emu.answers).filter(k => k.endsWith(':429'))).toEqual([]);
  });

  test('a fleet-wide list from the input, ordered by eviction rate', async () => {
    emu = await emulator(
      fleet(
        [{}],
        {
          pools: noCapacity('Standard_D2s_v5'),
          evictionRates: { 'eastus/Standard_D2as_v5': '15-20', 'eastus/Standard_D2s_v4': '0-5' }
        },
        {
          FALLBACK_SIZES: 'Standard_D2s_v5=Standard_D2as_v5,Standard_D2s_v4',
          FALLBACK_ORDER: 'eviction-rate'
        }
      ),
      { workflowsDir: WORKFLOWS }
    );
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'started-fallback', usedSize: 'Standard_D2s_v4' });
  });

  test('without the fallback role: it says so, and the VM gets a plain restart', async () => {
    emu = await emulator(
      fleet([{ tags: LIST }], { pools: noCapacity('Standard_D2s_v5') }, {}, shippedRoleActions()),
      {
        workflowsDir: WORKFLOWS
      }
    );
    const [run] = await emu.schedule();
    const [r] = results(run);
    expect(r!.outcome).toBe('capacity-unavailable');
    expect(r!.detail).toContain('fallback sizes is off for this run');
    expect(run!.log).toContain('Missing permission');
    expect(emu.vm('vm-0').vmSize).toBe('Standard_D2s_v5');
  });
});

describe('revert', () => {
  const away = {
    powerState: 'running' as const,
    annotation: undefined,
    vmSize: 'Standard_D2as_v5',
    tags: { ...LIST, SpotRestarterPreferredSize: 'Standard_D2s_v5' }
  };

  test('once capacity returns: the VM is back on its preferred size, and running', async () => {
    emu = await emulator(fleet([away], {}, { MODE: 'revert' }), { workflowsDir: WORKFLOWS });
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'reverted', reverted: true, preferredSize: 'Standard_D2s_v5' });
    expect(emu.vm('vm-0')).toMatchObject({ vmSize: 'Standard_D2s_v5', powerState: 'running' });
  });

  test('while the preferred size is still restricted: nothing is touched', async () => {
    emu = await emulator(
      fleet(
        [away],
        { restrictedSizes: [{ location: 'eastus', vmSize: 'Standard_D2s_v5' }] },
        { MODE: 'revert' }
      ),
      { workflowsDir: WORKFLOWS }
    );
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'skipped', reverted: false });
    expect(r!.detail).toContain('nothing touched');
    expect(emu.vm('vm-0')).toMatchObject({
      vmSize: 'Standard_D2as_v5',
      powerState: 'running',
      startsAccepted: 0
    });
  });

  test('the start on the preferred size fails: straight back to the size that worked', async () => {
    emu = await emulator(fleet([away], { pools: noCapacity('Standard_D2s_v5') }, { MODE: 'revert' }), {
      workflowsDir: WORKFLOWS
    });
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'started-fallback', reverted: false });
    expect(r!.detail).toMatch(/revert to Standard_D2s_v5 failed .*back on Standard_D2as_v5, running/);
    expect(emu.vm('vm-0')).toMatchObject({ vmSize: 'Standard_D2as_v5', powerState: 'running' });
  });

  test('neither size starts after the deallocate: the size that worked is tried again until it starts', async () => {
    emu = await emulator(
      fleet([away], { pools: noCapacity('Standard_D2s_v5') }, { MODE: 'revert', RETRY_FOR: '1m' }),
      { workflowsDir: WORKFLOWS }
    );
    const e = emu;
    // Someone takes the capacity the revert frees; it comes back five emulated minutes later.
    const deallocate = e.model.userDeallocate.bind(e.model);
    e.model.userDeallocate = (vm, fault) => {
      deallocate(vm, fault);
      e.model.setCapacity('eastus', 'Standard_D2as_v5', 0);
      e.clock.after(300_000, () => e.model.setCapacity('eastus', 'Standard_D2as_v5', 1));
    };
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'started-fallback', reverted: false });
    expect(r!.detail).toMatch(/back on Standard_D2as_v5, running \(started on attempt \d+\)/);
    expect(e.vm('vm-0')).toMatchObject({ vmSize: 'Standard_D2as_v5', powerState: 'running' });
  });

  test('a restart run never reverts', async () => {
    emu = await emulator(fleet([away]), { workflowsDir: WORKFLOWS });
    await sweep();
    expect(emu.vm('vm-0')).toMatchObject({
      vmSize: 'Standard_D2as_v5',
      powerState: 'running',
      startsAccepted: 0
    });
  });
});

describe('price first', () => {
  const priced = { maxPrice: 0.01 };
  const prices = { prices: { 'eastus/Standard_D2s_v5': 0.0207 } };

  test('price above max: no start call, both prices reported', async () => {
    emu = await emulator(fleet([priced], prices), { workflowsDir: WORKFLOWS });
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'price-above-max', currentPrice: 0.0207 });
    expect(r!.detail).toContain('0.0207 USD is above its max price 0.01 USD');
    expect(emu.vm('vm-0').startsAccepted).toBe(0);
  });

  test('with raise-max-price it starts, and the report shows both prices', async () => {
    emu = await emulator(fleet([priced], prices, { RAISE_MAX_PRICE: 'to-current' }), {
      workflowsDir: WORKFLOWS
    });
    const [r] = await sweep();
    // Five decimals at most, strictly above the current price (BillingProfile: "greater than").
    expect(r).toMatchObject({ outcome: 'started', oldMaxPrice: 0.01, newMaxPrice: 0.02071 });
    expect(emu.vm('vm-0')).toMatchObject({ maxPrice: 0.02071, powerState: 'running' });
  });

  test('to-current with a price of more than five decimals: rounded up to five', async () => {
    emu = await emulator(
      fleet([priced], { prices: { 'eastus/Standard_D2s_v5': 0.0207341 } }, { RAISE_MAX_PRICE: 'to-current' }),
      { workflowsDir: WORKFLOWS }
    );
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'started', newMaxPrice: 0.02074 });
  });

  test("a Uniform Windows instance: priced as Windows, and its max price is the scale set's to raise", async () => {
    const scaleSet = (name: string, osType: 'Linux' | 'Windows') => ({
      subscriptionId: SUB,
      resourceGroup: 'rg-pool',
      name,
      orchestration: 'Uniform' as const,
      osType,
      maxPrice: 0.03,
      tags: TAG,
      instances: [{ powerState: 'deallocated' as const, annotation: 'VirtualMachinePreempted' as const }]
    });
    emu = await emulator(
      fleet(
        [],
        {
          prices: { 'eastus/Standard_D2s_v5': 0.02 },
          scaleSets: [scaleSet('win', 'Windows'), scaleSet('lin', 'Linux')]
        },
        { RAISE_MAX_PRICE: 'to-current' }
      ),
      { workflowsDir: WORKFLOWS }
    );
    const found = Object.fromEntries((await sweep()).map(r => [r.name, r]));
    // Windows: 0.036 USD, above 0.03; Linux: 0.02, within it.
    expect(found.win_0).toMatchObject({ outcome: 'price-above-max', currentPrice: 0.036 });
    expect(found.win_0!.detail).toContain('raise the max price of scale set win');
    expect(found.lin_0).toMatchObject({ outcome: 'started' });
    expect(emu.answers['update:404'] ?? 0).toBe(0);
    expect(emu.scaleSet('win').maxPrice).toBe(0.03);
    expect(emu.vm('win_0').startsAccepted).toBe(0);
  });

  test('one SpotResources query for the whole sweep, whatever the number of VMs, sizes and lists', async () => {
    emu = await emulator(
      fleet(
        [
          priced,
          { ...priced, vmSize: 'Standard_D4s_v5' },
          { ...priced, vmSize: 'Standard_E2s_v5' },
          { tags: LIST },
          {}
        ],
        { prices: { ...prices.prices, 'eastus/Standard_D4s_v5': 0.008, 'eastus/Standard_E2s_v5': 0.009 } }
      ),
      { workflowsDir: WORKFLOWS }
    );
    const [run] = await emu.schedule();
    const queries = run!.log.split('\n').filter(l => l.includes('SpotResources query'));
    expect(queries).toHaveLength(1);
    expect(queries[0]).toContain('5 size(s) in 1 region(s)');
    expect(results(run).map(r => r.outcome)).toEqual([
      'price-above-max',
      'started',
      'started',
      'started',
      'started'
    ]);
  });

  test('a cap below the current price: not raised, not started', async () => {
    emu = await emulator(fleet([priced], prices, { RAISE_MAX_PRICE: '0.015' }), { workflowsDir: WORKFLOWS });
    const [r] = await sweep();
    expect(r).toMatchObject({ outcome: 'price-above-max' });
    expect(emu.vm('vm-0')).toMatchObject({ maxPrice: 0.01, startsAccepted: 0 });
  });
});
