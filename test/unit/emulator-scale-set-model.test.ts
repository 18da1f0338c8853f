/** The emulator's scale sets: identities, the shared Spot state machine, one start for many instances, Try & restore. */
import { describe, expect, test } from '@jest/globals';
import { ScaledClock } from '../emulator/clock.js';
import type { FleetSpec } from '../emulator/fleets/fleet.js';
import { flexibleInstanceName } from '../emulator/azure/scale-set-model.js';
import { DEFAULT_TIMING, SpotModel, type Operation, type Vm } from '../emulator/azure/spot.js';

const SUB = '00000001-5107-4e5f-9d3a-000000000001';
const SCALE = 2000;

function model(fleet: Partial<FleetSpec>) {
  const clock = new ScaledClock(SCALE);
  return new SpotModel({ subscriptions: [SUB], vms: [], ...fleet }, clock, DEFAULT_TIMING);
}

/** Waits real time for an emulated duration to pass. */
const emulated = (seconds: number) => new Promise(r => setTimeout(r, (seconds * 1000) / SCALE + 20));

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 5));
  }
}

const byName = (m: SpotModel, name: string): Vm => [...m.vms.values()].find(v => v.name === name)!;

describe('identities', () => {
  const m = model({
    scaleSets: [
      {
        subscriptionId: SUB,
        resourceGroup: 'rg-pool',
        name: 'pool',
        orchestration: 'Uniform',
        maxPrice: 0.5,
        evictionPolicy: 'Delete',
        tags: { AttemptRestartAfterEviction: 'true' },
        instances: [{}, { powerState: 'deallocated', tags: { own: 'x' } }]
      },
      { subscriptionId: SUB, resourceGroup: 'rg-flex', name: 'flex', orchestration: 'Flexible', instances: 2 }
    ]
  });

  test('a Uniform instance: {scaleSetId}/virtualMachines/{n}, named {ss}_{n}, with the scale set’s Spot settings and its own tags', () => {
    const ss = m.getScaleSet(
      `/subscriptions/${SUB}/resourceGroups/rg-pool/providers/Microsoft.Compute/virtualMachineScaleSets/pool`
    )!;
    expect(ss.instances.map(v => [v.id, v.name, v.instanceId, v.kind])).toEqual([
      [`${ss.id}/virtualMachines/0`, 'pool_0', '0', 'vmss-uniform'],
      [`${ss.id}/virtualMachines/1`, 'pool_1', '1', 'vmss-uniform']
    ]);
    const one = byName(m, 'pool_1');
    expect(one).toMatchObject({
      priority: 'Spot',
      evictionPolicy: 'Delete',
      maxPrice: 0.5,
      tags: { own: 'x' },
      powerState: 'deallocated',
      scaleSet: ss
    });
    expect(byName(m, 'pool_0').tags).toEqual({});
  });

  test('a Flexible instance is an ordinary VM named {ss}_{8 hex}, the same name for the same scale set and index', () => {
    const names = [...m.vms.values()].filter(v => v.kind === 'vmss-flex').map(v => v.name);
    expect(names).toEqual([flexibleInstanceName('flex', 0), flexibleInstanceName('flex', 1)]);
    expect(names[0]).toMatch(/^flex_[0-9a-f]{8}$/);
    expect(names[0]).not.toBe(names[1]);
    expect(byName(m, names[0]!).id).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-flex/providers/Microsoft.Compute/virtualMachines/${names[0]}`
    );
  });

  test('standalone VMs are still of kind vm, with no scale set', () => {
    const solo = model({ vms: [{ subscriptionId: SUB, resourceGroup: 'rg', name: 'vm1' }] });
    const vm = byName(solo, 'vm1');
    expect(vm.kind).toBe('vm');
    expect(vm.scaleSet).toBeUndefined();
    expect(vm.instanceId).toBeUndefined();
  });
});

test('a scale set spec with a wrong field is refused with the field, its value and what is expected', () => {
  expect(() =>
    model({
      scaleSets: [
        { subscriptionId: SUB, resourceGroup: 'rg', name: 'ok', orchestration: 'Flexible', instances: 1 },
        {
          subscriptionId: SUB,
          resourceGroup: 'rg',
          name: 'pool',
          orchestration: 'uniform' as 'Uniform',
          instances: 1
        }
      ]
    })
  ).toThrow(`scaleSets[1].orchestration is "uniform": expected 'Uniform' or 'Flexible'`);
  expect(() =>
    model({
      scaleSets: [
        { subscriptionId: SUB, resourceGroup: 'rg', name: 'pool', orchestration: 'Uniform', instances: -2 }
      ]
    })
  ).toThrow('scaleSets[0].instances is -2');
});

describe('the Spot state machine on instances', () => {
  test('an eviction names the Uniform instance as {ss}_{n} in its Preempt event, then deallocates it', async () => {
    const m = model({
      scaleSets: [
        { subscriptionId: SUB, resourceGroup: 'rg', name: 'pool', orchestration: 'Uniform', instances: 3 }
      ]
    });
    const vm = byName(m, 'pool_2');
    const event = m.evict(vm)!;
    expect(event.Resources).toEqual(['pool_2']);
    await until(() => vm.powerState === 'deallocated', 'deallocation');
    expect(vm.annotations.at(-1)!.name).toBe('VirtualMachinePreempted');
    expect(byName(m, 'pool_1').powerState).toBe('running');
  });
});

describe('one start for many instances', () => {
  const fleet = (capacity: number): Partial<FleetSpec> => ({
    pools: [{ location: 'eastus', vmSize: 'Standard_D2s_v5', capacity }],
    scaleSets: [
      {
        subscriptionId: SUB,
        resourceGroup: 'rg',
        name: 'pool',
        orchestration: 'Uniform',
        instances: [
          { powerState: 'deallocated' },
          { powerState: 'deallocated' },
          { powerState: 'running' },
          { powerState: 'deallocated' }
        ]
      }
    ]
  });

  test('named instances start together; a running one is no error; each start is counted once, the call once', async () => {
    const m = model(fleet(10));
    const ss = [...m.scaleSets.values()][0]!;
    const started = m.startScaleSet(ss, ['0', '1', '2']);
    expect('operation' in started).toBe(true);
    const op = (started as { operation: Operation }).operation;
    expect(op.status).toBe('InProgress');
    await until(() => op.status !== 'InProgress', 'the operation');
    expect(op.status).toBe('Succeeded');
    expect(ss.instances.map(v => [v.powerState, v.startsAccepted])).toEqual([
      ['running', 1],
      ['running', 1],
      ['running', 0],
      ['deallocated', 0]
    ]);
    expect(ss.startCalls).toBe(1);
  });

  test('instances without capacity stay deallocated and the operation fails with the allocation error', async () => {
    const m = model(fleet(1));
    const ss = [...m.scaleSets.values()][0]!;
    const op = (m.startScaleSet(ss) as { operation: Operation }).operation;
    await until(() => op.status !== 'InProgress', 'the operation');
    expect(op.status).toBe('Failed');
    // Nested as Azure nests it: ResourceOperationFailure with AllocationFailed among its details.
    expect(JSON.stringify(op.error)).toContain('"AllocationFailed"');
    expect(ss.instances.map(v => v.powerState).sort()).toEqual([
      'deallocated',
      'deallocated',
      'running',
      'running'
    ]);
    expect(ss.instances.reduce((n, v) => n + v.startsAccepted, 0)).toBe(3);
  });

  test('an unknown or malformed instance ID is refused (400 InvalidParameter, target instanceIds) and nothing starts', () => {
    const m = model(fleet(10));
    const ss = [...m.scaleSets.values()][0]!;
    for (const ids of [['0', '7'], ['abc']]) {
      const refused = m.startScaleSet(ss, ids);
      expect(refused).toMatchObject({
        error: { status: 400, body: { error: { code: 'InvalidParameter', target: 'instanceIds' } } }
      });
    }
    expect(ss.instances.every(v => v.startsAccepted === 0)).toBe(true);
  });

  test('a price above the max refuses the call at once (409 SpotPriceGreaterThanProvidedMaxPrice)', () => {
    const m = model({
      prices: { 'eastus/Standard_D2s_v5': 0.3 },
      scaleSets: [
        {
          subscriptionId: SUB,
          resourceGroup: 'rg',
          name: 'pool',
          orchestration: 'Uniform',
          maxPrice: 0.1,
          instances: [{ powerState: 'deallocated' }]
        }
      ]
    });
    const refused = m.startScaleSet([...m.scaleSets.values()][0]!);
    expect(refused).toMatchObject({
      error: { status: 409, body: { error: { code: 'SpotPriceGreaterThanProvidedMaxPrice' } } }
    });
  });
});

describe('Try & restore', () => {
  const fleet = (spotRestore: boolean): Partial<FleetSpec> => ({
    scaleSets: [
      {
        subscriptionId: SUB,
        resourceGroup: 'rg',
        name: 'pool',
        orchestration: 'Uniform',
        spotRestore,
        instances: 2
      }
    ]
  });

  test('an evicted instance of a scale set with Try & restore comes back by itself once capacity returns, with no start call', async () => {
    const m = model(fleet(true));
    const vm = byName(m, 'pool_0');
    m.evict(vm); // takes the capacity away
    await until(() => vm.powerState === 'deallocated', 'deallocation');
    await emulated(DEFAULT_TIMING.tryRestoreDelayS * 2);
    expect(vm.powerState).toBe('deallocated');
    m.setCapacity(vm.location, vm.vmSize, 5);
    await until(() => vm.powerState === 'running', 'the restore');
    expect(vm.startsAccepted).toBe(0);
    expect(m.timeline.filter(e => e.vm === 'pool_0').map(e => e.what)).toContain('restored by Try & restore');
  });

  test('without Try & restore an evicted instance stays deallocated', async () => {
    const m = model(fleet(false));
    const vm = byName(m, 'pool_0');
    m.evict(vm);
    await until(() => vm.powerState === 'deallocated', 'deallocation');
    m.setCapacity(vm.location, vm.vmSize, 5);
    await emulated(DEFAULT_TIMING.tryRestoreDelayS * 3);
    expect(vm.powerState).toBe('deallocated');
  });

  test('an instance a person deallocated is not restored', async () => {
    const m = model(fleet(true));
    const vm = byName(m, 'pool_1');
    m.userDeallocate(vm);
    await emulated(DEFAULT_TIMING.tryRestoreDelayS * 3);
    expect(vm.powerState).toBe('deallocated');
  });
});
