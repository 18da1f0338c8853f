/**
 * A fleet where most evicted VMs cannot come back, each for a reason a person must act on — the
 * fleet behind the job summary the README shows. Every VM is already deallocated when the emulator
 * starts, with Azure's evidence (or its absence) as described:
 * - westeurope has no Spot capacity left for Standard_D4s_v5 (AllocationFailed);
 * - Standard_NC4as_T4_v3 is offered in no region (SkuNotAvailable);
 * - eastus has 4 Spot vCPUs of quota (the region's one Spot pool), too few for a Standard_D8s_v5;
 * - northeurope's Spot price for Standard_E4s_v5 is above its VMs' max price;
 * - the identity may read, but not start, the VMs of one resource group;
 * - two VMs went down a few minutes ago and Azure has not said why yet;
 * - and some come back: evicted ones, and one without evidence past the bound.
 */
import { DEFAULT_APP, type FleetSpec, type VmSpec } from './fleet.js';
import { shippedRoleActions } from '../azure/rbac.js';
import { subscriptionIds, TAG } from './sample-fleet.js';

export const PROBLEM_REPOSITORY = 'acme/spot-fleet';

export function problemFleet(vars: Record<string, string> = {}): FleetSpec {
  const [prod, lab] = subscriptionIds(2) as [string, string];
  const vms: VmSpec[] = [];
  const add = (count: number, prefix: string, spec: Partial<VmSpec>) => {
    for (let i = 1; i <= count; i++)
      vms.push({
        subscriptionId: prod,
        resourceGroup: 'rg-batch',
        name: `${prefix}-${i}`,
        location: 'westeurope',
        vmSize: 'Standard_D2s_v5',
        priority: 'Spot',
        evictionPolicy: 'Deallocate',
        maxPrice: -1,
        tags: TAG,
        powerState: 'deallocated',
        annotation: 'VirtualMachinePreempted',
        sinceMinutes: 6,
        ...spec
      });
  };
  add(7, 'render', { vmSize: 'Standard_D4s_v5', resourceGroup: 'rg-render' });
  add(3, 'gpu', {
    subscriptionId: lab,
    location: 'eastus',
    vmSize: 'Standard_NC4as_T4_v3',
    resourceGroup: 'rg-ml'
  });
  add(2, 'build', { location: 'eastus', vmSize: 'Standard_D8s_v5', resourceGroup: 'rg-ci' });
  add(2, 'etl', {
    location: 'northeurope',
    vmSize: 'Standard_E4s_v5',
    maxPrice: 0.05,
    resourceGroup: 'rg-etl'
  });
  add(2, 'locked', { subscriptionId: lab, resourceGroup: 'rg-locked' });
  add(2, 'fresh', { annotation: undefined, sinceMinutes: 2 });
  add(5, 'worker', { location: 'northeurope' });
  add(1, 'silent', { annotation: undefined, sinceMinutes: 40 });
  add(1, 'dev-box', { annotation: 'VirtualMachineDeallocationInitiated' });
  const shipped = shippedRoleActions();
  return {
    subscriptions: [prod, lab],
    apps: [
      {
        clientId: DEFAULT_APP,
        federatedSubjects: [`repo:${PROBLEM_REPOSITORY}:ref:refs/heads/main`],
        assignments: [
          { scope: `/subscriptions/${prod}`, actions: shipped },
          { scope: `/subscriptions/${lab}/resourceGroups/rg-ml`, actions: shipped },
          {
            scope: `/subscriptions/${lab}/resourceGroups/rg-locked`,
            actions: shipped.filter(a => !a.toLowerCase().endsWith('/start/action'))
          }
        ]
      }
    ],
    pools: [{ location: 'westeurope', vmSize: 'Standard_D4s_v5', capacity: 0 }],
    unavailableSizes: ['Standard_NC4as_T4_v3'],
    quotas: { eastus: 4 },
    prices: { 'northeurope/Standard_E4s_v5': 0.09 },
    vms,
    github: {
      repository: PROBLEM_REPOSITORY,
      vars
    }
  };
}
