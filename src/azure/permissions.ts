/**
 * What the identity must be allowed to do, and a look at it where the run acts. Azure answers some
 * missing permissions with silence (a Resource Graph row it does not return), so the run asks
 * Resource Manager for the identity's own permissions on each resource group it is about to touch:
 * Permissions_ListForResourceGroup (`…/resourcegroups/{rg}/providers/Microsoft.Authorization/permissions`,
 * specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/
 * authorization-RoleDefinitionsCalls.json — documented at resource-group and resource scope only,
 * paged by `nextLink`). Roles are often given per resource group, so that is where to look.
 *
 * What it finds is a warning, never a failure: the listing is the identity's view of its roles,
 * not Azure's decision (deny assignments, conditions and propagation delays are not in it). Only a
 * real 403 fails a VM, and errors.ts names the permission then.
 *
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
  'Microsoft.Insights/autoscalesettings/read':
    "Resource Graph shows a scale set's autoscale setting (Try & restore is off under autoscale) only to an identity that can read it",
  'Microsoft.Compute/locations/operations/read': 'following the start operation to its end',
  'Microsoft.ResourceHealth/availabilityStatuses/read':
    'Resource Health annotations tell evictions from deliberate stops'
} as const;
export type RequiredAction = keyof typeof REQUIRED_ACTIONS;

/** The kinds of thing a run restarts, as discovery names them. */
export type TargetKindName = 'vm' | 'vmss-flex' | 'vmss-uniform';

const EVERY_RUN: RequiredAction[] = [
  'Microsoft.Resources/subscriptions/read',
  'Microsoft.Compute/locations/operations/read',
  'Microsoft.ResourceHealth/availabilityStatuses/read'
];
const VM_ACTIONS: RequiredAction[] = [
  'Microsoft.Compute/virtualMachines/read',
  'Microsoft.Compute/virtualMachines/instanceView/read',
  'Microsoft.Compute/virtualMachines/start/action'
];
const SCALE_SET_ACTIONS: RequiredAction[] = [
  'Microsoft.Compute/virtualMachineScaleSets/read',
  'Microsoft.Insights/autoscalesettings/read'
];

/**
 * What a resource group needs, by the kinds of targets the run found there: a group of plain VMs
 * needs no scale-set action. A Flexible instance is a VM of a scale set (read for its tags and
 * Try & restore); a Uniform instance is read and started through its scale set.
 */
export const ACTIONS_BY_KIND: Record<TargetKindName, RequiredAction[]> = {
  vm: [...EVERY_RUN, ...VM_ACTIONS],
  'vmss-flex': [...EVERY_RUN, ...VM_ACTIONS, ...SCALE_SET_ACTIONS],
  'vmss-uniform': [
    ...EVERY_RUN,
    ...SCALE_SET_ACTIONS,
    'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
    'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read',
    'Microsoft.Compute/virtualMachineScaleSets/start/action'
  ]
};

/** The api-version of Permissions_ListForResourceGroup the check speaks. */
export const PERMISSIONS_API_VERSION = '2022-04-01';
/** A listing longer than this many pages is a loop, not a role set. */
const MAX_PAGES = 100;

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

export interface ResourceGroupRef {
  subscriptionId: string;
  resourceGroup: string;
}

/** A target in a group: its kind says which actions the run needs there (a plain VM when not known). */
export interface GroupTarget extends ResourceGroupRef {
  kind?: TargetKindName;
  /** A dispatched Uniform instance, known by its resource ID before anything is read. */
  uniform?: unknown;
}

export interface PermissionGap extends ResourceGroupRef {
  /** The scope that was checked: `/subscriptions/{id}/resourceGroups/{name}`. */
  scope: string;
  missing: RequiredAction[];
  /** Actions of the opt-in features turned on for this run (feature-permissions.ts) that are missing. */
  missingForFeatures?: string[];
}

export interface PermissionCheckDeps {
  credential: TokenCredential;
  /** Resource Manager's endpoint, e.g. https://management.azure.com. */
  resourceManager: string;
  /** The token scope for Resource Manager. */
  tokenScope: string;
  /** Called for each gap when it is found, and again when a new kind of target widens it. */
  onGap?: (gap: PermissionGap) => void;
  /** Called when a group cannot be checked (the run goes on: its real calls will tell). */
  onUnknown?: (group: ResourceGroupRef, reason: string) => void;
  requestTimeoutMs?: number;
  /** What the opt-in features this run uses need beyond the base role: action → why. */
  featureActions?: Record<string, string>;
}

interface GroupState {
  group: ResourceGroupRef;
  kinds: Set<TargetKindName>;
  /** The identity's permissions there, or undefined when they could not be listed. */
  listing: Promise<Permission[] | undefined>;
  /** What was last reported for the group, so a warning is not repeated. */
  reported: string;
}

/**
 * The check for one run: each resource group is listed once (one request sequence, however many
 * VMs it holds), and the answers are kept for the run; what the group lacks is judged against what
 * the targets found there need. `check` never rejects.
 */
export class PermissionCheck {
  private readonly byGroup = new Map<string, GroupState>();

  constructor(private readonly deps: PermissionCheckDeps) {}

