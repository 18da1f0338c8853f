/**
 * Resource Manager's budget per subscription, kept on our side in the SDK pipeline: every attempt
 * (the pipeline's own retries included) spends it, Azure's remaining count corrects it for the
 * requests sent since, and polls of accepted starts wait behind the reads that lead to a start.
 * The pipeline tests run the real Compute client against a nock server that keeps Resource
 * Manager's token bucket (smaller numbers, so that they run in about a second).
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ComputeManagementClient } from '@azure/arm-compute';
import { realClock, type Clock } from '../../src/azure/retry.js';
import {
  ARM_READS,
  armBudgetPolicy,
  SubscriptionBudget,
  type SubscriptionLimits
} from '../../src/azure/subscription-budget.js';
import { ARM, staticCredential, SUB, vmPath } from '../helpers/arm-nock.js';
import { fakeClock } from '../helpers/fake-clock.js';

afterEach(() => {
  nock.cleanAll();
});

describe('SubscriptionBudget', () => {
  test("Azure's count, less every request still on its way, lowers what is left", async () => {
    const clock = fakeClock();
    const reads = new SubscriptionBudget(clock, ARM_READS);
    const tickets: number[] = [];
    for (let i = 0; i < 10; i++) tickets.push(await reads.take(SUB));
    // Another caller spent 100: Azure counted our first request with 149 left; nine more are on their way.
    reads.settle(SUB, tickets[0]!, 149);
    for (let i = 0; i < 140; i++) await reads.take(SUB);
    expect(reads.waits).toBe(0);
    const before = clock.now();
    await reads.take(SUB);
    expect(reads.waits).toBe(1);
    expect(clock.now() - before).toBe(40); // 25 a second
  });

  test('a count above ours changes nothing: another caller can spend the bucket, never refill it', async () => {
    const clock = fakeClock();
    const reads = new SubscriptionBudget(clock, ARM_READS);
    const tickets: number[] = [];
    for (let i = 0; i < 250; i++) tickets.push(await reads.take(SUB));
    // The first request's answer, counted before the other 249 arrived.
    reads.settle(SUB, tickets[0]!, 249);
    const before = clock.now();
    await reads.take(SUB);
    expect(clock.now() - before).toBe(40);
    expect(reads.waits).toBe(1);
  });

  test('polls of accepted starts wait while a read that leads to a start waits', async () => {
    // Time passes only when the event loop comes round, as it does for a real timer.
    let now = Date.parse('2026-11-21T12:00:00Z');
    const clock: Clock = {
      now: () => now,
      sleep: ms => new Promise(resolve => setImmediate(() => ((now += ms), resolve())))
    };
    const reads = new SubscriptionBudget(clock, ARM_READS);
    reads.settle(SUB, await reads.take(SUB), 0);
    const order: string[] = [];
    const poll = reads.take(SUB, 'last').then(() => order.push('poll'));
    const read = reads.take(SUB, 'first').then(() => order.push('instance view'));
    await Promise.all([poll, read]);
    expect(order).toEqual(['instance view', 'poll']);
  });
});

/** Resource Manager's bucket on the server side, and the instance-view answers that spend it. */
function armWithBucket(limits: SubscriptionLimits, startTokens: number) {
  let tokens = startTokens;
  let at = Date.now();
  const seen = { ok: 0, refused: 0 };
  nock(ARM)
    .get(/\/instanceView/)
    .query(true)
    .times(10_000)
    .delay(15)
    .reply(() => {
      const now = Date.now();
      tokens = Math.min(limits.capacity, tokens + ((now - at) * limits.perSecond) / 1000);
      at = now;
      if (tokens < 1) {
        seen.refused++;
        return [429, { error: { code: 'TooManyRequests', message: 'throttled' } }, { 'Retry-After': '1' }];
      }
      tokens -= 1;
      seen.ok++;
      return [
        200,
        { statuses: [{ code: 'PowerState/deallocated' }] },
        { [`x-ms-ratelimit-remaining-subscription-${limits.kind}`]: String(Math.floor(tokens)) }
      ];
    });
  return seen;
}

function budgetedClient(reads: SubscriptionBudget): ComputeManagementClient {
  return new ComputeManagementClient(staticCredential, SUB, {
    endpoint: ARM,
    retryOptions: { maxRetries: 4, retryDelayInMs: 1, maxRetryDelayInMs: 5 },
    additionalPolicies: [
      armBudgetPolicy({
        reads,
        writes: new SubscriptionBudget(realClock, { ...reads.limits, kind: 'writes' })
      })
    ]
  });
}

