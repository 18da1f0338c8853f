/**
 * A fleet at scale, for the benchmark and the large end-to-end tests: `vms` Spot VMs over `subs`
 * subscriptions, two regions and seven resource groups, of which a share was evicted (tagged,
 * annotated VirtualMachinePreempted), and a few decoys that must never be started: deallocated by a
 * user, or evicted but not opted in. The rest run.
 */
import { DEFAULT_APP, type FleetSpec, type VmSpec } from './fleet.js';
import { subscriptionIds, TAG } from './sample-fleet.js';

export interface ScaleFleetOptions {
  /** Share of the VMs evicted and eligible (default 0.3). */
  evicted?: number;
  /** Share of the eligible VMs on a size no region offers: their start fails with SkuNotAvailable. */
  unavailable?: number;
  /** The client secret of the app the runs sign in as. */
  secret: string;
}

export const UNAVAILABLE_SIZE = 'Standard_NotOffered_v1';

export function scaleFleet(
  vms: number,
  subs: number,
  options: ScaleFleetOptions
): FleetSpec & { eligible: string[]; decoys: string[] } {
  const evicted = options.evicted ?? 0.3;
  const ids = subscriptionIds(subs);
  const specs: VmSpec[] = [];
  const eligible: string[] = [];
  const decoys: string[] = [];
  for (let i = 0; i < vms; i++) {
    const name = `vm-${String(i).padStart(5, '0')}`;
    const base = {
      subscriptionId: ids[i % subs]!,
      resourceGroup: `rg-${i % 7}`,
      name,
      location: i % 2 ? 'eastus' : 'westeurope',
      tags: TAG
    };
    // A fixed scatter, so every run of the same size has the same fleet.
    const r = (i * 7919) % 100;
    if (r < evicted * 100) {
      const offered = !options.unavailable || (i * 104_729) % 1000 >= options.unavailable * 1000;
      specs.push({
        ...base,
        ...(offered ? {} : { vmSize: UNAVAILABLE_SIZE }),
        powerState: 'deallocated',
        annotation: 'VirtualMachinePreempted'
      });
      eligible.push(name);
    } else if (r < evicted * 100 + 3) {
      specs.push({ ...base, powerState: 'deallocated', annotation: 'VirtualMachineDeallocationInitiated' });
      decoys.push(name);
    } else if (r < evicted * 100 + 6) {
      specs.push({ ...base, tags: {}, powerState: 'deallocated', annotation: 'VirtualMachinePreempted' });
      decoys.push(name);
    } else {
      specs.push({ ...base, powerState: 'running' });
    }
  }
  return {
    subscriptions: ids,
    vms: specs,
    unavailableSizes: options.unavailable ? [UNAVAILABLE_SIZE] : undefined,
    apps: [
      {
        clientId: DEFAULT_APP,
        secret: options.secret,
        federatedSubjects: ['repo:acme/spot-fleet:ref:refs/heads/main']
      }
    ],
    eligible,
    decoys
  };
}

/**
 * A render farm at scale: `scaleSets` Uniform scale sets of `perSet` instances over `subs`
 * subscriptions, the opt-in tag on each scale set (where Uniform tags live), a share of every
 * scale set evicted and annotated VirtualMachinePreempted.
 */
export function uniformFleet(
  scaleSets: number,
  perSet: number,
  subs: number,
  options: ScaleFleetOptions
): FleetSpec & { eligible: string[]; decoys: string[] } {
  const evicted = options.evicted ?? 0.3;
  const ids = subscriptionIds(subs);
  const eligible: string[] = [];
  const fleet = scaleFleet(0, subs, options);
  fleet.scaleSets = Array.from({ length: scaleSets }, (_, s) => {
    const name = `farm-${String(s).padStart(2, '0')}`;
    return {
      subscriptionId: ids[s % subs]!,
      resourceGroup: `rg-farm-${s % 3}`,
      name,
      orchestration: 'Uniform' as const,
      location: s % 2 ? 'eastus' : 'westeurope',
      tags: TAG,
      instances: Array.from({ length: perSet }, (_, n) => {
        if ((n * 7919) % 100 >= evicted * 100) return {};
        eligible.push(`${name}_${n}`);
        return { powerState: 'deallocated' as const, annotation: 'VirtualMachinePreempted' as const };
      })
    };
  });
  return { ...fleet, eligible, decoys: [] };
}
