/**
 * A VM's power state from its instance view: the truth where Resource Graph may lag. Every read
 * is paced within Compute's per-VM "Low Cost Get VM" budget and never waits past a deadline.
 */
import type { VirtualMachineInstanceView } from '@azure/arm-compute';
import type { ComputeFor } from '../azure/clients.js';
import { describeAzureError } from '../azure/errors.js';
import type { ResourceBudget } from '../azure/resource-budget.js';
import { DeadlineError, withTransientRetry, type Clock } from '../azure/retry.js';
import type { VmRecord } from './discovery.js';

export interface PowerState {
  code: string;
  /** When the VM's last operation finished (the ProvisioningState status' time); absent while one runs. */
  changedAt?: number;
  /** `ProvisioningState/updating`: an operation is under way (Azure shows no time then). */
  updating?: boolean;
  /**
   * `ProvisioningState/failed/<code>`: the last operation failed (after a failed start the power
   * state stays deallocated); `changedAt` is then the failure's time, not a deallocation's.
   */
  failedCode?: string;
}

/** What reading a VM's instance view needs. */
export interface VmReadDeps {
  clock: Clock;
  compute: ComputeFor;
  /** Compute's per-VM "Low Cost Get VM" budget (GET and instance view; "Get VMSS VMs" has the same numbers). */
  vmReads: ResourceBudget;
}

/** The VM's power state from its instance view (the truth, where ARG may lag), or `gone`. */
export async function readPowerState(
  vm: VmRecord,
  deps: VmReadDeps,
  deadline?: number,
  reserve = 0
): Promise<PowerState> {
  const view = await readInstanceView(vm, deps, `${vm.name}: instance view`, deadline, reserve);
  if (view === 'gone') return { code: 'gone' };
  const provisioning = view.statuses?.find(s => s.code?.startsWith('ProvisioningState/'));
  const time = provisioning?.time;
  const failed = /^ProvisioningState\/failed(?:\/(.+))?$/i.exec(provisioning?.code ?? '');
  return {
    code: view.statuses?.find(s => s.code?.startsWith('PowerState/'))?.code ?? 'PowerState/unknown',
    changedAt: time ? new Date(time).getTime() : undefined,
    updating: provisioning?.code?.toLowerCase() === 'provisioningstate/updating',
    ...(failed ? { failedCode: failed[1] ?? 'failed' } : {})
  };
}

/**
 * The instance view of a VM, or of a Uniform instance through its scale set ("Get VMSS VMs": the
 * same per-instance budget), spending one read of the per-VM budget; `gone` when it no longer exists.
 */
export async function readInstanceView(
  vm: VmRecord,
  deps: VmReadDeps,
  what: string,
  deadline?: number,
  reserve = 0
): Promise<VirtualMachineInstanceView | 'gone'> {
  const key = vm.id.toLowerCase();
  try {
    await deps.vmReads.take(key, { reserve, deadline, what });
    const onResponse = (r: { headers: { get(name: string): string | undefined } }) =>
      deps.vmReads.observe(key, r.headers.get('x-ms-ratelimit-remaining-resource'));
    const client = deps.compute(vm.subscriptionId);
    return await withTransientRetry(
      deps.clock,
      what,
      (): Promise<VirtualMachineInstanceView> =>
        vm.kind === 'vmss-uniform'
          ? client.virtualMachineScaleSetVMs.getInstanceView(
              vm.resourceGroup,
              vm.scaleSet!.name,
              vm.instanceId!,
              {
                onResponse
              }
            )
          : client.virtualMachines.instanceView(vm.resourceGroup, vm.name, { onResponse }),
      undefined,
      deadline
    );
  } catch (error) {
    if (error instanceof DeadlineError) throw error;
    if (describeAzureError(error).status === 404) return 'gone';
    throw error;
  }
}
