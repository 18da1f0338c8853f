/**
 * Fleets for the demo, the tests and the benchmarks: opted-in Spot VMs spread over subscriptions,
 * regions and resource groups, plus decoys the action must never touch — untagged, regular
 * priority, eviction policy Delete, and VMs their owner deallocated on purpose.
 */
import type { FleetSpec, VmSpec } from './fleet.js';

export const TAG = { AttemptRestartAfterEviction: 'true' };

export function subscriptionIds(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `${String(i + 1).padStart(8, '0')}-5107-4e5f-9d3a-0000000000${String(i + 1).padStart(2, '0')}`
  );
}

export type Role = 'eligible' | 'untagged' | 'regular' | 'delete-policy' | 'user-stopped' | 'running';

export interface SampleVm extends VmSpec {
  role: Role;
}

/**
 * `eligibleCount` opted-in Spot VMs (running, to be evicted) and `decoysPerKind` of each decoy kind,
 * round-robin over subscriptions and regions.
 */
export function sampleFleet(options: {
  subscriptions: number;
  eligible: number;
  decoysPerKind: number;
  regions?: string[];
}): Omit<FleetSpec, 'vms'> & { vms: SampleVm[] } {
  const subs = subscriptionIds(options.subscriptions);
  const regions = options.regions ?? ['eastus', 'westeurope'];
  const vms: SampleVm[] = [];
  let n = 0;
  const place = (role: Role, spec: Partial<VmSpec>) => {
    const i = n++;
    const sub = subs[i % subs.length]!;
    vms.push({
      role,
      subscriptionId: sub,
      resourceGroup: `rg-${role === 'eligible' || role === 'running' ? 'batch' : role}-${(i % 3) + 1}`,
      name: `${role}-${String(i).padStart(4, '0')}`,
      location: regions[i % regions.length]!,
      vmSize: i % 2 ? 'Standard_D2s_v5' : 'Standard_D4s_v5',
      priority: 'Spot',
      evictionPolicy: 'Deallocate',
      maxPrice: -1,
      tags: { ...TAG, team: 'batch' },
      powerState: 'running',
      ...spec
    });
  };
  for (let i = 0; i < options.eligible; i++) place('eligible', {});
  for (let i = 0; i < options.decoysPerKind; i++) {
    place('untagged', {
      tags: { team: 'batch' },
      powerState: 'deallocated',
      annotation: 'VirtualMachinePreempted'
    });
    place('regular', { priority: 'Regular', powerState: 'deallocated' });
    place('delete-policy', { evictionPolicy: 'Delete' });
    place('user-stopped', { powerState: 'deallocated', annotation: 'VirtualMachineDeallocationInitiated' });
    place('running', {});
  }
  return { subscriptions: subs, vms };
}