  /** The gaps of these targets' groups (each group once). */
  check(targets: GroupTarget[]): Promise<PermissionGap[]> {
    const pending = new Set<GroupState>();
    for (const target of targets) {
      const key = `${target.subscriptionId}/${target.resourceGroup}`.toLowerCase();
      let state = this.byGroup.get(key);
      if (!state) {
        const group = { subscriptionId: target.subscriptionId, resourceGroup: target.resourceGroup };
        state = { group, kinds: new Set(), listing: this.listGroup(group), reported: '' };
        this.byGroup.set(key, state);
      }
      state.kinds.add(target.kind ?? (target.uniform ? 'vmss-uniform' : 'vm'));
      pending.add(state);
    }
    return Promise.all([...pending].map(s => this.gapOf(s))).then(gaps =>
      gaps.filter((g): g is PermissionGap => g !== undefined)
    );
  }

  /** Every gap found in this run, once the checks under way have ended. */
  async gaps(): Promise<PermissionGap[]> {
    const all = await Promise.all([...this.byGroup.values()].map(s => this.gapOf(s)));
    return all.filter((g): g is PermissionGap => g !== undefined);
  }

  private async gapOf(state: GroupState): Promise<PermissionGap | undefined> {
    const permissions = await state.listing;
    if (!permissions) return undefined;
    const needed = new Set([...state.kinds].flatMap(k => ACTIONS_BY_KIND[k]));
    const missing = (Object.keys(REQUIRED_ACTIONS) as RequiredAction[]).filter(
      a => needed.has(a) && !permits(permissions, a)
    );
    const missingForFeatures = Object.keys(this.deps.featureActions ?? {}).filter(
      a => !permits(permissions, a)
    );
    if (!missing.length && !missingForFeatures.length) return undefined;
    const { group } = state;
    const gap: PermissionGap = {
      ...group,
      scope: scopeOf(group),
      missing,
      ...(missingForFeatures.length ? { missingForFeatures } : {})
    };
    const said = JSON.stringify([missing, missingForFeatures]);
    if (said !== state.reported) {
      state.reported = said;
      this.deps.onGap?.(gap);
    }
    return gap;
  }

  private async listGroup(group: ResourceGroupRef): Promise<Permission[] | undefined> {
    try {
      return await this.list(scopeOf(group));
    } catch (error) {
      this.deps.onUnknown?.(group, error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  /** All pages of the listing. A nextLink is followed only on Resource Manager's own origin. */
  private async list(scope: string): Promise<Permission[]> {
    const base = this.deps.resourceManager.replace(/\/+$/, '');
    const origin = new URL(base).origin;
    let url: string | undefined =
      `${base}${scope}/providers/Microsoft.Authorization/permissions?api-version=${PERMISSIONS_API_VERSION}`;
    const permissions: Permission[] = [];
    for (let page = 0; url; page++) {
      if (page >= MAX_PAGES) throw new Error(`the listing did not end after ${MAX_PAGES} pages`);
      if (new URL(url).origin !== origin)
        throw new Error(`its nextLink leads away from ${origin}; not followed`);
      const response = await this.fetchPage(url);
      const body = (await response.json()) as { value?: Permission[]; nextLink?: string | null };
      permissions.push(...(body.value ?? []));
      url = body.nextLink || undefined;
    }
    return permissions;
  }

  /** One page; a throttled, failed or dropped answer is tried twice more (short pauses: this check runs alongside the work). */
  private async fetchPage(url: string): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.deps.credential.getToken(this.deps.tokenScope);
      if (!token) throw new Error('no token for Resource Manager');
      try {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${token.token}` },
          signal: AbortSignal.timeout(this.deps.requestTimeoutMs ?? 30_000)
        });
        if (response.ok) return response;
        if (attempt >= 3 || (response.status !== 429 && response.status < 500))
          throw new Error(`Resource Manager answered ${response.status}`);
      } catch (error) {
        if (attempt >= 3 || (error instanceof Error && error.message.startsWith('Resource Manager answered')))
          throw error;
      }
      await new Promise(resolve => setTimeout(resolve, 1000 * attempt));
    }
  }
}

function scopeOf(group: ResourceGroupRef): string {
  return `/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}`;
}

/** The warning a gap becomes: the missing actions, what each is for, and the scope. */
export function describeGap(gap: PermissionGap, featureActions: Record<string, string> = {}): string {
  const parts: string[] = [];
  if (gap.missing.length) {
    const actions = gap.missing.map(a => `'${a}' (${REQUIRED_ACTIONS[a]})`).join(', ');
    parts.push(
      `The identity's roles on resource group '${gap.resourceGroup}' (scope ${gap.scope}) do not grant ${actions}. The run goes on: if Azure really refuses, the VMs there end 'failed' naming the permission. Add the missing actions to the role assigned there (see docs/spot-restarter-role.json).`
    );
  }
  if (gap.missingForFeatures?.length) {
    const actions = gap.missingForFeatures
      .map(a => `'${a}' (${featureActions[a] ?? 'an opt-in feature'})`)
      .join(', ');
    parts.push(
      `On resource group '${gap.resourceGroup}' the opt-in features of this run lack ${actions}: where Azure refuses, those VMs get a plain restart (assign docs/spot-restarter-fallback-role.json there).`
    );
  }
  return parts.join(' ');
}
