/**
 * Revert mode: a running VM on one of its fallback sizes goes back to its preferred size. That
 * interrupts its workload (deallocate, resize, start), so it runs only when the owner schedules a
 * `mode: revert` run. Azure publishes no live Spot capacity, so "available now" is what it does
 * publish: the size is offered to the VM, not restricted for the subscription, and its current
 * Spot price is within the max price — judged from Resource SKUs for the region and zone, since a
 * running VM's `vmSizes` lists only its hardware cluster's sizes. If the start on the preferred size
 * still fails, the VM goes straight back to the size that worked and is started again, and again
 * while the run lasts: the revert deallocated it, so it is never left down on purpose.
 */
import type { VmRecord } from '../discover/discovery.js';
import { describeAzureError, isTransient, type AzureErrorInfo } from '../azure/errors.js';
import { takeVmUpdate } from './start-operation.js';
import { classifyStartFailure } from './start-failure.js';
import type { FallbackDeps } from './fallback.js';
import { isAcceptable, rankCandidates } from '../judge/size-candidates.js';
import { PREFERRED_TAG, sizeListOf, tagValue } from '../discover/size-list.js';
import type { VmResult } from '../report/outcomes.js';
import { deallocateVm, mergeTags, resizeVm, type WriteDeps } from './resize.js';
import { OWN_RECORD_TAG, withOwnOperation } from '../discover/own-record.js';
import { readPowerState } from '../discover/power-state.js';
import type { RestartDeps } from './restart.js';

/** A VM that revert mode looks at: on a size other than the preferred one its tag records. */
export function isAway(vm: VmRecord): boolean {
  const preferred = tagValue(vm.tags, PREFERRED_TAG);
  return !!preferred && preferred.toLowerCase() !== vm.vmSize.toLowerCase();
}

