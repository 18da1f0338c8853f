/**
 * The scope rule, the one that matters most: which VMs the action may start. A pure function of
 * what Azure says about the VM and of the inputs; the payload of a dispatch never enters it.
 */
import { ANNOTATION_USER_STOPPED, type VmRecord } from './discovery.js';
import type { Settings } from './inputs.js';
import type { Outcome } from './outcomes.js';

export type Verdict = { eligible: true } | { eligible: false; outcome: Outcome; detail: string };

type Scope = Pick<Settings, 'subscriptions' | 'resourceGroups' | 'tag' | 'skipUserStopped'>;

export function judge(vm: VmRecord, scope: Scope): Verdict {
  const skip = (detail: string): Verdict => ({ eligible: false, outcome: 'skipped', detail });
  if (scope.subscriptions.length && !scope.subscriptions.includes(vm.subscriptionId.toLowerCase())) {
    return skip('its subscription is not in the subscriptions input');
  }
  if (
    scope.resourceGroups.length &&
    !scope.resourceGroups.some(g => g.toLowerCase() === vm.resourceGroup.toLowerCase())
  ) {
    return skip('its resource group is not in the resource-groups input');
  }
  if (vm.priority.toLowerCase() !== 'spot')
    return skip(`not a Spot VM (priority ${vm.priority || 'Regular'})`);
  if (!hasTag(vm.tags, scope.tag.name, scope.tag.value))
    return skip(`not opted in: no tag ${scope.tag.name}=${scope.tag.value}`);
  if (vm.evictionPolicy.toLowerCase() !== 'deallocate') {
    return skip(`eviction policy ${vm.evictionPolicy || 'unknown'}: only Deallocate VMs can be restarted`);
  }
  if (scope.skipUserStopped && vm.annotationName === ANNOTATION_USER_STOPPED) {
    return {
      eligible: false,
      outcome: 'user-stopped',
      detail: `deallocated by a user or script${vm.annotationAt ? ` at ${vm.annotationAt}` : ''}, not by an eviction`
    };
  }
  return { eligible: true };
}

/** Tag names are case-insensitive in Azure; so are our values (`True` opts in as `true` does). */
export function hasTag(tags: Record<string, string>, name: string, value: string): boolean {
  const wantedName = name.toLowerCase();
  const wantedValue = value.toLowerCase();
  return Object.entries(tags).some(
    ([k, v]) => k.toLowerCase() === wantedName && String(v).toLowerCase() === wantedValue
  );
}
