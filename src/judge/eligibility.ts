/**
 * The scope rule, the one that matters most: which VMs the action may start. Pure functions of
 * what Azure says about the VM and of the inputs; the payload of a dispatch never widens them.
 * `judge` decides from the VM's attributes; `judgeDeallocation` decides, once the instance view is
 * read, whether this deallocation was an eviction (see deallocation-cause.ts).
 */
import type { AnnotationEvidence } from '../discover/annotations.js';
import { deallocationCause } from './deallocation-cause.js';
import { ownOperations } from '../discover/own-record.js';
import { tryRestore } from './try-restore.js';
import type { VmRecord } from '../discover/discovery.js';
import type { Settings } from '../plan/inputs.js';
import type { Outcome } from '../report/outcomes.js';

export type Verdict =
  | { eligible: true; evictedAt?: number; because?: string }
  | { eligible: false; outcome: Outcome; detail: string };

type Scope = Pick<Settings, 'subscriptions' | 'resourceGroups' | 'tag'> &
  Partial<Pick<Settings, 'takeOverTryRestore'>> & {
    /** When the run judges (Try & restore's timeout); now, when not given. */
    now?: number;
    /** The current Spot price of a VM's size and region, when the run has read it. */
    spotPriceOf?: (vm: VmRecord) => number | undefined;
  };

export function judge(vm: VmRecord, scope: Scope): Verdict {
  const skip = (detail: string): Verdict => ({ eligible: false, outcome: 'skipped', detail });
  const inScope = judgeScope(vm, scope);
  if (!inScope.eligible) return inScope;
  if (vm.priority.toLowerCase() !== 'spot')
    return skip(`not a Spot VM (priority ${vm.priority || 'Regular'})`);
  // A scale-set instance opts in with the tag on itself or on its scale set (where Uniform tags live).
  if (
    !hasTag(vm.tags, scope.tag.name, scope.tag.value) &&
    !hasTag(vm.scaleSet?.tags ?? {}, scope.tag.name, scope.tag.value)
  )
    return skip(
      `not opted in: no tag ${scope.tag.name}=${scope.tag.value}${vm.scaleSet ? ' on the instance or its scale set' : ''}`
    );
  if (vm.evictionPolicy.toLowerCase() !== 'deallocate') {
    return skip(`eviction policy ${vm.evictionPolicy || 'unknown'}: only Deallocate VMs can be restarted`);
  }
  if (!scope.takeOverTryRestore) {
    // Only where and while Azure applies it (try-restore.ts): not under autoscale, not past the price or the timeout.
    const restore = tryRestore(vm, { now: scope.now ?? Date.now(), spotPrice: scope.spotPriceOf?.(vm) });
    if (restore?.applies) return { eligible: false, outcome: 'platform-restores', detail: restore.detail };
  }
  return { eligible: true };
}

/** Subscriptions and resource groups only: what a dispatch is checked against before Azure is asked. */
export function judgeScope(
  vm: Pick<VmRecord, 'subscriptionId' | 'resourceGroup'>,
  scope: Pick<Settings, 'subscriptions' | 'resourceGroups'>
): Verdict {
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
  return { eligible: true };
}

export interface DeallocationFacts {
  /** The instance view's ProvisioningState time: when the VM's last user-initiated operation ended. */
  lastOperationEndedAt?: number;
  /** `ProvisioningState/failed/<code>`: the code of the last operation, which failed (a start, for capacity). */
  lastOperationFailed?: string;
  now: number;
  /** The agent's Preempt for this VM (a dispatch's `detectedAt`). */
  agentPreemptAt?: number;
}

/** Asked once the VM is seen deallocated: may it be started? (the cause of the deallocation) */
export type Decide = (facts: DeallocationFacts) => Verdict | Promise<Verdict>;

/**
 * `sweep`: the VM should already be deallocated. `eviction`: a dispatch said (at `announcedAt`)
 * that it is about to be.
 */
export type Mode = { kind: 'sweep' } | { kind: 'eviction'; announcedAt: number };

/** Was this deallocation an eviction? `skip-user-stopped: false` starts it whatever the cause. */
export function judgeDeallocation(
  vm: VmRecord,
  facts: DeallocationFacts,
  settings: Pick<Settings, 'skipUserStopped' | 'startWithoutEvidenceAfterMs'>
): Verdict {
  if (!settings.skipUserStopped) return { eligible: true };
  const current = annotationOf(vm);
  const found = deallocationCause(
    {
      lastOperationEndedAt: facts.lastOperationEndedAt,
      lastOperationFailed: facts.lastOperationFailed,
      current,
      history: vm.history,
      agentPreemptAt: facts.agentPreemptAt,
      own: ownOperations(vm.tags)
    },
    { now: facts.now, startWithoutEvidenceAfterMs: settings.startWithoutEvidenceAfterMs }
  );
  switch (found.cause) {
    case 'evicted':
      return { eligible: true, evictedAt: found.evictedAt, because: found.because };
    case 'own':
      return { eligible: true, because: found.because };
    case 'person':
      return {
        eligible: false,
        outcome: 'user-stopped',
        detail: `deallocated by a person or script: ${found.because}`
      };
    case 'unknown':
      return {
        eligible: false,
        outcome: 'awaiting-evidence',
        detail: `not started in this run: ${found.because}; a later run decides`
      };
  }
}

function annotationOf(vm: VmRecord): AnnotationEvidence | undefined {
  const at = Date.parse(vm.annotationAt);
  if (!vm.annotationName || Number.isNaN(at)) return undefined;
  return { name: vm.annotationName, context: vm.annotationContext, at };
}

/** Tag names are case-insensitive in Azure; so are our values (`True` opts in as `true` does). */
export function hasTag(tags: Record<string, string>, name: string, value: string): boolean {
  const wantedName = name.toLowerCase();
  const wantedValue = value.toLowerCase();
  return Object.entries(tags).some(
    ([k, v]) => k.toLowerCase() === wantedName && String(v).toLowerCase() === wantedValue
  );
}
