/**
 * Compute's per-VM read budget on our side: a dispatched run waiting five minutes for a
 * deallocation never empties the VM's "Low Cost Get VM" bucket (36, refill 12/min), and a wait
 * that would pass the VM's deadline is refused instead of slept.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import {
  GET_OPERATION,
  LOW_COST_GET_VM,
  ResourceBudget,
  UPDATE_VM,
  UPDATE_VM_PER_VM,
  UPDATE_VMSS
} from '../../src/azure/resource-budget.js';
import { ScaleSetStarter, startSlots } from '../../src/act/start-operation.js';
import { restartVm, type RestartDeps } from '../../src/act/restart.js';
import { DeadlineError } from '../../src/azure/retry.js';
import { ARM, computeClient, vm, vmPath } from '../helpers/arm-nock.js';
import { fakeClock } from '../helpers/fake-clock.js';

afterEach(() => {
  nock.cleanAll();
});

describe('ResourceBudget', () => {
  test('spends the bucket, then waits for its refill', async () => {
    const clock = fakeClock();
    const budget = new ResourceBudget(clock, LOW_COST_GET_VM);
    const start = clock.now();
    for (let i = 0; i < 36; i++) await budget.take('vm');
    expect(clock.now()).toBe(start);
    await budget.take('vm');
    expect(clock.now() - start).toBe(5000); // 12 a minute
  });

  test('keeps a reserve for reads that matter more', async () => {
    const clock = fakeClock();
    const budget = new ResourceBudget(clock, LOW_COST_GET_VM);
    for (let i = 0; i < 30; i++) await budget.take('vm', { reserve: 6 });
    const before = clock.now();
    await budget.take('vm', { reserve: 6 });
    expect(clock.now()).toBeGreaterThan(before);
  });

  test('what Azure reports in x-ms-ratelimit-remaining-resource lowers our estimate', async () => {
    const clock = fakeClock();
    const budget = new ResourceBudget(clock, GET_OPERATION);
    budget.observe('op', 'Microsoft.Compute/GetOperation3Min;1,Microsoft.Compute/LowCostGet3Min;900');
    await budget.take('op');
    const before = clock.now();
    await budget.take('op');
    expect(clock.now()).toBeGreaterThan(before);
  });

  test('every policy a header names is read, one header per policy or comma-joined; the tightest covering the bucket wins', async () => {
    const clock = fakeClock();
    const region = new ResourceBudget(clock, UPDATE_VM);
    const perVm = new ResourceBudget(clock, UPDATE_VM_PER_VM);
    // One VM's bucket says 1 left: that VM waits, the region does not.
    const header =
      'Microsoft.Compute/UpdateVMSubscription;1400, Microsoft.Compute/UpdateVMResource;1,Microsoft.Compute/LowCostGet3Min;3';
    region.observe('r', header);
    perVm.observe('vm', header);
    const soon = { deadline: clock.now() + 10 };
    await perVm.take('vm', soon);
    await expect(perVm.take('vm', soon)).rejects.toThrow(DeadlineError);
    for (let i = 0; i < 1400; i++) await region.take('r', soon);
    await expect(region.take('r', soon)).rejects.toThrow(DeadlineError);
    // A published windowed name is the subscription's, whatever its count.
    const windowed = new ResourceBudget(clock, UPDATE_VM);
    windowed.observe('r', 'Microsoft.Compute/UpdateVM3Min;0');
    await expect(windowed.take('r', soon)).rejects.toThrow(DeadlineError);
  });

  test('"Update VM" per VM: a fallback that tries six sizes (a start, then a resize and a start each) never waits', async () => {
    const clock = fakeClock();
    const perVm = new ResourceBudget(clock, UPDATE_VM_PER_VM);
    const before = clock.now();
    for (let i = 0; i < 1 + 5 * 2; i++) await perVm.take('vm');
    expect(clock.now()).toBe(before);
    // The 13th waits for the refill: 4 a minute.
    await perVm.take('vm');
    await perVm.take('vm');
    expect(clock.now() - before).toBe(15_000);
  });

  test('never waits past the deadline', async () => {
    const clock = fakeClock();
    const budget = new ResourceBudget(clock, LOW_COST_GET_VM);
    for (let i = 0; i < 36; i++) await budget.take('vm');
    await expect(
      budget.take('vm', { deadline: clock.now() + 1000, what: 'vm: instance view' })
    ).rejects.toThrow(DeadlineError);
  });
});

describe('waiting for a deallocation', () => {
  test('five minutes of waiting for a VM that stays running fit its read bucket', async () => {
    const clock = fakeClock();
    const reads: number[] = [];
    nock(ARM)
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .times(1000)
      .reply(() => {
        reads.push(clock.now());
        return [
          200,
          {
            statuses: [
              { code: 'ProvisioningState/succeeded', time: '2026-11-21T08:00:00Z' },
              { code: 'PowerState/running' }
            ]
          }
        ];
      });
    const client = computeClient();
    const deps: RestartDeps = {
      clock,
      compute: () => client,
      limit: startSlots(1),
      dryRun: false,
      retryForMs: 0,
      retryIntervalMs: 30_000,
      pollIntervalMs: 1,
      inFlight: new Map(),
      waitForDeallocationMs: 5 * 60_000,
      vmReads: new ResourceBudget(clock, LOW_COST_GET_VM),
      operationReads: new ResourceBudget(clock, GET_OPERATION),
      scaleSets: new ScaleSetStarter(() => deps),
      vmUpdates: new ResourceBudget(clock, UPDATE_VM),
      scaleSetUpdates: new ResourceBudget(clock, UPDATE_VMSS)
    };
    const result = await restartVm(
      vm('vm1'),
      'dispatch',
      { kind: 'eviction', announcedAt: clock.now() },
      deps,
      () => ({ eligible: true })
    );
    expect(result.outcome).toBe('not-deallocated-in-time');
    // Replay the reads through Azure's bucket: it never runs dry, and the first half-minute is fast.
    let tokens = 36;
    let last = reads[0]!;
    for (const at of reads) {
      tokens = Math.min(36, tokens + ((at - last) * 12) / 60_000);
      last = at;
      tokens -= 1;
      expect(tokens).toBeGreaterThanOrEqual(0);
    }
    expect(reads.filter(at => at - reads[0]! < 30_000).length).toBeGreaterThanOrEqual(25);
    expect(reads.length).toBeGreaterThan(60);
  });
});
