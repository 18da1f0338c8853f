/**
 * One start, from the call to the end of its long-running operation, for each kind of target:
 * a standalone VM or a Flexible instance is started with `virtualMachines/start`; Uniform
 * instances of one scale set are started together with one `virtualMachineScaleSets/start` and
 * `{"instanceIds": […]}` (Microsoft Learn, "Virtual Machine Scale Sets - Start"), batched here so
 * that the pipeline above starts each instance as if it were alone.
 */
import type { ComputeManagementClient } from '@azure/arm-compute';
import pLimit, { type LimitFunction } from 'p-limit';
import type { VmRecord } from '../discover/discovery.js';
import type { ResourceBudget } from '../azure/resource-budget.js';
import { describeAzureError } from '../azure/errors.js';
import type { RunningWatch } from './running-watch.js';
import type { Clock } from '../azure/retry.js';

export interface StartDeps {
  clock: Clock;
  compute: (subscriptionId: string) => ComputeManagementClient;
  /** Start calls in flight, bounded per subscription (startSlots). */
  limit: StartSlots;
  pollIntervalMs: number;
  /** Start operations being polled right now, per subscription (Azure's read budget is per subscription). */
  inFlight: Map<string, number>;
  operationReads: ResourceBudget;
  scaleSets: ScaleSetStarter;
  /**
   * Compute's "Update VM" and "Update VMSS" budgets per subscription and region (every start spends
   * one). Resource Manager's own read and write budgets are spent in the pipeline (subscription-budget.ts).
   */
  vmUpdates: ResourceBudget;
  scaleSetUpdates: ResourceBudget;
  /** "Update VM" per VM (12, refilled 4 a minute): starts, resizes and new max prices of one VM. */
  vmUpdatesPerVm?: ResourceBudget;
  /** Confirms started VMs in bulk (running-watch.ts); absent, each start's operation is polled to its end. */
  watch?: RunningWatch;
}

export type UpdateBudgets = Pick<StartDeps, 'vmUpdates' | 'vmUpdatesPerVm'>;
type Where = Pick<VmRecord, 'id' | 'name' | 'subscriptionId' | 'location'>;
const regionOf = (vm: Where) => `${vm.subscriptionId}|${vm.location}`.toLowerCase();

/** The update budgets among a caller's dependencies, if it has them. */
export function updateBudgets(deps: Partial<UpdateBudgets>): UpdateBudgets | undefined {
  return deps.vmUpdates ? { vmUpdates: deps.vmUpdates, vmUpdatesPerVm: deps.vmUpdatesPerVm } : undefined;
}

/** Waits for an "Update VM" token of the VM's subscription and region, and of the VM itself. */
export async function takeVmUpdate(
  budgets: UpdateBudgets,
  vm: Where,
  what: string,
  deadline?: number
): Promise<void> {
  await budgets.vmUpdates.take(regionOf(vm), {
    what: `${vm.name}: ${what} (Compute's update budget in ${vm.location})`,
    deadline
  });
  await budgets.vmUpdatesPerVm?.take(vm.id.toLowerCase(), {
    what: `${vm.name}: ${what} (Compute's update budget for the VM)`,
    deadline
  });
}

/** What Azure says is left of the update policies that counted the VM's call. */
export function observeVmUpdate(budgets: UpdateBudgets, vm: Where, header: string | undefined): void {
  budgets.vmUpdates.observe(regionOf(vm), header);
  budgets.vmUpdatesPerVm?.observe(vm.id.toLowerCase(), header);
}

interface Poller {
  isDone: boolean;
  poll(): Promise<unknown>;
  pollUntilDone(): Promise<unknown>;
  submitted(): Promise<void>;
}

/**
 * Starts the target and follows its operation to the end; `onAccepted` is told when Azure took the
 * start, `onUnderWay` once it is seen still going rather than refused (or it succeeded).
 */
export async function startOnce(
  vm: VmRecord,
  deps: StartDeps,
  onAccepted: (at: number) => void,
  onUnderWay: () => void = () => undefined,
  /** Poll the first time after this long, whatever else is in flight: a probe's answer lets its pool through. */
  firstPollMs?: number
): Promise<void> {
  let told = false;
  const underWay = () => {
    if (!told) onUnderWay();
    told = true;
  };
  if (vm.kind === 'vmss-uniform') {
    await deps.scaleSets.start(vm, onAccepted);
    return underWay();
  }
  const client = deps.compute(vm.subscriptionId);
  const { poller } = await submit(deps, vm, onResponse =>
    client.virtualMachines.start(vm.resourceGroup, vm.name, {
      updateIntervalInMs: pollInterval(deps.pollIntervalMs, deps.inFlight.get(vm.subscriptionId) ?? 0),
      onResponse
    })
  );
  onAccepted(deps.clock.now());
  await (deps.watch
    ? confirm(poller, vm, deps.watch, deps, underWay)
    : follow(poller, vm.id, vm.subscriptionId, deps, underWay, firstPollMs));
  underWay();
}

