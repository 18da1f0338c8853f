/**
 * Resource Manager's own budget per principal and subscription (Microsoft Learn, "Understand how
 * Azure Resource Manager throttles requests": token buckets, reads 250 refilled 25 a second,
 * writes 200 refilled 10 a second), kept on our side and spent by every attempt of every request —
 * the SDK pipeline's own retries included, which is why it is a pipeline policy. Every answer says
 * what is left (`x-ms-ratelimit-remaining-subscription-reads` / `-writes`): that count, corrected
 * for the requests sent after it, is taken as the truth, so the run sends at the pace the budget
 * allows instead of learning it from 429s. The global counts every principal shares
 * (`x-ms-ratelimit-remaining-subscription-global-reads` / `-writes`, 15 times the per-principal
 * limits) are read too: the lower count is the one that can refuse the next request.
 */
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { refillBucket } from './resource-budget.js';
import type { Clock } from './retry.js';

export interface SubscriptionLimits {
  /** Which of Resource Manager's buckets, as its header names it. */
  kind: 'reads' | 'writes';
  capacity: number;
  perSecond: number;
}

export const ARM_READS: SubscriptionLimits = { kind: 'reads', capacity: 250, perSecond: 25 };
export const ARM_WRITES: SubscriptionLimits = { kind: 'writes', capacity: 200, perSecond: 10 };

/**
 * `first`: reads and writes that lead to a start. `last`: polls of an operation already accepted —
 * they only tell us when it ends, so they wait while anything else waits.
 */
export type Priority = 'first' | 'last';

interface Bucket {
  /** What the bucket holds by our count, refilled to capacity at most; answered requests are taken off. */
  tokens: number;
  at: number;
  first: ((ticket: number) => void)[];
  last: ((ticket: number) => void)[];
  refillScheduled: boolean;
  /** Tickets of requests sent and not answered yet: they hold a token each until their answer. */
  inFlight: Set<number>;
}

/**
 * A request is counted where Azure counts it — somewhere between sending and its answer — so ours
 * comes off the bucket when the answer arrives, and is held aside until then: sent in a burst that
 * Azure sees a moment later, it must not start our refill before Azure's.
 */
export class SubscriptionBudget {
  private readonly buckets = new Map<string, Bucket>();
  private tickets = 0;
  /** How many requests waited for the budget (for the log and the bench). */
  waits = 0;

  constructor(
    private readonly clock: Clock,
    readonly limits: SubscriptionLimits
  ) {}

  /** Waits for a token, in order within its priority; the ticket goes back with the answer (`settle`). */
  async take(subscriptionId: string, priority: Priority = 'first'): Promise<number> {
    const bucket = this.bucket(subscriptionId);
    this.refill(bucket);
    const queued = bucket.first.length + (priority === 'last' ? bucket.last.length : 0);
    if (queued === 0 && this.free(bucket) >= 1) return this.send(bucket);
    this.waits++;
    return new Promise<number>(resolve => {
      bucket[priority].push(resolve);
      this.release(bucket);
    });
  }

  /**
   * The request behind `ticket` was answered; `remaining` is what Azure said was left when it
   * counted it (absent: the answer did not say). Taken only when lower than ours: answers come
   * back out of order over several connections, and another caller can spend the bucket but never
   * refill it.
   */
  settle(subscriptionId: string, ticket: number, remaining: number | undefined): void {
    const bucket = this.bucket(subscriptionId);
    if (!bucket.inFlight.delete(ticket)) return;
    this.refill(bucket);
    bucket.tokens -= 1;
    if (remaining !== undefined && Number.isFinite(remaining))
      bucket.tokens = Math.min(bucket.tokens, remaining);
    this.release(bucket);
  }

  private free(bucket: Bucket): number {
    return bucket.tokens - bucket.inFlight.size;
  }

  private send(bucket: Bucket): number {
    const ticket = ++this.tickets;
    bucket.inFlight.add(ticket);
    return ticket;
  }

  /** Hands out the tokens there are, first priority first, and comes back when the next one is due. */
  private release(bucket: Bucket): void {
    this.refill(bucket);
    while (this.free(bucket) >= 1 && (bucket.first.length || bucket.last.length))
      (bucket.first.shift() ?? bucket.last.shift())!(this.send(bucket));
    if (bucket.refillScheduled || !(bucket.first.length || bucket.last.length)) return;
    // Answers on their way free tokens too (settle releases); the refill is what this waits for.
    bucket.refillScheduled = true;
    const waitMs = Math.max(1, Math.ceil(((1 - this.free(bucket)) * 1000) / this.limits.perSecond));
    void this.clock.sleep(waitMs).then(() => {
      bucket.refillScheduled = false;
      this.release(bucket);
    });
  }

  private bucket(subscriptionId: string): Bucket {
    const key = subscriptionId.toLowerCase();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = {
        tokens: this.limits.capacity,
        at: this.clock.now(),
        first: [],
        last: [],
        refillScheduled: false,
        inFlight: new Set()
      };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private refill(bucket: Bucket): void {
    refillBucket(bucket, this.limits.capacity, this.limits.perSecond / 1000, this.clock.now());
  }
}

const SUBSCRIPTION_IN_PATH = /^\/subscriptions\/([^/]+)/i;
const OPERATION_POLL = /\/providers\/Microsoft\.Compute\/locations\/[^/]+\/operations\//i;

/**
 * Every attempt of every request to a subscription's resources spends that subscription's read or
 * write budget (GET and HEAD are reads), placed after the SDK's retry policy so that its retries
 * are paced too. Resource Graph's queries name no subscription in their path and have their own
 * quota (discovery.ts).
 */
export function armBudgetPolicy(budgets: { reads: SubscriptionBudget; writes: SubscriptionBudget }): {
  position: 'perRetry';
  policy: PipelinePolicy;
} {
  return {
    position: 'perRetry',
    policy: {
      name: 'armSubscriptionBudget',
      async sendRequest(request, next) {
        const path = new URL(request.url).pathname;
        const subscriptionId = SUBSCRIPTION_IN_PATH.exec(path)?.[1];
        if (!subscriptionId) return next(request);
        const budget = request.method === 'GET' || request.method === 'HEAD' ? budgets.reads : budgets.writes;
        const ticket = await budget.take(subscriptionId, OPERATION_POLL.test(path) ? 'last' : 'first');
        let remaining: number | undefined;
        try {
          const response = await next(request);
          const counts = [
            response.headers.get(`x-ms-ratelimit-remaining-subscription-${budget.limits.kind}`),
            // Shared by every principal of the subscription (15 times ours): another tool can empty it.
            response.headers.get(`x-ms-ratelimit-remaining-subscription-global-${budget.limits.kind}`)
          ]
            .filter((h): h is string => !!h)
            .map(Number)
            .filter(Number.isFinite);
          if (counts.length) remaining = Math.min(...counts);
          // Refused with no Compute policy named: Resource Manager's own bucket is empty.
          else if (response.status === 429 && !response.headers.get('x-ms-ratelimit-remaining-resource'))
            remaining = 0;
          return response;
        } finally {
          budget.settle(subscriptionId, ticket, remaining);
        }
      }
    }
  };
}
