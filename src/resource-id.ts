/**
 * Virtual machine resource IDs: the one parser and the one pattern, shared by the action's inputs,
 * the dispatch payload and the agent.
 */

/** Azure resource group names: letters, digits, `_ ( ) - .`, 1–90 characters, not ending in a period. */
const RESOURCE_GROUP = String.raw`[\p{L}\p{N}_().-]{0,89}[\p{L}\p{N}_()-]`;
/** VM names: letters, digits, `_ . -`, 1–64 characters (Windows allows 15 of them, Linux 64). */
const VM_NAME = String.raw`[A-Za-z0-9_.-]{1,64}`;
const GUID = String.raw`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`;

export const GUID_PATTERN = new RegExp(`^${GUID}$`);
export const RESOURCE_GROUP_PATTERN = new RegExp(`^${RESOURCE_GROUP}$`, 'u');
export const VM_NAME_PATTERN = new RegExp(`^${VM_NAME}$`);
export const VM_RESOURCE_ID_PATTERN = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RESOURCE_GROUP})/providers/Microsoft\\.Compute/virtualMachines/(${VM_NAME})$`,
  'iu'
);
export const MAX_RESOURCE_ID_LENGTH = 1024;

export interface VmRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** Parses a VM resource ID; returns undefined when it is not one. */
export function parseVmResourceId(id: string): VmRef | undefined {
  if (id.length > MAX_RESOURCE_ID_LENGTH) return undefined;
  const match = VM_RESOURCE_ID_PATTERN.exec(id);
  if (!match) return undefined;
  return { subscriptionId: match[1]!.toLowerCase(), resourceGroup: match[2]!, name: match[3]! };
}

export function vmResourceId(ref: VmRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${ref.name}`;
}

/** Azure compares resource IDs case-insensitively; this is the key we compare them by. */
export function vmKey(idOrRef: string | VmRef): string {
  return (typeof idOrRef === 'string' ? idOrRef : vmResourceId(idOrRef)).toLowerCase();
}

export function isGuid(value: string): boolean {
  return GUID_PATTERN.test(value);
}
