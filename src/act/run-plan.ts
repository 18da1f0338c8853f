/**
 * Carries out a plan: the dispatched VM and the named ones first (claimed, so the sweep does not
 * start them twice), then the sweep, or a revert. Each VM is found, judged and started on its own;
 * one VM's trouble never holds up another's.
 */
import * as core from '@actions/core';
import { parseVmResourceId, vmKey } from '../azure/resource-id.js';
import type { AzureSession } from '../azure/session.js';
import { DOWN_STATES, type VmRecord } from '../discover/discovery.js';
import { HISTORY_BATCH } from '../discover/annotation-history.js';
import type { FleetReader } from '../discover/lookup.js';
import { sizesInPlay } from '../discover/spot-market.js';
import { judge, type Verdict } from '../judge/eligibility.js';
import { handleDispatch, resolveTargets, startIfEligible } from '../judge/targets.js';
import type { Settings } from '../plan/inputs.js';
import type { Plan } from '../plan/trigger.js';
import type { VmResult } from '../report/outcomes.js';
import type { Restarter } from './restarter.js';
import { isAway, revertVm } from './revert.js';

export interface PlanResults {
  results: VmResult[];
  /** The VMs the run looked at closely: named, dispatched, or found deallocated. */
  candidates: number;
}

export async function runPlan(
  plan: Plan,
  settings: Settings,
  session: AzureSession,
  { lookup, history }: FleetReader,
  { start, deps, market }: Restarter
): Promise<PlanResults> {
  // A dispatched VM's group is known before anything is read: a role too narrow to see the VM still shows.
  const dispatched = plan.dispatch && parseVmResourceId(plan.dispatch.vmResourceId);
  if (dispatched) void session.permissions.check([dispatched]);

  const handled = new Set<string>();
  const results: VmResult[] = [];
  let candidates = 0;
  const record = (r: VmResult) => {
    results.push(r);
    core.info(`${r.name} (${r.resourceGroup}): ${r.outcome} — ${r.detail}`);
  };
  const tasks: Promise<void>[] = [];
  if (plan.dispatch) {
    handled.add(vmKey(plan.dispatch.vmResourceId));
    tasks.push(handleDispatch(plan.dispatch, settings, lookup, start).then(record));
  }
  const targets = plan.targets.filter(t => t.kind === 'name' || !handled.has(vmKey(t.ref)));
  if (targets.length) {
    const found = await resolveTargets(targets, settings, lookup);
    candidates += found.length;
    for (const item of found) {
      if ('outcome' in item) {
        record(item);
        continue;
      }
      if (handled.has(vmKey(item.id))) continue;
      handled.add(vmKey(item.id));
      tasks.push(startIfEligible(item, 'vms', judge(item, settings), start, settings).then(record));
    }
  }
  if (plan.sweep) {
    const swept = await lookup({
      candidatesOnly: true,
      resourceGroups: settings.resourceGroups,
      withAnnotations: settings.skipUserStopped,
      historyLater: true
    });
    // Judged from the rows, not filtered in the query: a result paged while evictions change it must not move.
    const down = swept.filter(vm => DOWN_STATES.includes(vm.powerState));
    // Price first: one SpotResources query for every size and region the sweep may start or fall back to
    // (and of Try & restore's scale sets: a price above their max is no restore).
    await market.load(
      sizesInPlay(
        down.filter(vm => judge(vm, settings).eligible || vm.scaleSet?.tryRestore),
        settings.fallbackSizes
      )
    );
    const scope = {
      ...settings,
      now: deps.clock.now(),
      spotPriceOf: (vm: VmRecord) => market.price(vm.location, vm.vmSize, vm.osType)
    };
    candidates += down.length;
    let notOptedIn = 0;
    const judged: { vm: VmRecord; verdict: Verdict }[] = [];
    for (const vm of down) {
      if (handled.has(vmKey(vm.id))) continue;
      handled.add(vmKey(vm.id));
      const verdict = judge(vm, scope);
      // A deallocated Spot VM that never opted in is none of our business: count it, do not list it.
      if (!verdict.eligible && verdict.outcome === 'skipped') {
        notOptedIn++;
        continue;
      }
      judged.push({ vm, verdict });
    }
    // The history that decides who took each VM down, read only for the VMs in scope and a batch
    // at a time: a batch's starts go out while the next batch's history is read, so a large sweep
    // does not wait for the history of the whole fleet on Resource Graph's shared quota.
    for (let i = 0; i < judged.length; i += HISTORY_BATCH) {
      const batch = judged.slice(i, i + HISTORY_BATCH);
      if (settings.skipUserStopped) await history(batch.map(j => j.vm));
      for (const { vm, verdict } of batch)
        tasks.push(startIfEligible(vm, 'sweep', verdict, start, settings).then(record));
    }
    core.info(
      `Sweep: ${swept.length} Spot VM(s) with eviction policy Deallocate, ${down.length} of them deallocated, ${notOptedIn} of those not in scope or not opted in.`
    );
  }
  if (plan.revert) {
    const found = await lookup({
      candidatesOnly: true,
      resourceGroups: settings.resourceGroups,
      withAnnotations: false
    });
    const away = found.filter(vm => judge(vm, settings).eligible && isAway(vm));
    candidates += away.length;
    core.info(`Revert: ${away.length} opted-in Spot VM(s) on a size other than their preferred one.`);
    await market.load(sizesInPlay(away, settings.fallbackSizes));
    for (const vm of away) tasks.push(revertVm(vm, deps.fallback, deps).then(record));
  }
  await Promise.all(tasks);
  return { results, candidates };
}
