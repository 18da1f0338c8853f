/**
 * Azure's Resource Health annotations for a VM, as the discovery reads them: their names and
 * who each says acted. Names and contexts: Microsoft Learn, "Resource Health virtual machine
 * Health Annotations" (each listed with Context "Customer Initiated" unless said otherwise).
 */

export interface AnnotationEvidence {
  name: string;
  /** "Customer Initiated", "User-initiated", "Platform Initiated", "Platform-Initiated", … */
  context?: string;
  /**
   * The annotation's `occurredTime` (ms since the epoch): when Azure emitted it, seconds to minutes
   * after its operation began (Event Grid schema for Health Resources events). It orders events.
   */
  at: number;
}

/** "preempted either due to capacity recall by the platform or due to billing-based eviction" (Platform Initiated). */
export const EVICTION_ANNOTATIONS = ['VirtualMachinePreempted'];
/**
 * Operations by a person or a script that take a VM down: "stopped and deallocated", "stopping as
 * requested by an authorized user or process", and "stopping … or due to a guest activity from
 * within the Virtual Machine" (a shutdown from inside the VM is its owner's doing too). Microsoft
 * lists no `…StopInitiatedByControlPlaneTrackingId`; the control-plane stop is
 * `VirtualMachineStopInitiatedByControlPlane`.
 */
export const PERSON_DOWN_ANNOTATIONS = [
  'VirtualMachineDeallocationInitiated',
  'VirtualMachineStopInitiatedByControlPlane',
  'VirtualMachineStoppedInternally'
];
/**
 * Operations after which the VM ran: a start ("starting as requested by an authorized user or
 * process"), an allocation ("being set up"), and the operations only a running VM undergoes
 * (restart, reboot, redeploy). A down-operation older than one of them is not why it is down now.
 */
export const START_ANNOTATIONS = [
  'VirtualMachineStartInitiatedByControlPlane',
  'VirtualMachineAllocated',
  'VirtualMachineRestarted',
  'VirtualMachineRebootInitiatedByControlPlane',
  'VirtualMachineRedeployInitiatedByControlPlane',
  'VirtualMachineRedeployInitiatedByControlPlaneDueToPlannedMaintenance'
];
/** Customer operations a VM can undergo while it stays deallocated: they do not change who took it down. */
export const WHILE_DEALLOCATED_ANNOTATIONS = [
  'VirtualMachineSizeChanged',
  'VirtualMachineConfigurationUpdated'
];

/** Who the annotation says acted, whichever of Microsoft's spellings it uses. */
export function initiator(context: string | undefined): 'customer' | 'platform' | 'vm' | 'unknown' {
  const key = (context ?? '').toLowerCase().replace(/[^a-z]/g, '');
  if (key === 'customerinitiated' || key === 'userinitiated') return 'customer';
  if (key === 'platforminitiated') return 'platform';
  if (key === 'vminitiated') return 'vm';
  return 'unknown';
}
