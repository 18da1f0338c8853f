/**
 * The promises of fallback sizes and revert, over random capacity, quota, restrictions, prices,
 * power states, tags and modes: the bundle runs against the emulator as GitHub runs it, and every
 * write it asks of Compute is recorded as it arrives (before the emulator's own checks), so what
 * is tested is what the action asked for, not what Azure let through.
 * - a VM is only ever resized while deallocated, and only to a size in its list;
 * - its preferred size is recorded before its first resize;
 * - a VM without a list is never resized;
 * - revert (a deallocation by the action) never happens outside revert mode.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { FleetSpec } from '../emulator/fleets/fleet.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import type { Emulator } from '../emulator/server.js';
import { emulator, fleetOf, results } from '../e2e/harness.js';

const WORKFLOWS = new URL('../e2e/fallback-workflows', import.meta.url).pathname;
const FALLBACK_ROLE = (
  JSON.parse(readFileSync('docs/spot-restarter-fallback-role.json', 'utf8')) as { Actions: string[] }
).Actions;
const SIZES = [
  'Standard_D2s_v5',
  'Standard_D2as_v5',
  'Standard_D2s_v4',
  'Standard_E2s_v5',
  'Standard_F2s_v2'
];
const vmArb = fc.record({
  vmSize: fc.constantFrom(...SIZES),
  // Mostly evicted: the fallback only ever acts on a deallocated VM.
  running: fc.constantFrom(false, false, false, true),
  list: fc.option(fc.shuffledSubarray(SIZES, { minLength: 1, maxLength: 4 }), { nil: undefined }),
  preferredTag: fc.option(fc.constantFrom(...SIZES), { nil: undefined }),
  maxPrice: fc.constantFrom(-1, 0.01, 0.03)
});

const configArb = fc.record({
  vms: fc.array(vmArb, { minLength: 1, maxLength: 3 }),
  noCapacity: fc.subarray(SIZES, { minLength: 2 }),
  restricted: fc.subarray(SIZES, { maxLength: 1 }),
  // Total Regional Spot vCPUs (deallocated VMs count): tight enough that a resize can exceed it.
  quota: fc.option(fc.constantFrom(2, 4, 6), { nil: undefined }),
  prices: fc.dictionary(fc.constantFrom(...SIZES), fc.constantFrom(0.005, 0.02, 0.05), { maxKeys: 3 }),
  mode: fc.constantFrom('restart', 'revert'),
  raise: fc.constantFrom('no', 'to-current', '0.04'),
  fleetWide: fc.option(fc.shuffledSubarray(SIZES, { minLength: 2, maxLength: 3 }), { nil: undefined })
});
type Config = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

/** The configuration's fleet: one subscription in eastus, its VMs in one resource group. */
function fleetFor(c: Config): FleetSpec {
  return fleetOf(
    c.vms.map(v => ({
      vmSize: v.vmSize,
      maxPrice: v.maxPrice,
      powerState: v.running ? 'running' : 'deallocated',
      annotation: v.running ? undefined : 'VirtualMachinePreempted',
      tags: {
        ...(v.list ? { SpotRestarterFallbackSizes: v.list.join(',') } : {}),
        ...(v.preferredTag ? { SpotRestarterPreferredSize: v.preferredTag } : {})
      }
    })),
    {
      identity: { actions: [...shippedRoleActions(), ...FALLBACK_ROLE] },
      vars: {
        MODE: c.mode,
        RAISE_MAX_PRICE: c.raise,
        ...(c.fleetWide ? { FALLBACK_SIZES: `${c.fleetWide[0]}=${c.fleetWide.slice(1).join(',')}` } : {})
      }
    },
    {
      pools: c.noCapacity.map(vmSize => ({ location: 'eastus', vmSize, capacity: 0 })),
      restrictedSizes: c.restricted.map(vmSize => ({ location: 'eastus', vmSize })),
      quotas: c.quota === undefined ? {} : { eastus: c.quota },
      prices: Object.fromEntries(Object.entries(c.prices).map(([s, p]) => [`eastus/${s}`, p]))
    }
  );
}

