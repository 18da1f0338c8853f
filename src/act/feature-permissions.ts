/**
 * What each opt-in feature needs beyond the base role (docs/spot-restarter-role.json), held in
 * docs/spot-restarter-fallback-role.json (a test keeps the two equal). A feature whose write is
 * refused (403) is switched off for the rest of the run, said so once, and the VMs get a plain
 * restart instead.
 */
import * as core from '@actions/core';

export const FEATURE_ACTIONS = {
  'fallback sizes': {
    'Microsoft.Compute/virtualMachines/write': 'resizing a deallocated VM',
    'Microsoft.Resources/tags/write': "recording the preferred size as a tag, merged into the VM's tags",
    'Microsoft.Compute/virtualMachines/vmSizes/read': 'the sizes a VM can be resized to',
    'Microsoft.Compute/skus/read': 'which sizes are restricted for the subscription in a region'
  },
  'raise-max-price': {
    'Microsoft.Compute/virtualMachines/write': "raising a deallocated VM's max price"
  },
  'mode: revert': {
    'Microsoft.Compute/virtualMachines/write': 'resizing the VM back to its preferred size',
    'Microsoft.Compute/virtualMachines/deallocate/action': 'deallocating it for the resize',
    'Microsoft.Resources/tags/write': "recording its own deallocation in the VM's tags (merged)",
    'Microsoft.Compute/virtualMachines/vmSizes/read': 'the sizes a VM can be resized to',
    'Microsoft.Compute/skus/read': 'whether its preferred size is restricted now'
  }
} as const;
export type Feature = keyof typeof FEATURE_ACTIONS;

/** The actions (→ why) that the features a run turns on need, for the permission preflight. */
export function featureActionsFor(
  settings: { fallbackSizes: Record<string, string[]>; raiseMaxPrice: { kind: string } },
  revert: boolean
): Record<string, string> {
  const on: Feature[] = [];
  // A fallback list can also come from a VM's tag, known only later; the input is what is known now.
  if (Object.keys(settings.fallbackSizes).length) on.push('fallback sizes');
  if (settings.raiseMaxPrice.kind !== 'no') on.push('raise-max-price');
  if (revert) on.push('mode: revert');
  return Object.assign({}, ...on.map(f => FEATURE_ACTIONS[f])) as Record<string, string>;
}

export const FALLBACK_ROLE_FILE = 'docs/spot-restarter-fallback-role.json';

/** Features turned off in this run by a 403, so each is reported once and not tried again. */
export class FeatureSwitch {
  private readonly off = new Map<Feature, string>();

  isOn(feature: Feature): boolean {
    return !this.off.has(feature);
  }

  /** Why the feature is off, for a VM's detail. */
  why(feature: Feature): string | undefined {
    return this.off.get(feature);
  }

  turnOff(feature: Feature, message: string): void {
    if (this.off.has(feature)) return;
    const action = /action '([^']+)'/i.exec(message)?.[1];
    const reason = `${feature} is off for this run: the identity lacks ${action ? `'${action}'` : 'a permission it needs'} (see ${FALLBACK_ROLE_FILE})`;
    this.off.set(feature, reason);
    core.warning(`${reason}. VMs get a plain restart instead.`, { title: 'Missing permission' });
  }
}