export async function revertVm(vm: VmRecord, fallback: FallbackDeps, deps: RestartDeps): Promise<VmResult> {
  const began = deps.clock.now();
  const deadline = began + Math.max(deps.retryForMs, 10 * 60_000);
  const working = vm.vmSize;
  const preferred = tagValue(vm.tags, PREFERRED_TAG)!;
  const result = (outcome: VmResult['outcome'], detail: string, extra: Partial<VmResult> = {}): VmResult => ({
    id: vm.id,
    name: vm.name,
    resourceGroup: vm.resourceGroup,
    subscriptionId: vm.subscriptionId,
    vmSize: vm.vmSize,
    location: vm.location || undefined,
    outcome,
    detail,
    source: 'sweep',
    attempts: 0,
    durationMs: deps.clock.now() - began,
    preferredSize: preferred,
    usedSize: vm.vmSize,
    reverted: outcome === 'reverted',
    ...extra
  });
  const list = sizeListOf(vm, fallback.fallbackSizes);
  if (!list || 'invalid' in list || !isAcceptable(list, working))
    return result('skipped', `on ${working}, which is not in its fallback list: left alone`);
  try {
    const seen = await readPowerState(vm, deps, deadline);
    if (seen.code !== 'PowerState/running')
      return result(
        'skipped',
        `${seen.code.replace('PowerState/', '')}: revert brings back running VMs only; a restart run handles a deallocated one`
      );
    // Judged from Resource SKUs for the region and zone: a running VM's vmSizes lists only its cluster's.
    const facts = await fallback.sizeFacts.factsFromSkus(vm, [preferred]);
    const home = rankCandidates(list, working, new Set(), facts, vm.maxPrice, 'listed').find(
      c => c.size.toLowerCase() === preferred.toLowerCase()
    );
    if (!home?.ok)
      return result(
        'skipped',
        `preferred size ${preferred} is not available now (${home?.ok === false ? home.reason : 'unknown'}): nothing touched`
      );
    if (deps.dryRun) return result('skipped', `dry run: would move it from ${working} back to ${preferred}`);
    const writes: WriteDeps = {
      clock: deps.clock,
      client: deps.compute(vm.subscriptionId),
      pollIntervalMs: deps.pollIntervalMs,
      deadline,
      updates: deps,
      endpoint: fallback.armEndpoint
    };
    const record = withOwnOperation(vm.tags, { kind: 'deallocate', at: deps.clock.now() }, deps.clock.now());
    await deallocateVm(vm, writes);
    // The action's own record of this deallocation, merged into the VM's tags right after it (Tags –
    // Update At Scope, Merge: a PATCH's tags would replace every tag with Resource Graph's older
    // copy): if the VM stays down, later runs know it was the action's, not a person's. A refused
    // record does not stop the revert: the VM is brought back within this run either way.
    const recorded = await mergeTags(vm, { [OWN_RECORD_TAG]: record[OWN_RECORD_TAG]! }, writes).then(
      () => true,
      () => false
    );
    if (recorded) vm.tags = { ...vm.tags, [OWN_RECORD_TAG]: record[OWN_RECORD_TAG]! };
    const down = await readPowerState(vm, deps, deadline);
    if (down.code !== 'PowerState/deallocated')
      return result('failed', `deallocated for the revert, but its power state is ${down.code}; not resized`);
    let refused: AzureErrorInfo;
    try {
      await resizeVm(vm, preferred, writes);
      vm.vmSize = preferred;
      await start(vm, deps, deadline);
      return result('reverted', `back on its preferred size ${preferred} (from ${working}), running`, {
        attempts: 1
      });
    } catch (error) {
      refused = describeAzureError(error);
    }
    // Straight back to the size that worked: the workload has waited long enough. This run
    // deallocated it, so it keeps trying that size until its deadline rather than leave it down.
    if (vm.vmSize !== working) await resizeVm(vm, working, writes);
    vm.vmSize = working;
    const why = classifyStartFailure(refused).detail.slice(0, 200);
    // Within the run's retry-for: later runs start it too (the record says the deallocation was ours).
    const attempts = await startUntil(vm, deps, Math.min(deadline, began + deps.retryForMs));
    if (attempts.started)
      return result(
        'started-fallback',
        `revert to ${preferred} failed (${why}): back on ${working}, running${attempts.count > 1 ? ` (started on attempt ${attempts.count})` : ''}`,
        { attempts: 1 + attempts.count, sizesTried: [preferred, working] }
      );
    const last = classifyStartFailure(attempts.error);
    return result(
      // Down because of this run's revert: a person should know, whatever the reason.
      last.outcome === 'capacity-unavailable' ? 'failed' : last.outcome,
      `revert to ${preferred} failed (${why}), and ${working} did not start either (${last.detail.slice(0, 200)}) in ${attempts.count} attempt(s): deallocated by this revert, the next restart run starts it`,
      { attempts: 1 + attempts.count, sizesTried: [preferred, working], errorCode: attempts.error.code }
    );
  } catch (error) {
    const info = describeAzureError(error);
    const failure = classifyStartFailure(info);
    return result(failure.outcome === 'capacity-unavailable' ? 'failed' : failure.outcome, failure.detail, {
      errorCode: info.code
    });
  }
}

/** One start on the VM's current size, paced by Compute's "Update VM" budgets. */
async function start(vm: VmRecord, deps: RestartDeps, deadline: number): Promise<void> {
  await deps.limit(vm.subscriptionId)(async () => {
    await takeVmUpdate(deps, vm, 'start', deadline);
    await deps
      .compute(vm.subscriptionId)
      .virtualMachines.start(vm.resourceGroup, vm.name, { updateIntervalInMs: deps.pollIntervalMs })
      .pollUntilDone();
  });
}

/** Starts the VM, again every retry-interval while capacity, price or a busy Azure may change, up to the deadline. */
async function startUntil(
  vm: VmRecord,
  deps: RestartDeps,
  deadline: number
): Promise<{ started: true; count: number } | { started: false; count: number; error: AzureErrorInfo }> {
  for (let count = 1; ; count++) {
    try {
      await start(vm, deps, deadline);
      return { started: true, count };
    } catch (error) {
      const info = describeAzureError(error);
      const pause = isTransient(info)
        ? (info.retryAfterMs ?? deps.retryIntervalMs)
        : classifyStartFailure(info).capacityRetry
          ? deps.retryIntervalMs
          : undefined;
      if (pause === undefined || deps.clock.now() + pause > deadline)
        return { started: false, count, error: info };
      await deps.clock.sleep(pause);
    }
  }
}
