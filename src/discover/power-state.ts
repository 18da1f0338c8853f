/**
 * A VM's power state from its instance view: the truth where Resource Graph may lag. Every read
 * is paced within Compute's per-VM "Low Cost Get VM" budget and never waits past a deadline.
 */
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
  const key = vm.id.toLowerCase();
  const what = `${vm.name}: instance view`;
  try {
    await deps.vmReads.take(key, { reserve, deadline, what });
    const onResponse = (r: { headers: { get(name: string): string | undefined } }) =>
      deps.vmReads.observe(key, r.headers.get('x-ms-ratelimit-remaining-resource'));
    const client = deps.compute(vm.subscriptionId);
    // A Uniform instance's view comes from its scale set ("Get VMSS VMs": the same per-instance budget).
    const view = await withTransientRetry(
      deps.clock,
      what,
      () =>
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
    const provisioning = view.statuses?.find(s => s.code?.startsWith('ProvisioningState/'));
    const time = provisioning?.time;
    const failed = /^ProvisioningState\/failed(?:\/(.+))?$/i.exec(provisioning?.code ?? '');
    return {
      code: view.statuses?.find(s => s.code?.startsWith('PowerState/'))?.code ?? 'PowerState/unknown',
      changedAt: time ? new Date(time).getTime() : undefined,
      updating: provisioning?.code?.toLowerCase() === 'provisioningstate/updating',
      ...(failed ? { failedCode: failed[1] ?? 'failed' } : {})
    };
  } catch (error) {
    if (error instanceof DeadlineError) throw error;
    const info = describeAzureError(error);
    if (info.status === 404) return { code: 'gone' };
    throw error;
  }
}
