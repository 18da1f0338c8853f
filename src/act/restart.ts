/**
 * One VM from "found" to an outcome: read its power state (ARG can lag), wait for deallocation
 * when a dispatch announced an eviction, ask whether this deallocation was an eviction, start it,
 * and keep trying while capacity or price is the obstacle and retry-for allows. Every read of the
 * VM is paced within Compute's per-VM budget, and no wait runs past the VM's deadline.
 */
import * as core from '@actions/core';
import type { ComputeFor } from '../azure/clients.js';
import type { VmRecord } from '../discover/discovery.js';
import { readPowerState, type PowerState } from '../discover/power-state.js';
import type { Decide, Mode } from '../judge/eligibility.js';

import { describeAzureError, isTransient, PRICE_CODE } from '../azure/errors.js';
import { classifyStartFailure } from './start-failure.js';
import type { VmResult } from '../report/outcomes.js';
import type { ResourceBudget } from '../azure/resource-budget.js';
import { backoff, DeadlineError } from '../azure/retry.js';
import { formatDuration } from '../plan/duration.js';
import { startOnce, type StartDeps, type StartSlots } from './start-operation.js';

export { pollInterval } from './start-operation.js';
import type { CapacityGate, CapacityGates } from './capacity-gate.js';
import { FallbackRun, type FallbackDeps } from './fallback.js';
import { checkPrice, type PriceDeps } from './price-gate.js';
import { verifyHealth, type HealthDeps } from './health.js';

export interface RestartDeps extends StartDeps {
  compute: ComputeFor;
  /** Bounds how many start calls are in flight per subscription; polling the started ones is not bounded by it. */
  limit: StartSlots;
  dryRun: boolean;
  retryForMs: number;
  retryIntervalMs: number;
  waitForDeallocationMs: number;
  /** Compute's per-VM "Low Cost Get VM" budget (GET and instance view; "Get VMSS VMs" has the same numbers). */
  vmReads: ResourceBudget;
  /** Fallback sizes (fallback.ts): absent, no VM is ever resized. */
  fallback?: FallbackDeps;
  /** Price first (price-gate.ts): absent, the start itself finds out about the price. */
  price?: PriceDeps;
  /** verify-health (health.ts): absent, a VM is back once its start succeeded. */
  health?: HealthDeps;
  /** Capacity retries per pool (capacity-gate.ts): absent, each VM retries on its own every retry-interval. */
  gates?: CapacityGates;
  /** No VM of the run is tried past this moment, however late it joined: a later run takes over. */
  runDeadline?: number;
}

const RUNNING_STATES = ['PowerState/running', 'PowerState/starting'];
const ON_THE_WAY_DOWN = ['PowerState/deallocating', 'PowerState/stopping'];
/** Reads the wait for a deallocation may not spend: the one after it, and the start's own. */
const READ_RESERVE = 6;
/** The first seconds after an announced eviction are polled fast; after that, at the budget's refill rate. */
const FAST_WAIT_MS = 30_000;

/**
 * A VM that is starting from deallocated can show `PowerState/stopped` for a moment while its
 * provisioning state is `updating`: another actor is starting it, it is not a stopped VM.
 */
function effectiveState(p: PowerState): string {
  if (p.code === 'PowerState/stopped' && p.updating) return 'PowerState/starting';
  return p.code;
}

