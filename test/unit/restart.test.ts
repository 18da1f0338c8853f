/**
 * Every outcome of one VM, with the real Compute client talking HTTP (intercepted by nock) and the
 * error bodies Azure sends.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ScaleSetStarter, startSlots } from '../../src/act/start-operation.js';
import { pollInterval, restartVm as restartWith, type RestartDeps } from '../../src/act/restart.js';
import {
  GET_OPERATION,
  LOW_COST_GET_VM,
  ResourceBudget,
  UPDATE_VM,
  UPDATE_VMSS
} from '../../src/azure/resource-budget.js';
import { DeadlineError } from '../../src/azure/retry.js';
import { azureErrors } from '../emulator/azure/azure-errors.js';
import {
  ARM,
  SUB,
  computeClient,
  instanceView,
  startAccepted,
  startRefused,
  vm,
  vmPath,
  expectEveryAnswerUsed
} from '../helpers/arm-nock.js';
import { fakeClock } from '../helpers/fake-clock.js';

/** The cause of the deallocation is decided elsewhere (eligibility tests): here every VM was evicted. */
const restartVm = (...args: Parameters<typeof restartWith> extends [...infer Head, unknown] ? Head : never) =>
  restartWith(...args, () => ({ eligible: true }));

function deps(overrides: Partial<RestartDeps> = {}): RestartDeps & { clock: ReturnType<typeof fakeClock> } {
  const client = computeClient();
  const clock = overrides.clock ?? fakeClock();
  const made = {
    clock,
    compute: () => client,
    vmReads: new ResourceBudget(clock, LOW_COST_GET_VM),
    operationReads: new ResourceBudget(clock, GET_OPERATION),
    scaleSets: new ScaleSetStarter(() => made),
    vmUpdates: new ResourceBudget(clock, UPDATE_VM),
    scaleSetUpdates: new ResourceBudget(clock, UPDATE_VMSS),
    limit: startSlots(4),
    dryRun: false,
    retryForMs: 0,
    retryIntervalMs: 30_000,
    pollIntervalMs: 1,
    inFlight: new Map(),
    waitForDeallocationMs: 60_000,
    ...overrides
  } as RestartDeps & { clock: ReturnType<typeof fakeClock> };
  return made;
}

const SWEEP = { kind: 'sweep' } as const;
const EVICTION = { kind: 'eviction', announcedAt: Date.parse('2026-11-21T11:59:00Z') } as const;

afterEach(expectEveryAnswerUsed);

