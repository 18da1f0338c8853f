/**
 * Azure's Resource Health annotations for a VM, as the discovery reads them: their names and
 * who each says acted. Names and contexts: Microsoft Learn, "Resource Health virtual machine
 * Health Annotations".
 */

export interface AnnotationEvidence {
  name: string;
  /** "Customer Initiated", "User-initiated", "Platform Initiated", "Platform-Initiated", … */
  context?: string;
  /** When the annotated operation began (ms since the epoch). */
  at: number;
}

export const EVICTION_ANNOTATIONS = ['VirtualMachinePreempted'];
/** Operations by a person or a script that take a VM down. */
export const PERSON_DOWN_ANNOTATIONS = [
  'VirtualMachineDeallocationInitiated',
  'VirtualMachineStopInitiatedByControlPlane',
  'VirtualMachineStoppedInternally'
];
/** Customer operations a VM can undergo while it stays deallocated: they replace the annotation that explains it. */
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
