/**
 * Carries out a plan: the dispatched VMs first — this run's own, and with `coalesce-dispatches`
 * every other report of the wave that GitHub holds as a run, cancelled ones included — then the
 * named ones, then the sweep, or a revert. Each VM is found, judged and started on its own; one
 * VM's trouble never holds up another's. With `coalesce-dispatches`, while VMs are still being
 * worked on, the run keeps looking: for new reports every retry-interval, and with a new sweep
 * every four, so that one run takes the whole wave and the sweep is not repeated by every dispatch.
 */
import * as core from '@actions/core';
import { parseVmResourceId, vmKey } from '../azure/resource-id.js';
import type { AzureSession } from '../azure/session.js';
import type { DispatchFeed } from '../discover/dispatched-runs.js';
import { HISTORY_BATCH } from '../discover/annotation-history.js';
import { DOWN_STATES, type VmRecord } from '../discover/discovery.js';
import type { FleetReader } from '../discover/lookup.js';
import { sizesInPlay } from '../discover/spot-market.js';
import { judge, type Verdict } from '../judge/eligibility.js';
import { handleDispatch, resolveTargets, startIfEligible, type Start } from '../judge/targets.js';
import type { Settings } from '../plan/inputs.js';
import type { Plan } from '../plan/trigger.js';
import type { VmResult } from '../report/outcomes.js';
import { batchedLookup } from './batched-lookup.js';
import type { Restarter } from './restarter.js';
import { isAway, revertVm } from './revert.js';
import { VmTasks } from './vm-tasks.js';
import { WaveEvidence } from './wave-evidence.js';

export interface PlanResults {
  results: VmResult[];
  /** The VMs the run looked at closely: named, dispatched, or found deallocated. */
  candidates: number;
  /** Reports of the wave this run took from other runs (coalesce-dispatches). */
  coalesced?: number;
}

/** A sweep while VMs are still being worked on, every this many retry-intervals (2 minutes by default). */
const RESWEEP_EVERY_INTERVALS = 4;