describe('restartVm', () => {
  test('started: deallocated, start accepted, operation succeeded', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated');
    startAccepted(scope, 'vm1', { status: 'Succeeded' });
    const result = await restartVm(vm('vm1'), 'sweep', SWEEP, deps());
    expect(result.detail).toBe('started');
    expect(result).toMatchObject({ outcome: 'started', attempts: 1, id: vmPath('vm1'), subscriptionId: SUB });
    expect(result.startAcceptedAt).toBeDefined();
  });

  test('already-running: Resource Graph lagged, the instance view says running', async () => {
    instanceView(nock(ARM), 'vm1', 'PowerState/running');
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'already-running'
    });
  });

  test('skipped: stopped but still allocated is not an eviction', async () => {
    instanceView(nock(ARM), 'vm1', 'PowerState/stopped');
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'skipped',
      detail: expect.stringContaining('stopped')
    });
  });

  test('deleted: the instance view is a 404', async () => {
    const e = azureErrors.notFound('rg-spot', 'vm1');
    nock(ARM)
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .reply(e.status, e.body);
    expect(await restartVm(vm('vm1'), 'dispatch', EVICTION, deps())).toMatchObject({ outcome: 'deleted' });
  });

  test.each([
    ['AllocationFailed', azureErrors.allocationFailed()],
    ['ZonalAllocationFailed', azureErrors.zonalAllocationFailed()],
    ['OverconstrainedAllocationRequest', azureErrors.overconstrained()],
    ['OverconstrainedZonalAllocationRequest', azureErrors.overconstrained(true)]
  ])('capacity-unavailable: the operation fails with %s', async (code, error) => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 2);
    startAccepted(scope, 'vm1', { status: 'Failed', error });
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'capacity-unavailable',
      errorCode: code
    });
  });

  test('capacity-unavailable: SkuNotAvailable refused at once', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 2);
    startRefused(scope, 'vm1', azureErrors.skuNotAvailable('vm1', 'Standard_D2s_v5', 'eastus', SUB));
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'capacity-unavailable',
      errorCode: 'SkuNotAvailable'
    });
  });

  test('capacity comes back within retry-for: started on the third attempt', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 3);
    startAccepted(scope, 'vm1', { status: 'Failed', error: azureErrors.allocationFailed() });
    startAccepted(scope, 'vm1', { status: 'Failed', error: azureErrors.allocationFailed() });
    startAccepted(scope, 'vm1', { status: 'Succeeded' });
    const d = deps({ retryForMs: 120_000, retryIntervalMs: 30_000 });
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, d)).toMatchObject({
      outcome: 'started',
      attempts: 3
    });
    // The other pauses are the polls of the start operations.
    expect(d.clock.slept.filter(ms => ms === 30_000)).toEqual([30_000, 30_000]);
  });

  test('price-above-max reports the current price', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 2);
    startRefused(scope, 'vm1', azureErrors.priceAboveMax(0.01, 0.0207, 'Standard_D2s_v5', 'eastus'));
    expect(await restartVm(vm('vm1', { maxPrice: 0.01 }), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'price-above-max',
      currentPrice: 0.0207,
      errorCode: 'SpotPriceGreaterThanProvidedMaxPrice'
    });
  });

  test('quota-exceeded is not retried', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 2);
    startRefused(scope, 'vm1', azureErrors.quotaExceeded('eastus', 10, 8, 4));
    const d = deps({ retryForMs: 600_000 });
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, d)).toMatchObject({
      outcome: 'quota-exceeded',
      attempts: 1
    });
    expect(d.clock.slept).toEqual([]);
  });

  test('failed: a 403 names the missing permission', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 2);
    startRefused(
      scope,
      'vm1',
      azureErrors.authorizationFailed('app', 'Microsoft.Compute/virtualMachines/start/action', vmPath('vm1'))
    );
    const result = await restartVm(vm('vm1'), 'sweep', SWEEP, deps());
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain("lacks the permission 'Microsoft.Compute/virtualMachines/start/action'");
  });

  test('429 with Retry-After, then accepted: retried, not a failure', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 1);
    const throttled = azureErrors.throttled();
    // More 429s than the SDK pipeline retries: our own loop carries the call through.
    scope
      .post(`${vmPath('vm1')}/start`)
      .query(true)
      .times(3)
      .reply(throttled.status, throttled.body, { 'Retry-After': '0' });
    instanceView(scope, 'vm1', 'PowerState/deallocated', 1);
    startAccepted(scope, 'vm1', { status: 'Succeeded' });
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'started',
      attempts: 2
    });
  });

  test('409 "another operation in progress", then accepted', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 2);
    startRefused(scope, 'vm1', azureErrors.operationInProgress('vm1', 'deallocate'));
    startAccepted(scope, 'vm1', { status: 'Succeeded' });
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'started',
      attempts: 2
    });
  });

  test('a start whose answer was lost is confirmed by the power state, not sent again', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated');
    scope
      .post(`${vmPath('vm1')}/start`)
      .query(true)
      .times(3)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    instanceView(scope, 'vm1', 'PowerState/starting');
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({ outcome: 'started' });
  });

  test('eviction mode waits for deallocation, then starts', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/running', 2);
    instanceView(scope, 'vm1', 'PowerState/deallocating', 1);
    instanceView(scope, 'vm1', 'PowerState/deallocated', 1);
    startAccepted(scope, 'vm1', { status: 'Succeeded' });
    const d = deps();
    expect(await restartVm(vm('vm1'), 'dispatch', EVICTION, d)).toMatchObject({
      outcome: 'started',
      source: 'dispatch'
    });
    expect(d.clock.slept.slice(0, 3)).toEqual([1000, 1000, 1000]);
  });

  test('not-deallocated-in-time: still running when wait-for-deallocation runs out', async () => {
    instanceView(nock(ARM).persist(), 'vm1', 'PowerState/running');
    const result = await restartVm(vm('vm1'), 'dispatch', EVICTION, deps({ waitForDeallocationMs: 10_000 }));
    nock.cleanAll();
    expect(result).toMatchObject({ outcome: 'not-deallocated-in-time' });
  });

  test('eviction mode: running again since the eviction was announced means someone already restarted it', async () => {
    instanceView(nock(ARM), 'vm1', 'PowerState/running', 1, '2026-11-21T11:59:40Z');
    expect(await restartVm(vm('vm1'), 'dispatch', EVICTION, deps())).toMatchObject({
      outcome: 'already-running',
      detail: expect.stringContaining('already started again')
    });
  });

  test('409 because another run is starting it: already-running, not claimed as ours', async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated');
    startRefused(scope, 'vm1', azureErrors.operationInProgress('vm1', 'start'));
    instanceView(scope, 'vm1', 'PowerState/starting');
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps())).toMatchObject({
      outcome: 'already-running',
      detail: 'starting: being started by another operation'
    });
  });

  test('the cause is decided once the VM is down, with the time its deallocation ended', async () => {
    instanceView(nock(ARM), 'vm1', 'PowerState/deallocated', 1, '2026-11-21T11:59:40Z');
    const asked: unknown[] = [];
    const result = await restartWith(
      vm('vm1'),
      'dispatch',
      EVICTION,
      deps(),
      async facts => (
        asked.push(facts),
        {
          eligible: false,
          outcome: 'user-stopped',
          detail: 'deallocated by a user'
        }
      )
    );
    expect(result).toMatchObject({ outcome: 'user-stopped' });
    expect(asked).toEqual([
      { lastOperationEndedAt: Date.parse('2026-11-21T11:59:40Z'), now: expect.any(Number) }
    ]);
  });

  test("Compute's update budget for the region: a start waits when Azure says none is left", async () => {
    const scope = nock(ARM);
    instanceView(scope, 'vm1', 'PowerState/deallocated');
    startAccepted(
      scope,
      'vm1',
      { status: 'Succeeded' },
      { 'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/UpdateVM3Min;0' }
    );
    const d = deps();
    expect((await restartVm(vm('vm1'), 'sweep', SWEEP, d)).outcome).toBe('started');
    // Left: what refilled (500 a minute) while the start was followed — one more start, then a wait.
    const region = `${SUB}|eastus`;
    const soon = { deadline: d.clock.now() + 10 };
    await d.vmUpdates.take(region, soon);
    await expect(d.vmUpdates.take(region, soon)).rejects.toThrow(DeadlineError);
    // Without Azure's count, the bucket would still hold most of its 1 500.
    const fresh = deps();
    for (let i = 0; i < 100; i++) await fresh.vmUpdates.take(region, { deadline: fresh.clock.now() });
  });

  test("a subscription waiting for its budget does not hold another subscription's start slots", async () => {
    const slots = startSlots(2);
    let release!: () => void;
    const waiting = new Promise<void>(r => (release = r));
    // Both of subscription A's slots wait (for A's write budget, say)…
    const held = [slots('sub-a')(() => waiting), slots('sub-a')(() => waiting)];
    // …while subscription B's start goes at once; a third of A's waits for a slot.
    let third = false;
    let other = false;
    const queued = slots('SUB-A')(async () => void (third = true));
    const sent = slots('sub-b')(async () => void (other = true));
    await new Promise(resolve => setImmediate(resolve));
    expect(other).toBe(true);
    expect(third).toBe(false);
    await sent;
    release();
    await Promise.all([...held, queued]);
    expect(third).toBe(true);
  });

  test('the more starts are being polled, the slower each is polled', () => {
    expect(pollInterval(5000, 0)).toBe(5000);
    expect(pollInterval(5000, 299)).toBe(20_000);
    expect(pollInterval(200, 2999)).toBe(200_000);
  });

  test('dry run: checked, not started', async () => {
    instanceView(nock(ARM), 'vm1', 'PowerState/deallocated');
    expect(await restartVm(vm('vm1'), 'sweep', SWEEP, deps({ dryRun: true }))).toMatchObject({
      outcome: 'skipped',
      detail: 'dry run: would start it (evicted)'
    });
  });
});