/**
 * Follows a VM's start through the bulk listings: running there, it is started with no poll of its
 * own; down again, one poll of its operation says why (or that it is still on its way, as Azure
 * may list the VM before the start shows); without listings, its operation is polled to the end.
 */
async function confirm(
  poller: Poller,
  vm: VmRecord,
  watch: RunningWatch,
  deps: StartDeps,
  onStillRunning: () => void
): Promise<void> {
  for (;;) {
    const seen = await watch.next(vm);
    if (seen === 'running') return;
    if (seen === 'unavailable') return follow(poller, vm.id, vm.subscriptionId, deps, onStillRunning);
    if (seen === 'on its way') {
      onStillRunning();
      continue;
    }
    await deps.operationReads.take(vm.id.toLowerCase(), { what: `${vm.id}: following its start` });
    await poller.poll();
    if (poller.isDone) {
      await poller.pollUntilDone();
      return;
    }
    onStillRunning();
  }
}

/** Where start calls queue for `max-concurrency`: one queue per subscription. */
export type StartSlots = (subscriptionId: string) => LimitFunction;

/**
 * Azure's budgets are per subscription, and a call waits for its subscription's budget inside its
 * slot: with one queue for all, the calls of a subscription whose writes ran out held every slot
 * while other subscriptions had budget left (measured: one subscription's starts stalled 4.7 s).
 */
export function startSlots(max: number): StartSlots {
  const queues = new Map<string, LimitFunction>();
  return subscriptionId => {
    const key = subscriptionId.toLowerCase();
    let queue = queues.get(key);
    if (!queue) queues.set(key, (queue = pLimit(max)));
    return queue;
  };
}

type OnResponse = (response: { headers: { get(name: string): string | undefined } }) => void;

/**
 * Sends the start once Compute's update budget for the subscription and region allows it, and
 * feeds the budget what Azure says is left. Wrapped: a poller is thenable, and returning it bare
 * from an async function would await it.
 */
function submit(
  deps: Pick<StartDeps, 'limit' | 'vmUpdates' | 'vmUpdatesPerVm' | 'scaleSetUpdates'>,
  vm: VmRecord,
  begin: (onResponse: OnResponse) => Poller
): Promise<{ poller: Poller }> {
  const scaleSet = vm.kind === 'vmss-uniform';
  // A scale set's start is "Update VMSS", counted for the subscription only; a VM's is "Update VM".
  const take = () =>
    scaleSet
      ? deps.scaleSetUpdates.take(regionOf(vm), {
          what: `${vm.scaleSet!.name}: start (Compute's scale-set update budget in ${vm.location})`
        })
      : takeVmUpdate(deps, vm, 'start');
  const observe = (header: string | undefined) =>
    scaleSet ? deps.scaleSetUpdates.observe(regionOf(vm), header) : observeVmUpdate(deps, vm, header);
  return deps.limit(vm.subscriptionId)(async () => {
    await take();
    let first = true;
    const started = begin(response => {
      // Only the start call's own answer speaks of updates; the polls that follow are reads.
      if (!first) return;
      first = false;
      observe(response.headers.get('x-ms-ratelimit-remaining-resource'));
    });
    await started.submitted();
    return { poller: started };
  });
}

/**
 * Our own loop rather than the poller's fixed interval: the pace follows how many operations are
 * in flight now, not when this one began, and each poll spends the operation's read budget.
 */
