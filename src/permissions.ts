/**
 * What the identity must be allowed to do, and a check of it before the run: Azure answers some
 * missing permissions with silence (a Resource Graph row it does not return), so the run asks
 * Resource Manager for the identity's own permissions on each subscription in scope
 * (`Microsoft.Authorization/permissions`, which needs no permission) and names what is missing.
 * docs/spot-restarter-role.json holds exactly these actions (a test keeps the two equal).
 */
import type { TokenCredential } from '@azure/identity';

export const REQUIRED_ACTIONS = {
  'Microsoft.Resources/subscriptions/read': 'Resource Graph reads the subscriptions in scope',
  'Microsoft.Compute/virtualMachines/read': 'Resource Graph returns only the VMs the identity can read',
  'Microsoft.Compute/virtualMachines/instanceView/read': 'the power state is checked before each start',
  'Microsoft.Compute/virtualMachines/start/action': 'starting the VM',
  'Microsoft.Compute/virtualMachineScaleSets/read':
    'Resource Graph returns only the scale sets the identity can read',
  'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read':
    'Resource Graph returns only the Uniform scale-set instances the identity can read',
  'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read':
    'the power state of a Uniform instance is checked before each start',
  'Microsoft.Compute/virtualMachineScaleSets/start/action': 'starting Uniform scale-set instances',
  'Microsoft.Compute/locations/operations/read': 'following the start operation to its end',
  'Microsoft.ResourceHealth/availabilityStatuses/read':
    'Resource Health annotations tell evictions from deliberate stops'
} as const;

interface Permission {
  actions?: string[];
  notActions?: string[];
}

/** Role actions may hold wildcards; NotActions take away. Names compare without case. */
export function permits(permissions: Permission[], action: string): boolean {
  const match = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map(p => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('.*')}$`,
      'i'
    ).test(action);
  return permissions.some(p => (p.actions ?? []).some(match) && !(p.notActions ?? []).some(match));
}

export interface PermissionGap {
  subscriptionId: string;
  missing: string[];
}

export async function missingPermissions(
  credential: TokenCredential,
  resourceManager: string,
  scope: string,
  subscriptions: string[]
): Promise<PermissionGap[]> {
  const token = await credential.getToken(scope);
  if (!token) return [];
  const gaps: PermissionGap[] = [];
  for (const subscriptionId of subscriptions) {
    const response = await fetch(
      `${resourceManager.replace(/\/+$/, '')}/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`,
      { headers: { authorization: `Bearer ${token.token}` }, signal: AbortSignal.timeout(30_000) }
    );
    if (!response.ok) continue; // cannot tell: the run itself will say what fails
    const body = (await response.json()) as { value?: Permission[] };
    const missing = Object.keys(REQUIRED_ACTIONS).filter(a => !permits(body.value ?? [], a));
    if (missing.length) gaps.push({ subscriptionId, missing });
  }
  return gaps;
}