export async function restartVm(
  vm: VmRecord,
  source: VmResult['source'],
  mode: Mode,
  deps: RestartDeps,
  decide: Decide
): Promise<VmResult> {
  const began = deps.clock.now();
  let deallocatedAt: string | undefined;
  // What this run may spend on the VM: the wait for its deallocation, then retry-for (at least a minute).
  const deadline = Math.min(
    began + (mode.kind === 'eviction' ? deps.waitForDeallocationMs : 0) + Math.max(deps.retryForMs, 60_000),
    deps.runDeadline ?? Infinity
  );
  const result = (outcome: VmResult['outcome'], detail: string, extra: Partial<VmResult> = {}): VmResult => ({
    id: vm.id,
    kind: vm.kind,
    name: vm.name,
    resourceGroup: vm.resourceGroup,
    subscriptionId: vm.subscriptionId,
    vmSize: vm.vmSize || undefined,
    location: vm.location || undefined,
    outcome,
    detail,
    source,
    attempts: 0,
    durationMs: deps.clock.now() - began,
    deallocatedAt,
    ...extra
  });
  // A VM the sweep found in a pool already out of capacity waits its turn before anything else: a
  // wave's hundreds of such VMs would otherwise spend Azure's read budget on their instance views
  // all at once, and the pool's probe would wait behind them to learn whether capacity is back.
  const gate = deps.gates?.for(vm);
  let admitted = false;
  if (mode.kind === 'sweep' && gate?.closed && deps.retryForMs > 0 && !deps.dryRun) {
    admitted = await gate.wait(Math.min(deadline, began + deps.retryForMs));
    if (!admitted) return poolOutOfCapacity(gate, result);
  }
  try {
    const {
      code: state,
      restarted,
      changedAt,
      failedCode
    } = await waitUntilDeallocated(vm, mode, deps, deadline);
    // After a failed start the time is the failure's, not the deallocation's; and an eviction does
    // not move the provisioning state's time, so one older than the Preempt is an earlier operation's.
    if (
      state === 'PowerState/deallocated' &&
      changedAt &&
      !failedCode &&
      !(mode.kind === 'eviction' && changedAt < mode.announcedAt)
    )
      deallocatedAt = new Date(changedAt).toISOString();
    if (restarted)
      return result('already-running', 'evicted and already started again (by another run, or a person)');
    if (state !== 'PowerState/deallocated') {
      if (state === 'gone')
        return result('deleted', 'the VM no longer exists (eviction policy Delete, or deleted)');
      if (state === 'PowerState/starting')
        return result('already-running', 'starting: another operation is starting it');
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
    const verdict = await decide({
      lastOperationEndedAt: changedAt,
      lastOperationFailed: failedCode,
      now: deps.clock.now()
    });
    if (!verdict.eligible) return result(verdict.outcome, verdict.detail);
    const evictedAt = verdict.evictedAt ? new Date(verdict.evictedAt).toISOString() : undefined;
    if (deps.dryRun)
      return result('skipped', `dry run: would start it (${verdict.because ?? 'evicted'})`, { evictedAt });
    const priced = deps.price ? await checkPrice(vm, deps.price, deps, deadline) : { go: true as const };
    if (!priced.go)
      // Azure's code for the start this saved, so that scripts keyed on it still match.
      return result('price-above-max', priced.detail, {
        currentPrice: priced.currentPrice,
        errorCode: PRICE_CODE,
        evictedAt
      });
    // A Uniform instance's size is its scale set's: resizing one instance is not how Azure works.
    const fallback =
      deps.fallback && vm.kind !== 'vmss-uniform' ? FallbackRun.for(vm, deps.fallback, deps) : undefined;
    const started = await startWithCapacityRetry(
      vm,
      deps,
      began,
      deadline,
      result,
      decide,
      fallback,
      admitted
    );
    // Started without Azure's evidence (the no-evidence bound): say why it was started.
    const noEvidence = verdict.because && verdict.evictedAt === undefined ? ` (${verdict.because})` : '';
    const raised = priced.raised ? { oldMaxPrice: priced.raised.from, newMaxPrice: priced.raised.to } : {};
    const done: VmResult = {
      ...started,
      ...raised,
      evictedAt,
      because: verdict.because,
      detail:
        started.detail +
        (started.outcome === 'started' ? noEvidence : '') +
        (priced.raised ? `; max price raised from ${priced.raised.from} to ${priced.raised.to} USD` : '')
    };
    // Back means serving: with verify-health, wait for the check (health.ts).
    return await verifyHealth(vm, fallback ? fallback.decorate(done) : done, deps, deadline);
  } catch (error) {
    if (error instanceof DeadlineError)
      return result('failed', `${error.message}; a later run tries again`, { errorCode: 'TooManyRequests' });
    const info = describeAzureError(error);
    const failure = classifyStartFailure(info);
    return result(failure.outcome, failure.detail, { errorCode: info.code });
  }
}

async function startWithCapacityRetry(
  vm: VmRecord,
  deps: RestartDeps,
  began: number,
  deadline: number,
  result: (outcome: VmResult['outcome'], detail: string, extra?: Partial<VmResult>) => VmResult,
  decide: Decide,
  fallback?: FallbackRun,
  /** Already let through by its pool's gate. */
  admitted = false
): Promise<VmResult> {
  const gate = deps.gates?.for(vm);
  let throughGate = admitted;
  // Its pool is out of capacity: queue behind the pool's probe rather than spend a start to learn it.
  if (!admitted && gate?.closed && deps.retryForMs > 0) {
    throughGate = await gate.wait(deadline);
    if (!throughGate) return poolOutOfCapacity(gate, result);
  }
  for (let attempt = 1; ; attempt++) {
    let acceptedAt: number | undefined;
    const sentAt = deps.clock.now();
    const epoch = gate?.epoch ?? 0;
    try {
      await startOnce(
        vm,
        deps,
        at => (acceptedAt = at),
        () => gate?.underWay(),
        // Let through by the gate: its pool waits to hear whether this one got under way.
        throughGate ? deps.pollIntervalMs : undefined
      );
      return result('started', attempt > 1 ? `started on attempt ${attempt}` : 'started', {
        attempts: attempt,
        startAcceptedAt: new Date(acceptedAt!).toISOString(),
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
      if (error instanceof DeadlineError) throw error;
      const seen = await readPowerState(vm, deps, deadline).catch(() => undefined);
      const state = seen ? effectiveState(seen) : undefined;
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
      if (seen && state && wasPreempted(info)) {
        const why = await afterPreemption(seen, state, sentAt, deps.clock.now(), decide);
        if (why) return result(why.outcome, why.detail, { attempts: attempt, errorCode: info.code });
      }
      const elapsed = deps.clock.now() - began;
      if (isTransient(info) && attempt < 20 && elapsed < Math.max(deps.retryForMs, 60_000)) {
        const pause = info.retryAfterMs ?? backoff(attempt, { baseMs: 1000, maxMs: 30_000 });
        if (deps.clock.now() + pause > deadline)
          throw new DeadlineError(
            `${vm.name}: start`,
            pause,
            info.status === 429 ? 'throttling (Retry-After)' : 'retry pause'
          );
        await deps.clock.sleep(pause);
        continue;
      }
      const failure = classifyStartFailure(info);
      // No capacity for this size: the owner's next acceptable size, if the VM has a list (fallback.ts).
      if (failure.outcome === 'capacity-unavailable' && (await fallback?.resizeToNext(deadline))) continue;
      // The pool's gate decides when this VM tries again: a probe in turn, or after a start that got
      // under way. It waits as long as the run has for it: in a wave, all the pool's VMs until the
      // run ends, so that the next run, the pending one, takes them all over at once.
      if (failure.outcome === 'capacity-unavailable' && gate && elapsed < deps.retryForMs) {
        gate.failed(epoch, info.code, failure.detail);
        throughGate = await gate.wait(deadline);
        if (throughGate) continue;
        return result(
          failure.outcome,
          `${failure.detail} (retried with its pool until this run's time for it ran out)`,
          { attempts: attempt, errorCode: info.code }
        );
      }
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

/** Never got its turn: its pool's starts kept failing for capacity for as long as the run had for it. */
function poolOutOfCapacity(
  gate: CapacityGate,
  result: (outcome: VmResult['outcome'], detail: string, extra?: Partial<VmResult>) => VmResult
): VmResult {
  return result(
    'capacity-unavailable',
    `${gate.lastFailure?.detail ?? 'no Spot capacity'} (its size in its region and zone: the pool's starts kept failing while this run had time for it)`,
    { errorCode: gate.lastFailure?.code }
  );
}

/**
 * Polls the instance view until the VM is deallocated, gone, or time is up: every second while
 * the deallocation is likely, then at the pace Compute's per-VM read budget refills, always leaving
 * a reserve. A VM that is running again with an operation finished after the eviction was
 * announced went down and came back already (another run's sweep, or a person): no use waiting.
 */
async function waitUntilDeallocated(
  vm: VmRecord,
  mode: Mode,
  deps: RestartDeps,
  deadline: number
): Promise<{ code: string; restarted?: boolean; changedAt?: number; failedCode?: string }> {
  const began = deps.clock.now();
  const waitEnds = began + (mode.kind === 'eviction' ? deps.waitForDeallocationMs : 60_000);
  const slowPause = Math.ceil(60_000 / deps.vmReads.limits.perMinute);
  for (let first = true; ; first = false) {
    const seen = await readPowerState(vm, deps, deadline, first ? 0 : READ_RESERVE);
    const code = effectiveState(seen);
    // Deallocated with an operation under way (a resize, a start just accepted): look again.
    const settled = !(code === 'PowerState/deallocated' && seen.updating);
    if ((code === 'PowerState/deallocated' && settled) || code === 'gone')
      return { code, changedAt: seen.changedAt, failedCode: seen.failedCode };
    const running = RUNNING_STATES.includes(code);
    if (
      mode.kind === 'eviction' &&
      running &&
      seen.changedAt !== undefined &&
      seen.changedAt > mode.announcedAt
    )
      return { code, restarted: true };
    const worthWaiting = !settled || ON_THE_WAY_DOWN.includes(code) || (mode.kind === 'eviction' && running);
    const pause = deps.clock.now() - began < FAST_WAIT_MS ? 1000 : slowPause;
    if (!worthWaiting || deps.clock.now() + pause > Math.min(waitEnds, deadline))
      return { code, changedAt: seen.changedAt };
    await deps.clock.sleep(pause);
  }
}

/**
 * Our start was preempted by a more recent operation (`OperationPreempted`; core-lro reports the
 * operation's `Canceled` status as "Operation was canceled"), or refused because another one is
 * under way. Azure does not say whose (azure-sdk-for-java#1783): the VM, read again, does.
 */
function wasPreempted(info: ReturnType<typeof describeAzureError>): boolean {
  if (info.code === 'OperationPreempted' || /operation was cancel+ed|preempted/i.test(info.message))
    return true;
  return info.status === 409 && isTransient(info);
}

/** Clock differences between us and Compute, when we compare our request's time with its. */
const SKEW_MS = 60_000;

/**
 * Before any retry after a preemption: a user operation that ended after we sent the start (or a
 * deallocation or stop under way as a user operation) is a person's or a script's latest word, and
 * it wins; otherwise the deallocation is judged again on what the VM shows now.
 */
async function afterPreemption(
  seen: PowerState,
  state: string,
  sentAt: number,
  now: number,
  decide: Decide
): Promise<{ outcome: VmResult['outcome']; detail: string } | undefined> {
  const down = state === 'PowerState/deallocated' || state === 'PowerState/stopped';
  const userOpAfterOurs =
    (ON_THE_WAY_DOWN.includes(state) && seen.updating) ||
    (down && seen.changedAt !== undefined && !seen.failedCode && seen.changedAt >= sentAt - SKEW_MS);
  if (userOpAfterOurs)
    return {
      outcome: 'user-stopped',
      detail: `a more recent operation preempted our start and left it ${shortState(state)}${seen.changedAt ? ` (its last operation ended at ${new Date(seen.changedAt).toISOString()})` : ''}: a person or script took it down; not started again`
    };
  if (!down) return undefined;
  const verdict = await decide({
    lastOperationEndedAt: seen.changedAt,
    lastOperationFailed: seen.failedCode,
    now
  });
  return verdict.eligible ? undefined : { outcome: verdict.outcome, detail: verdict.detail };
}

function shortState(state: string): string {
  return state.replace('PowerState/', '');
}