export async function runPlan(
  plan: Plan,
  settings: Settings,
  session: AzureSession,
  { lookup, history }: FleetReader,
  { start: startOne, deps, market }: Restarter,
  feed?: DispatchFeed
): Promise<PlanResults> {
  // A dispatched VM's group is known before anything is read: a role too narrow to see the VM still shows.
  const dispatched = plan.dispatch && parseVmResourceId(plan.dispatch.vmResourceId);
  if (dispatched) void session.permissions.check([dispatched]);

  const clock = deps.clock;
  // However late a VM joins the run, it is tried no longer than the run's own first VM could be.
  deps.runDeadline = clock.now() + deps.waitForDeallocationMs + Math.max(deps.retryForMs, 60_000);
  const reads = batchedLookup(lookup, clock, Math.min(1000, settings.pollIntervalMs / 2));
  const vms = new VmTasks(clock, r =>
    core.info(`${r.name} (${r.resourceGroup}): ${r.outcome} — ${r.detail}`)
  );
  const looked = new Set<string>();
  const notOptedIn = new Set<string>();
  let coalesced = 0;
  // What the agents saw of the wave vouches for the VMs of its pool that no agent could report.
  const wave = new WaveEvidence();
  const start: Start = (vm, source, mode, decide) => {
    if (mode.kind === 'eviction') wave.note(vm, mode.announcedAt);
    return startOne(vm, source, mode, mode.kind === 'sweep' ? wave.decide(vm, decide) : decide);
  };

  const takeDispatch = (report: { vmResourceId: string; detectedAt: string }) => {
    const key = vmKey(report.vmResourceId);
    looked.add(key);
    return vms.take(key, () => handleDispatch(report, settings, reads, start));
  };
  const readFeed = async () => {
    if (!feed) return;
    for (const report of await feed.poll()) if (takeDispatch(report)) coalesced++;
  };

  if (plan.dispatch) takeDispatch(plan.dispatch);
  await readFeed();
  const targets = plan.targets.filter(t => t.kind === 'name' || vms.open(vmKey(t.ref)));
  if (targets.length) {
    const found = await resolveTargets(targets, settings, lookup);
    for (const item of found) {
      const key = vmKey(item.id);
      looked.add(key);
      if ('outcome' in item) vms.settle(key, item);
      else vms.take(key, () => startIfEligible(item, 'vms', judge(item, settings), start, settings));
    }
  }

  const sweep = async () => {
    const swept = await lookup({
      candidatesOnly: true,
      resourceGroups: settings.resourceGroups,
      withAnnotations: settings.skipUserStopped,
      historyLater: true
    });
    // Judged from the rows, not filtered in the query: a result paged while evictions change it must not move.
    const down = swept.filter(
      vm => DOWN_STATES.includes(vm.powerState) && vms.open(vmKey(vm.id)) && !notOptedIn.has(vmKey(vm.id))
    );
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
      now: clock.now(),
      spotPriceOf: (vm: VmRecord) => market.price(vm.location, vm.vmSize, vm.osType)
    };
    const judged: { vm: VmRecord; verdict: Verdict }[] = [];
    for (const vm of down) {
      const key = vmKey(vm.id);
      const verdict = judge(vm, scope);
      // A deallocated Spot VM that never opted in is none of our business: count it, do not list it.
      if (!verdict.eligible && verdict.outcome === 'skipped') {
        notOptedIn.add(key);
        continue;
      }
      looked.add(key);
      judged.push({ vm, verdict });
    }
    // The history that decides who took each VM down, read only for the VMs in scope and a batch
    // at a time: a batch's starts go out while the next batch's history is read, so a large sweep
    // does not wait for the history of the whole fleet on Resource Graph's shared quota.
    for (let i = 0; i < judged.length; i += HISTORY_BATCH) {
      const batch = judged.slice(i, i + HISTORY_BATCH);
      if (settings.skipUserStopped) await history(batch.map(j => j.vm));
      for (const { vm, verdict } of batch)
        vms.take(vmKey(vm.id), () => startIfEligible(vm, 'sweep', verdict, start, settings));
    }
    core.info(
      `Sweep: ${swept.length} Spot VM(s) with eviction policy Deallocate, ${down.length} of them deallocated and new to this run, ${notOptedIn.size} deallocated ones not in scope or not opted in.`
    );
  };
  if (plan.sweep) await sweep();

  if (plan.revert) {
    const found = await lookup({
      candidatesOnly: true,
      resourceGroups: settings.resourceGroups,
      withAnnotations: false
    });
    const away = found.filter(vm => judge(vm, settings).eligible && isAway(vm));
    core.info(`Revert: ${away.length} opted-in Spot VM(s) on a size other than their preferred one.`);
    await market.load(sizesInPlay(away, settings.fallbackSizes));
    for (const vm of away) {
      looked.add(vmKey(vm.id));
      vms.take(vmKey(vm.id), () => revertVm(vm, deps.fallback, deps));
    }
  }

  // The rest of the wave: reports that arrive while this run works, and VMs no agent reported (the
  // run holds the concurrency group, so the schedule's sweeps wait behind it).
  if (feed) {
    let lastSweep = clock.now();
    while (vms.busy && clock.now() < deps.runDeadline) {
      await vms.idleWithin(settings.retryIntervalMs);
      if (!vms.busy) break;
      await readFeed();
      if (plan.sweep && clock.now() - lastSweep >= RESWEEP_EVERY_INTERVALS * settings.retryIntervalMs) {
        lastSweep = clock.now();
        await sweep();
      }
    }
  }
  await vms.settled();
  if (feed && coalesced) core.info(`Took ${coalesced} VM(s) reported by other dispatches of the wave.`);
  return { results: vms.results(), candidates: looked.size, coalesced: feed ? coalesced : undefined };
}
