/**
 * What a started VM's instance view says about its health: the power state, the guest agent's
 * status, the Application Health state (`vmHealth`) and the Application Health extension's own
 * statuses. One read, paced within Compute's per-VM "Low Cost Get VM" budget ("Get VMSS VMs" for a
 * Uniform instance: the same numbers), never waiting past a deadline.
 *
 * Shapes (azure-rest-api-specs, Microsoft.Compute ComputeRP stable 2024-07-01):
 * `VirtualMachineInstanceView` and `VirtualMachineScaleSetVMInstanceView` both carry `vmAgent.statuses`,
 * `extensions[]` and the read-only `vmHealth.status` ("The health status for the VM").
 */
import type { InstanceViewStatus, VirtualMachineInstanceView } from '@azure/arm-compute';
import type { VmRecord } from './discovery.js';
import { readInstanceView, type VmReadDeps } from './power-state.js';

/** One status as Azure wrote it; `time` in ms since the epoch (Azure's clock). */
export interface HealthStatus {
  code: string;
  level?: string;
  displayStatus?: string;
  message?: string;
  time?: number;
}

export interface HealthView {
  /** `PowerState/running`, …, or `gone` (a 404). */
  power: string;
  /** `ProvisioningState/updating`: an operation is still under way. */
  updating: boolean;
  /** The guest agent's own status (`vmAgent.statuses`, the `ProvisioningState/…` one). */
  agent?: HealthStatus;
  /** The Application Health state (`vmHealth.status`), when the extension reports one. */
  vmHealth?: HealthStatus;
  /** The Application Health extension, if the VM has one: its version and its substatuses. */
  appHealthExtension?: { type: string; typeHandlerVersion?: string; statuses: HealthStatus[] };
}

const APP_HEALTH_TYPE = /ApplicationHealth(Linux|Windows)$/i;

export async function readHealthView(
  vm: VmRecord,
  deps: VmReadDeps,
  deadline: number,
  reserve = 0
): Promise<HealthView> {
  const view = await readInstanceView(vm, deps, `${vm.name}: instance view (health)`, deadline, reserve);
  return view === 'gone' ? { power: 'gone', updating: false } : healthViewOf(view);
}

/** The parts of an instance view (a VM's or a scale-set instance's) that speak of health. */
export function healthViewOf(
  view: Pick<VirtualMachineInstanceView, 'statuses' | 'vmAgent' | 'vmHealth' | 'extensions'>
): HealthView {
  const provisioning = view.statuses?.find(s => s.code?.startsWith('ProvisioningState/'));
  const extension = view.extensions?.find(e => APP_HEALTH_TYPE.test(e.type ?? ''));
  return {
    power: view.statuses?.find(s => s.code?.startsWith('PowerState/'))?.code ?? 'PowerState/unknown',
    updating: provisioning?.code?.toLowerCase() === 'provisioningstate/updating',
    agent: status(view.vmAgent?.statuses?.find(s => s.code?.startsWith('ProvisioningState/'))),
    vmHealth: status(view.vmHealth?.status),
    appHealthExtension: extension && {
      type: extension.type!,
      typeHandlerVersion: extension.typeHandlerVersion,
      statuses: [...(extension.statuses ?? []), ...(extension.substatuses ?? [])].flatMap(s => {
        const read = status(s);
        return read ? [read] : [];
      })
    }
  };
}

function status(s: InstanceViewStatus | undefined): HealthStatus | undefined {
  if (!s?.code) return undefined;
  const time = s.time ? new Date(s.time).getTime() : NaN;
  return {
    code: s.code,
    level: s.level,
    displayStatus: s.displayStatus,
    message: s.message,
    time: Number.isFinite(time) ? time : undefined
  };
}