describe('the budget in the pipeline', () => {
  const limits: SubscriptionLimits = { kind: 'reads', capacity: 20, perSecond: 40 };

  test('a burst past the bucket is paced, not refused', async () => {
    const seen = armWithBucket(limits, limits.capacity);
    const reads = new SubscriptionBudget(realClock, limits);
    const client = budgetedClient(reads);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => client.virtualMachines.instanceView('rg-spot', `vm${i}`))
    );
    expect(seen).toEqual({ ok: 60, refused: 0 });
    expect(reads.waits).toBeGreaterThan(0);
  });

  test('a bucket another caller emptied costs a handful of 429s, and every retry waits its turn', async () => {
    // Another caller left 2 of 20: the first answers say so, and the run slows down at once.
    const seen = armWithBucket(limits, 2);
    const reads = new SubscriptionBudget(realClock, limits);
    const client = budgetedClient(reads);
    const views = await Promise.all(
      Array.from({ length: 60 }, (_, i) => client.virtualMachines.instanceView('rg-spot', `vm${i}`))
    );
    expect(views).toHaveLength(60);
    expect(seen.ok).toBe(60);
    // The requests that left together with the first ones were refused, none after Azure's count came back.
    expect(seen.refused).toBeLessThanOrEqual(limits.capacity);
  });

  test("a 429 from Resource Manager empties the subscription's bucket; one from a Compute policy does not", async () => {
    const clock = fakeClock();
    const reads = new SubscriptionBudget(clock, ARM_READS);
    const { policy } = armBudgetPolicy({ reads, writes: reads });
    const refused = (headers: Record<string, string>) => async () =>
      ({ status: 429, headers: { get: (name: string) => headers[name] } }) as never;
    const view = { url: `${ARM}${vmPath('vm1')}/instanceView`, method: 'GET' } as never;
    // Compute's per-VM bucket refused it: the subscription still has its reads.
    await policy.sendRequest(
      view,
      refused({ 'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/LowCostGetVM;0' })
    );
    await reads.take(SUB);
    expect(reads.waits).toBe(0);
    // Resource Manager refused it: nothing is left until the refill.
    await policy.sendRequest(view, refused({ 'retry-after': '1' }));
    const before = clock.now();
    await reads.take(SUB);
    expect(reads.waits).toBe(1);
    expect(clock.now() - before).toBeGreaterThan(0);
  });

  test('the global count every principal shares is read too: when it is the lower one, it paces the run', async () => {
    const clock = fakeClock();
    const reads = new SubscriptionBudget(clock, ARM_READS);
    const { policy } = armBudgetPolicy({ reads, writes: reads });
    const view = { url: `${ARM}${vmPath('vm1')}/instanceView`, method: 'GET' } as never;
    const answered = (headers: Record<string, string>) => async () =>
      ({ status: 200, headers: { get: (name: string) => headers[name] } }) as never;
    // Ours says 240 left; other principals left 1 of the subscription's global 3 750.
    await policy.sendRequest(
      view,
      answered({
        'x-ms-ratelimit-remaining-subscription-reads': '240',
        'x-ms-ratelimit-remaining-subscription-global-reads': '1'
      })
    );
    await reads.take(SUB);
    expect(reads.waits).toBe(0);
    const before = clock.now();
    await reads.take(SUB);
    expect(reads.waits).toBe(1);
    expect(clock.now()).toBeGreaterThan(before);
  });

  test('requests outside a subscription (Resource Graph, sign-in) spend nothing', async () => {
    const reads = new SubscriptionBudget(fakeClock(), ARM_READS);
    const { policy } = armBudgetPolicy({ reads, writes: reads });
    let sent = 0;
    const next = async () => {
      sent++;
      return { status: 200, headers: { get: () => undefined } } as never;
    };
    for (let i = 0; i < 300; i++)
      await policy.sendRequest(
        {
          url: `${ARM}/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01`,
          method: 'POST'
        } as never,
        next
      );
    expect(sent).toBe(300);
    await policy.sendRequest({ url: `${ARM}${vmPath('vm1')}/instanceView`, method: 'GET' } as never, next);
    expect(reads.waits).toBe(0);
  });
});