interface Write {
  vm: string;
  powerState: string;
  updating: boolean;
  vmSize?: string;
  tags?: Record<string, string>;
}

/** Records every write as it arrives, before the emulator decides whether Azure would allow it. */
function recordWrites(emu: Emulator): { writes: Write[]; deallocations: string[] } {
  const writes: Write[] = [];
  const deallocations: string[] = [];
  const update = emu.model.update.bind(emu.model);
  emu.model.update = (vm, patch) => {
    writes.push({
      vm: vm.name,
      powerState: vm.powerState,
      updating: vm.provisioning === 'updating',
      vmSize: patch.vmSize !== vm.vmSize ? patch.vmSize : undefined,
      tags: patch.tags
    });
    return update(vm, patch);
  };
  const deallocate = emu.model.userDeallocate.bind(emu.model);
  emu.model.userDeallocate = (vm, fault) => {
    deallocations.push(vm.name);
    deallocate(vm, fault);
  };
  return { writes, deallocations };
}

/** The sizes a VM's owner accepts, as configured: its preferred size and its list (the tag wins over the input). */
function acceptedSizes(c: Config, i: number): string[] | undefined {
  const v = c.vms[i]!;
  const preferred = v.preferredTag ?? v.vmSize;
  if (v.list) return [preferred, ...v.list];
  if (c.fleetWide && c.fleetWide[0] === preferred) return [preferred, ...c.fleetWide.slice(1)];
  return undefined;
}

/**
 * A configuration in which the action must resize: the VM's size has no capacity and its list
 * names one that has. It is checked first at every run, so that the check below that the property
 * saw resizes does not depend on the draw: about one run in ten drew 12 configurations that
 * resize nothing (seed 1231542192, for one).
 */
const RESIZES: Config = {
  vms: [
    {
      vmSize: 'Standard_D2s_v5',
      running: false,
      list: ['Standard_D2as_v5'],
      preferredTag: undefined,
      maxPrice: -1
    }
  ],
  noCapacity: ['Standard_D2s_v5', 'Standard_E2s_v5'],
  restricted: [],
  quota: undefined,
  prices: {},
  mode: 'restart',
  raise: 'no',
  fleetWide: undefined
};

describe('fallback sizes and revert never overstep', () => {
  test('over random capacity, quota, restrictions, prices, tags and modes', async () => {
    let resized = 0;
    await fc.assert(
      fc.asyncProperty(configArb, async c => {
        const emu = await emulator(fleetFor(c), { workflowsDir: WORKFLOWS });
        try {
          const { writes, deallocations } = recordWrites(emu);
          const [run] = await emu.schedule();
          expect(run!.exitCode).toBe(0);
          results(run); // the run reported
          c.vms.forEach((v, i) => {
            const name = `vm-${i}`;
            const mine = writes.filter(w => w.vm === name);
            const resizes = mine.filter(w => w.vmSize !== undefined);
            const accepted = acceptedSizes(c, i);
            resized += resizes.length;
            if (!accepted) expect(resizes).toEqual([]);
            for (const r of resizes) {
              expect(r.powerState).toBe('deallocated');
              expect(r.updating).toBe(false);
              expect(accepted!.map(s => s.toLowerCase())).toContain(r.vmSize!.toLowerCase());
            }
            if (resizes.length && !v.preferredTag) {
              const firstResize = mine.indexOf(resizes[0]!);
              const recorded = mine.findIndex(w => w.tags?.SpotRestarterPreferredSize === v.vmSize);
              expect(recorded).toBeGreaterThanOrEqual(0);
              expect(recorded).toBeLessThan(firstResize);
            }
          });
          if (c.mode !== 'revert') expect(deallocations).toEqual([]);
        } finally {
          await emu.stop();
        }
      }),
      { numRuns: 13, examples: [[RESIZES]] }
    );
    // Not vacuous: the configurations checked did make the action resize VMs.
    expect(resized).toBeGreaterThan(0);
  }, 240_000);
});
