/**
 * One VM from "found" to an outcome: read its power state (ARG can lag), wait for deallocation
 * when a dispatch announced an eviction, start it, and keep trying while capacity or price is the
 * obstacle and retry-for allows.
 */
import * as core from '@actions/core';
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { LimitFunction } from 'p-limit';
import type { VmRecord } from './discovery.js';
import type { Verdict } from './eligibility.js';
import { classifyStartFailure, describeAzureError, isTransient } from './errors.js';
import type { VmResult } from './outcomes.js';
import { backoff, withTransientRetry, type Clock } from './retry.js';
import { formatDuration } from './duration.js';

export type ComputeFor = (subscriptionId: string) => ComputeManagementClient;

export interface RestartDeps {
  clock: Clock;
  compute: ComputeFor;
  /** Bounds how many start calls are in flight; polling the started ones is not bounded by it. */
  limit: LimitFunction;
  dryRun: boolean;
  retryForMs: number;
  retryIntervalMs: number;
  pollIntervalMs: number;
  /** Start operations being polled right now, per subscription (Azure's read budget is per subscription). */
  inFlight: Map<string, number>;
  waitForDeallocationMs: number;
}

/**
 * `sweep`: the VM should already be deallocated. `eviction`: a dispatch said (at `announcedAt`)
 * that it is about to be.
 */
export type Mode = { kind: 'sweep' } | { kind: 'eviction'; announcedAt: number };

interface PowerState {
  code: string;
  /** When the VM's last operation finished (the ProvisioningState status' time). */
  changedAt?: number;
}

const RUNNING_STATES = ['PowerState/running', 'PowerState/starting'];
const ON_THE_WAY_DOWN = ['PowerState/deallocating', 'PowerState/stopping'];

export async function restartVm(
  vm: VmRecord,
  source: VmResult['source'],
  mode: Mode,
  deps: RestartDeps,
  recheck?: () => Promise<Verdict>
): Promise<VmResult> {
  const began = deps.clock.now();
  let deallocatedAt: string | undefined;
  const result = (outcome: VmResult['outcome'], detail: string, extra: Partial<VmResult> = {}): VmResult => ({
    id: vm.id,
    name: vm.name,
    resourceGroup: vm.resourceGroup,
    subscriptionId: vm.subscriptionId,
    vmSize: vm.vmSize || undefined,
    outcome,
    detail,
    source,
    attempts: 0,
    durationMs: deps.clock.now() - began,
    evictedAt: mode.kind === 'eviction' ? new Date(mode.announcedAt).toISOString() : preemptedAt(vm),
    deallocatedAt,
    ...extra
  });
  try {
    const { code: state, restarted, changedAt } = await waitUntilDeallocated(vm, mode, deps);
    if (state === 'PowerState/deallocated' && changedAt) deallocatedAt = new Date(changedAt).toISOString();
    if (restarted)
      return result('already-running', 'evicted and already started again (by another run, or a person)');
    if (state !== 'PowerState/deallocated') {
      if (state === 'gone')
        return result('deleted', 'the VM no longer exists (eviction policy Delete, or deleted)');
      if (RUNNING_STATES.includes(state)) {
        return mode.kind === 'eviction'
          ? result(
              'not-deallocated-in-time',
              `still ${shortState(state)} after ${formatDuration(deps.waitForDeallocationMs)} (eviction withdrawn, or slower than wait-for-deallocation)`
            )
          : result('already-running', `${shortState(state)}: nothing to do`);
      }
      if (ON_THE_WAY_DOWN.includes(state)) {
        return result(
          'not-deallocated-in-time',
          `still ${shortState(state)} after ${formatDuration(deps.waitForDeallocationMs)}`
        );
      }
      return result('skipped', `power state ${shortState(state)}: only deallocated VMs are started`);
    }
    if (recheck) {
      const verdict = await recheck();
      if (!verdict.eligible) return result(verdict.outcome, verdict.detail);
    }
    if (deps.dryRun) return result('skipped', 'dry run: would start it');
    return await startWithCapacityRetry(vm, deps, began, result);
  } catch (error) {
    const info = describeAzureError(error);
    const failure = classifyStartFailure(info);
    return result(failure.outcome, failure.detail, { errorCode: info.code });
  }
}

