/**
 * The VMs a run was told about — by a dispatch payload or the `vms` input — and how each becomes
 * a start or a reason not to. The payload is a hint: the VM is re-read and judged like any other.
 */
import type { VmRecord } from '../discover/discovery.js';
import type { Lookup } from '../discover/lookup.js';
import { judge, judgeDeallocation, judgeScope, type Decide, type Mode, type Verdict } from './eligibility.js';
import type { Settings, VmTarget } from '../plan/inputs.js';
import type { VmResult } from '../report/outcomes.js';
import type { DispatchPayload } from '../plan/payload.js';
import { parseVmResourceId, vmKey, vmResourceId } from '../azure/resource-id.js';

/**
 * Starts one VM that was judged in scope (restart.ts in a run; a recorder in the property tests).
 * `decide` is asked once the VM is seen deallocated: was it evicted?
 */
export type Start = (
  vm: VmRecord,
  source: VmResult['source'],
  mode: Mode,
  decide: Decide
) => Promise<VmResult>;

/** The payload is a hint: the VM is re-read from Azure and judged like any other before it is touched. */
export async function handleDispatch(
  payload: Pick<DispatchPayload, 'vmResourceId' | 'detectedAt'>,
  settings: Settings,
  lookup: Lookup,
  start: Start
): Promise<VmResult> {
  const ref = parseVmResourceId(payload.vmResourceId)!;
  const id = vmResourceId(ref);
  const placeholder = {
    id,
    name: ref.name,
    resourceGroup: ref.resourceGroup,
    subscriptionId: ref.subscriptionId
  };
  const skipped = (outcome: VmResult['outcome'], detail: string): VmResult => ({
    ...placeholder,
    outcome,
    detail,
    source: 'dispatch',
    attempts: 0,
    durationMs: 0
  });
  // Out-of-scope VMs are refused before Azure is asked anything about them.
  const scopeVerdict = judgeScope(placeholder, settings);
  if (!scopeVerdict.eligible) return skipped(scopeVerdict.outcome, scopeVerdict.detail);
  const read = async () =>
    (await lookup({ candidatesOnly: false, ids: [id], withAnnotations: settings.skipUserStopped }))[0];
  const vm = await read();
  if (!vm) {
    return skipped(
      'deleted',
      "not found in Resource Graph: deleted, or the identity lacks 'Microsoft.Compute/virtualMachines/read'"
    );
  }
  const verdict = judge(vm, settings);
  if (!verdict.eligible) return { ...skipped(verdict.outcome, verdict.detail), vmSize: vm.vmSize };
  // The agent saw the Preempt on the VM itself: that is the evidence, unless Azure shows a person's
  // stop that began after it. The annotations are read again, fresh, once the VM is down.
  const agentPreemptAt = Date.parse(payload.detectedAt);
  const decide = async (facts: Parameters<Decide>[0]): Promise<Verdict> => {
    const fresh = settings.skipUserStopped ? await read() : vm;
    if (!fresh) return { eligible: false, outcome: 'deleted', detail: 'no longer in Resource Graph' };
    const again = judge(fresh, settings);
    if (!again.eligible) return again;
    return judgeDeallocation(fresh, { ...facts, agentPreemptAt }, settings);
  };
  return start(vm, 'dispatch', { kind: 'eviction', announcedAt: agentPreemptAt }, decide);
}

/** A VM the sweep or the `vms` input found: started if its verdict says so, else reported with why. */
export async function startIfEligible(
  vm: VmRecord,
  source: VmResult['source'],
  verdict: Verdict,
  start: Start,
  settings: Pick<Settings, 'skipUserStopped' | 'startWithoutEvidenceAfterMs'>
): Promise<VmResult> {
  if (!verdict.eligible) {
    return {
      id: vm.id,
      name: vm.name,
      resourceGroup: vm.resourceGroup,
      subscriptionId: vm.subscriptionId,
      vmSize: vm.vmSize || undefined,
      outcome: verdict.outcome,
      detail: verdict.detail,
      source,
      attempts: 0,
      durationMs: 0
    };
  }
  return start(vm, source, { kind: 'sweep' }, facts => judgeDeallocation(vm, facts, settings));
}

/** Looks the `vms` entries up in Resource Graph; an entry that finds nothing becomes a `skipped` result. */
export async function resolveTargets(
  targets: VmTarget[],
  settings: Settings,
  lookup: Lookup
): Promise<(VmRecord | VmResult)[]> {
  const ids = targets.flatMap(t => (t.kind === 'id' ? [vmResourceId(t.ref)] : []));
  const names = targets.flatMap(t =>
    t.kind === 'name' ? [{ resourceGroup: t.resourceGroup, name: t.name }] : []
  );
  const found: VmRecord[] = [];
  if (ids.length)
    found.push(...(await lookup({ candidatesOnly: false, ids, withAnnotations: settings.skipUserStopped })));
  if (names.length)
    found.push(
      ...(await lookup({ candidatesOnly: false, names, withAnnotations: settings.skipUserStopped }))
    );
  const missing: VmResult[] = targets
    .filter(t =>
      t.kind === 'id'
        ? !found.some(v => vmKey(v.id) === vmKey(t.ref))
        : !found.some(
            v =>
              v.resourceGroup.toLowerCase() === t.resourceGroup.toLowerCase() &&
              v.name.toLowerCase() === t.name.toLowerCase()
          )
    )
    .map(t => {
      const ref =
        t.kind === 'id' ? t.ref : { subscriptionId: '', resourceGroup: t.resourceGroup, name: t.name };
      return {
        id: t.kind === 'id' ? vmResourceId(t.ref) : `${t.resourceGroup}/${t.name}`,
        name: ref.name,
        resourceGroup: ref.resourceGroup,
        subscriptionId: ref.subscriptionId,
        outcome: 'skipped' as const,
        detail: 'not found in the subscriptions in scope',
        source: 'vms' as const,
        attempts: 0,
        durationMs: 0
      };
    });
  return [...found, ...missing];
}
