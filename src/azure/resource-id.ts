/**
 * Virtual machine resource IDs: the one parser and the one pattern, shared by the action's inputs,
 * the dispatch payload and the agent. A VM is a standalone VM or a Flexible scale-set instance
 * (`…/virtualMachines/{name}`), or a Uniform scale-set instance
 * (`…/virtualMachineScaleSets/{scaleSet}/virtualMachines/{instanceId}`, named `{scaleSet}_{instanceId}`).
 */

/** Azure resource group names: letters, digits, `_ ( ) - .`, 1–90 characters, not ending in a period. */
const RESOURCE_GROUP = String.raw`[\p{L}\p{N}_().-]{0,89}[\p{L}\p{N}_()-]`;
/** VM names: letters, digits, `_ . -`, 1–64 characters (Windows allows 15 of them, Linux 64). */
const VM_NAME = String.raw`[A-Za-z0-9_.-]{1,64}`;
const GUID = String.raw`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`;

export const GUID_PATTERN = new RegExp(`^${GUID}$`);
export const RESOURCE_GROUP_PATTERN = new RegExp(`^${RESOURCE_GROUP}$`, 'u');
export const VM_NAME_PATTERN = new RegExp(`^${VM_NAME}$`);
/** Uniform instance IDs are the scale set's "instance id": a small whole number. */
const INSTANCE_ID = String.raw`\d{1,10}`;
export const INSTANCE_ID_PATTERN = new RegExp(`^${INSTANCE_ID}$`);
export const VM_RESOURCE_ID_PATTERN = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RESOURCE_GROUP})/providers/Microsoft\\.Compute/(?:virtualMachines/(${VM_NAME})|virtualMachineScaleSets/(${VM_NAME})/virtualMachines/(${INSTANCE_ID}))$`,
  'iu'
);
export const MAX_RESOURCE_ID_LENGTH = 1024;

export interface VmRef {
  subscriptionId: string;
  resourceGroup: string;
  /** For a Uniform instance: `{scaleSet}_{instanceId}`, the name Azure gives it. */
  name: string;
  /** A Uniform instance's scale set and instance id. */
  uniform?: { scaleSet: string; instanceId: string };
}

/** Parses a VM resource ID; returns undefined when it is not one. */
export function parseVmResourceId(id: string): VmRef | undefined {
  if (id.length > MAX_RESOURCE_ID_LENGTH) return undefined;
  const match = VM_RESOURCE_ID_PATTERN.exec(id);
  if (!match) return undefined;
  const [, subscription, resourceGroup, vmName, scaleSet, instanceId] = match;
  const ref = { subscriptionId: subscription!.toLowerCase(), resourceGroup: resourceGroup! };
  return scaleSet
    ? { ...ref, name: `${scaleSet}_${instanceId}`, uniform: { scaleSet, instanceId: instanceId! } }
    : { ...ref, name: vmName! };
}

export function vmResourceId(ref: VmRef): string {
  const group = `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.Compute`;
  return ref.uniform
    ? `${group}/virtualMachineScaleSets/${ref.uniform.scaleSet}/virtualMachines/${ref.uniform.instanceId}`
    : `${group}/virtualMachines/${ref.name}`;
}

/** Azure compares resource IDs case-insensitively; this is the key we compare them by. */
export function vmKey(idOrRef: string | VmRef): string {
  return (typeof idOrRef === 'string' ? idOrRef : vmResourceId(idOrRef)).toLowerCase();
}

export function isGuid(value: string): boolean {
  return GUID_PATTERN.test(value);
}