async function startWithCapacityRetry(
  vm: VmRecord,
  deps: RestartDeps,
  began: number,
  result: (outcome: VmResult['outcome'], detail: string, extra?: Partial<VmResult>) => VmResult
): Promise<VmResult> {
  const client = deps.compute(vm.subscriptionId);
  for (let attempt = 1; ; attempt++) {
    let acceptedAt: number | undefined;
    try {
      // Wrapped: a poller is thenable, and returning it bare from an async function would await it.
      const { poller } = await deps.limit(async () => {
        const started = client.virtualMachines.start(vm.resourceGroup, vm.name, {
          updateIntervalInMs: pollInterval(deps.pollIntervalMs, deps.inFlight.get(vm.subscriptionId) ?? 0)
        });
        await started.submitted();
        return { poller: started };
      });
      acceptedAt = deps.clock.now();
      deps.inFlight.set(vm.subscriptionId, (deps.inFlight.get(vm.subscriptionId) ?? 0) + 1);
      try {
        // Our own loop rather than the poller's fixed interval: the pace follows how many
        // operations are in flight now, not when this one began.
        while (!poller.isDone) {
          await deps.clock.sleep(
            pollInterval(deps.pollIntervalMs, deps.inFlight.get(vm.subscriptionId) ?? 1)
          );
          await poller.poll();
        }
        await poller.pollUntilDone();
      } finally {
        deps.inFlight.set(vm.subscriptionId, (deps.inFlight.get(vm.subscriptionId) ?? 1) - 1);
      }
      return result('started', attempt > 1 ? `started on attempt ${attempt}` : 'started', {
        attempts: attempt,
        startAcceptedAt: new Date(acceptedAt).toISOString(),
        runningAt: new Date(deps.clock.now()).toISOString()
      });
    } catch (error) {
      const info = describeAzureError(error);
      // A dropped answer may hide a start that went through: look before asking again.
      if (info.status === 403 && acceptedAt !== undefined) {
        const failure = classifyStartFailure(info);
        return result(
          'failed',
          `the start was accepted, but its progress cannot be followed: ${failure.detail}`,
          { attempts: attempt, errorCode: info.code }
        );
      }
      const state = (await readPowerState(vm, deps).catch(() => undefined))?.code;
      if (state && RUNNING_STATES.includes(state) && info.status === 409) {
        return result('already-running', `${shortState(state)}: being started by another operation`, {
          attempts: attempt
        });
      }
      if (state && RUNNING_STATES.includes(state)) {
        return result(
          'started',
          `started (confirmed by its power state after ${info.code ?? info.status ?? 'an error'})`,
          {
            attempts: attempt,
            startAcceptedAt: acceptedAt ? new Date(acceptedAt).toISOString() : undefined
          }
        );
      }
      if (state === 'gone') return result('deleted', 'the VM no longer exists', { attempts: attempt });
      const elapsed = deps.clock.now() - began;
      if (isTransient(info) && attempt < 20 && elapsed < Math.max(deps.retryForMs, 60_000)) {
        await deps.clock.sleep(info.retryAfterMs ?? backoff(attempt, { baseMs: 1000, maxMs: 30_000 }));
        continue;
      }
      const failure = classifyStartFailure(info);
      if (failure.capacityRetry && elapsed + deps.retryIntervalMs <= deps.retryForMs) {
        core.info(
          `${vm.name}: ${failure.outcome} (${info.code}); trying again in ${formatDuration(deps.retryIntervalMs)}.`
        );
        await deps.clock.sleep(deps.retryIntervalMs);
        continue;
      }
      return result(failure.outcome, failure.detail, {
        attempts: attempt,
        currentPrice: failure.currentPrice,
        errorCode: info.code ?? (info.status ? String(info.status) : undefined)
      });
    }
  }
}

/**
 * Azure refills a principal's reads at 25 a second per subscription. Thousands of starts each
 * polled every few seconds would spend that on polling and get the run throttled: the more
 * operations in flight, the slower each is polled, so that all of them together stay near
 * READS_PER_SECOND_FOR_POLLING. A start is accepted at once either way; only noticing its end waits.
 */
const READS_PER_SECOND_FOR_POLLING = 15;
export function pollInterval(baseMs: number, inFlight: number): number {
  return Math.max(baseMs, Math.round(((inFlight + 1) * 1000) / READS_PER_SECOND_FOR_POLLING));
}

/**
 * Polls the instance view with growing pauses until the VM is deallocated, gone, or time is up.
 * A VM that is running again with an operation finished after the eviction was announced went
 * down and came back already (another run's sweep, or a person): no use waiting for it.
 */
async function waitUntilDeallocated(
  vm: VmRecord,
  mode: Mode,
  deps: RestartDeps
): Promise<{ code: string; restarted?: boolean; changedAt?: number }> {
  const deadline = deps.clock.now() + deps.waitForDeallocationMs;
  let pause = 500;
  for (;;) {
    const { code, changedAt } = await readPowerState(vm, deps);
    if (code === 'PowerState/deallocated' || code === 'gone') return { code, changedAt };
    const running = RUNNING_STATES.includes(code);
    if (mode.kind === 'eviction' && running && changedAt !== undefined && changedAt > mode.announcedAt)
      return { code, restarted: true };
    const worthWaiting = ON_THE_WAY_DOWN.includes(code) || (mode.kind === 'eviction' && running);
    if (!worthWaiting || deps.clock.now() + pause > deadline) return { code };
    await deps.clock.sleep(pause);
    // Capped at 1 s: once the VM is down, every second before the start call is a second lost.
    pause = Math.min(1000, Math.round(pause * 1.5));
  }
}

/** The VM's power state from its instance view (the truth, where ARG may lag), or `gone`. */
export async function readPowerState(
  vm: VmRecord,
  deps: Pick<RestartDeps, 'clock' | 'compute'>
): Promise<PowerState> {
  try {
    const view = await withTransientRetry(deps.clock, `${vm.name}: instance view`, () =>
      deps.compute(vm.subscriptionId).virtualMachines.instanceView(vm.resourceGroup, vm.name)
    );
    const time = view.statuses?.find(s => s.code?.startsWith('ProvisioningState/'))?.time;
    return {
      code: view.statuses?.find(s => s.code?.startsWith('PowerState/'))?.code ?? 'PowerState/unknown',
      changedAt: time ? new Date(time).getTime() : undefined
    };
  } catch (error) {
    const info = describeAzureError(error);
    if (info.status === 404) return { code: 'gone' };
    throw error;
  }
}

/** A sweep's VM was evicted when its Resource Health annotation says Azure preempted it. */
function preemptedAt(vm: VmRecord): string | undefined {
  return vm.annotationName === 'VirtualMachinePreempted' && vm.annotationAt ? vm.annotationAt : undefined;
}

function shortState(state: string): string {
  return state.replace('PowerState/', '');
}