async function follow(
  poller: Poller,
  resourceId: string,
  subscriptionId: string,
  deps: StartDeps,
  onStillRunning: () => void = () => undefined,
  firstPollMs?: number
): Promise<void> {
  deps.inFlight.set(subscriptionId, (deps.inFlight.get(subscriptionId) ?? 0) + 1);
  try {
    for (let first = true; !poller.isDone; first = false) {
      await deps.clock.sleep(
        first && firstPollMs !== undefined
          ? firstPollMs
          : pollInterval(deps.pollIntervalMs, deps.inFlight.get(subscriptionId) ?? 1)
      );
      await deps.operationReads.take(resourceId.toLowerCase(), {
        what: `${resourceId}: following its start`
      });
      await poller.poll();
      if (!poller.isDone) onStillRunning();
    }
    await poller.pollUntilDone();
  } finally {
    deps.inFlight.set(subscriptionId, (deps.inFlight.get(subscriptionId) ?? 1) - 1);
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

interface Batch {
  waiters: Waiter[];
  since: number;
  last: number;
}

interface Waiter {
  vm: VmRecord;
  onAccepted: (at: number) => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the Uniform instances of each scale set that become ready to start close together —
 * until `windowMs` passes with no new one, `maxWaitMs` after the first, or `maxBatch` of them —
 * into one start call. The operation's outcome is every
 * instance's: a failed batch (say, no capacity for some) sends each instance back to its own
 * retry, which reads its own power state first.
 */
export class ScaleSetStarter {
  private readonly pending = new Map<string, Batch>();
  /** Start calls made, per scale set (for the report and the tests). */
  readonly calls = new Map<string, number>();

  constructor(
    private readonly deps: () => StartDeps,
    private readonly windowMs = 300,
    private readonly maxWaitMs = 2000,
    private readonly maxBatch = 200
  ) {}

  start(vm: VmRecord, onAccepted: (at: number) => void): Promise<void> {
    const key = vm.scaleSet!.id.toLowerCase();
    const now = this.deps().clock.now();
    return new Promise<void>((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        this.pending.set(key, (batch = { waiters: [], since: now, last: now }));
        void this.flushWhenQuiet(key, batch);
      }
      batch.last = now;
      batch.waiters.push({ vm, onAccepted, resolve, reject });
      if (batch.waiters.length >= this.maxBatch) void this.flush(key, batch);
    });
  }

  private async flushWhenQuiet(key: string, batch: Batch): Promise<void> {
    const clock = this.deps().clock;
    for (;;) {
      await clock.sleep(this.windowMs);
      const now = clock.now();
      if (now - batch.last >= this.windowMs || now - batch.since >= this.maxWaitMs) break;
    }
    await this.flush(key, batch);
  }

  private async flush(key: string, batch: Batch): Promise<void> {
    if (this.pending.get(key) !== batch) return;
    this.pending.delete(key);
    const deps = this.deps();
    let waiters = batch.waiters;
    const vm = waiters[0]!.vm;
    const client = deps.compute(vm.subscriptionId);
    let poller: Poller;
    for (;;) {
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
      try {
        ({ poller } = await submit(deps, vm, onResponse =>
          client.virtualMachineScaleSets.start(vm.resourceGroup, vm.scaleSet!.name, {
            vmInstanceIDs: { instanceIds: waiters.map(w => w.vm.instanceId!) },
            updateIntervalInMs: pollInterval(deps.pollIntervalMs, deps.inFlight.get(vm.subscriptionId) ?? 0),
            onResponse
          })
        ));
        break;
      } catch (error) {
        // Autoscale deleted an instance since it was read: Compute refuses the whole call naming
        // that one instance, so it alone is dropped and the rest are started at once.
        const gone = vanishedInstance(error);
        const dropped = gone === undefined ? undefined : waiters.find(w => w.vm.instanceId === gone);
        if (!dropped) {
          for (const w of waiters) w.reject(error);
          return;
        }
        dropped.reject(error);
        waiters = waiters.filter(w => w !== dropped);
        if (waiters.length === 0) return;
      }
    }
    try {
      const at = deps.clock.now();
      for (const w of waiters) w.onAccepted(at);
      await follow(poller, vm.scaleSet!.id, vm.subscriptionId, deps);
      for (const w of waiters) w.resolve();
    } catch (error) {
      for (const w of waiters) w.reject(error);
    }
  }
}

/**
 * The instance a scale-set start was refused for because it no longer exists: 400
 * `InvalidParameter`, target `instanceIds`, "The provided instanceId 2143 is not an active Virtual
 * Machine Scale Set VM instanceId." (the body quoted in microsoft/onefuzz#2547 and matched by
 * kubernetes-sigs/cloud-provider-azure; Microsoft publishes no page for it). It names one instance,
 * so several vanished instances come back as several refusals, one a call.
 */
export function vanishedInstance(error: unknown): string | undefined {
  const info = describeAzureError(error);
  if (info.code !== 'InvalidParameter') return undefined;
  return /instanceId '?([0-9]+)'? is not an active Virtual Machine Scale Set VM instanceId/i.exec(
    info.message
  )?.[1];
}
