/**
 * The writes the fallback, the revert and the price raise make to a VM, through the Compute SDK's
 * `virtualMachines.update` (PATCH, VirtualMachines_Update): the preferred-size tag, the size, the
 * max price. Azure takes a new size or max price only while the VM is deallocated (Microsoft
 * Learn, "Resize a virtual machine"; "Azure Spot Virtual Machines": "Before you can change the max
 * price, you need to deallocate the VM"), so callers check the instance view right before.
 */
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { VmRecord } from '../discover/discovery.js';
import { PREFERRED_TAG } from '../discover/size-list.js';
import { withTransientRetry, type Clock } from '../azure/retry.js';

export interface WriteDeps {
  clock: Clock;
  client: ComputeManagementClient;
  pollIntervalMs: number;
  deadline: number;
}

type Target = Pick<VmRecord, 'name' | 'resourceGroup'>;

async function patch(
  vm: Target,
  body: Parameters<ComputeManagementClient['virtualMachines']['update']>[2],
  what: string,
  deps: WriteDeps
): Promise<void> {
  await withTransientRetry(
    deps.clock,
    `${vm.name}: ${what}`,
    () =>
      deps.client.virtualMachines
        .update(vm.resourceGroup, vm.name, body, { updateIntervalInMs: deps.pollIntervalMs })
        .pollUntilDone(),
    undefined,
    deps.deadline
  );
}

/**
 * Records the preferred size as a tag, keeping every other tag: a PATCH replaces the whole tag
 * set. Written once, before the VM's first resize, so any later run knows what "back" means.
 */
export function recordPreferredSize(
  vm: Target,
  tags: Record<string, string>,
  preferred: string,
  deps: WriteDeps
): Promise<void> {
  const kept = Object.fromEntries(
    Object.entries(tags).filter(([k]) => k.toLowerCase() !== PREFERRED_TAG.toLowerCase())
  );
  return patch(vm, { tags: { ...kept, [PREFERRED_TAG]: preferred } }, 'recording its preferred size', deps);
}

export function resizeVm(vm: Target, size: string, deps: WriteDeps): Promise<void> {
  return patch(vm, { hardwareProfile: { vmSize: size } }, `resize to ${size}`, deps);
}

export function setMaxPrice(vm: Target, maxPrice: number, deps: WriteDeps): Promise<void> {
  return patch(vm, { billingProfile: { maxPrice } }, `max price to ${maxPrice}`, deps);
}

/** Revert mode only: the VM must be deallocated to take its preferred size back. */
export async function deallocateVm(vm: Target, deps: WriteDeps): Promise<void> {
  await withTransientRetry(
    deps.clock,
    `${vm.name}: deallocate`,
    () =>
      deps.client.virtualMachines
        .deallocate(vm.resourceGroup, vm.name, { updateIntervalInMs: deps.pollIntervalMs })
        .pollUntilDone(),
    undefined,
    deps.deadline
  );
}
