/**
 * Revert mode: a running VM on one of its fallback sizes goes back to its preferred size. That
 * interrupts its workload (deallocate, resize, start), so it runs only when the owner schedules a
 * `mode: revert` run. Azure publishes no live Spot capacity, so "available now" is what it does
 * publish: the size is offered to the VM, not restricted for the subscription, and its current
 * Spot price is within the max price. If the start on the preferred size still fails, the VM goes
 * straight back to the size that worked and is started again.
 */
import type { VmRecord } from '../discover/discovery.js';
import { describeAzureError } from '../azure/errors.js';
import { classifyStartFailure } from './start-failure.js';
import type { FallbackDeps } from './fallback.js';
import { isAcceptable, rankCandidates } from '../judge/size-candidates.js';
import { PREFERRED_TAG, sizeListOf, tagValue } from '../discover/size-list.js';
import type { VmResult } from '../report/outcomes.js';
import { deallocateVm, recordPreferredSize, resizeVm, type WriteDeps } from './resize.js';
import { withOwnOperation } from '../discover/own-record.js';
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
    const facts = await fallback.sizeFacts.factsFor(vm, [preferred], deadline);
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
      deadline
    };
    // The action's own record of this deallocation goes with the resize that follows it (no extra
    // write): if the VM stays down, later runs know it was the action's, not a person's.
    const record = withOwnOperation(vm.tags, { kind: 'deallocate', at: deps.clock.now() }, deps.clock.now());
    await deallocateVm(vm, writes);
    const down = await readPowerState(vm, deps, deadline);
    if (down.code !== 'PowerState/deallocated')
      return result('failed', `deallocated for the revert, but its power state is ${down.code}; not resized`);
    try {
      await resizeVm(vm, preferred, writes, record);
      vm.vmSize = preferred;
      vm.tags = record;
      await start(vm, deps);
      return result('reverted', `back on its preferred size ${preferred} (from ${working}), running`, {
        attempts: 1
      });
    } catch (error) {
      const info = describeAzureError(error);
      // Straight back to the size that worked: the workload has waited long enough. The record
      // was not written if the resize was refused: it is, now (a write on this path only).
      if (vm.vmSize !== working) await resizeVm(vm, working, writes);
      else if (vm.tags !== record) await recordPreferredSize(vm, record, preferred, writes);
      vm.tags = record;
      vm.vmSize = working;
      await start(vm, deps);
      return result(
        'started-fallback',
        `revert to ${preferred} failed (${classifyStartFailure(info).detail.slice(0, 200)}): back on ${working}, running`,
        { attempts: 2, sizesTried: [preferred, working] }
      );
    }
  } catch (error) {
    const info = describeAzureError(error);
    const failure = classifyStartFailure(info);
    return result(failure.outcome === 'capacity-unavailable' ? 'failed' : failure.outcome, failure.detail, {
      errorCode: info.code
    });
  }
}

async function start(vm: VmRecord, deps: RestartDeps): Promise<void> {
  await deps.limit(vm.subscriptionId)(() =>
    deps
      .compute(vm.subscriptionId)
      .virtualMachines.start(vm.resourceGroup, vm.name, { updateIntervalInMs: deps.pollIntervalMs })
      .pollUntilDone()
  );
}
