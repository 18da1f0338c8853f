/**
 * The agent in a wave (agent/src/wave.ts, dispatch.ts), over HTTP to a GitHub that nock plays:
 * it holds back when the last minute's dispatches are near GitHub's limit, it reads a secondary
 * limit's 403 for what it is, and it spreads its retries within the notice, never past it.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { sendDispatch } from '../../agent/src/dispatch.js';
import { dispatchDeadline, dispatchInWave, RECENT_DISPATCHES_TO_HOLD_BACK } from '../../agent/src/wave.js';
import { buildPayload } from '../../src/plan/payload.js';

const API = 'https://api.github.test';
const T = Date.parse('2026-11-21T12:00:00Z');
const payload = buildPayload({
  vmResourceId:
    '/subscriptions/00000001-5107-4e5f-9d3a-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1',
  vmId: '6f0b4c4e-2f7a-4c71-9a53-0c8d1e2f3a4b',
  eventId: 'A1B2C3D4-0000-4000-8000-000000000001',
  eventType: 'Preempt',
  detectedAt: '2026-11-21T11:59:50Z'
});

afterEach(() => nock.cleanAll());

function options(overrides: Partial<Parameters<typeof sendDispatch>[0]> = {}) {
  let now = T;
  const slept: number[] = [];
  return {
    slept,
    o: {
      apiUrl: API,
      repository: 'acme/spot-fleet',
      eventType: 'spot-vm-preempted',
      payload,
      credentials: {
        kind: 'environment' as const,
        token: async () => 'ghp_fleet',
        invalidate: () => undefined
      },
      deadline: T + 30_000,
      now: () => now,
      random: () => 0.5,
      sleep: async (ms: number) => void (slept.push(ms), (now += ms)),
      ...overrides
    }
  };
}

const runsCount = (count: number) =>
  nock(API)
    .get('/repos/acme/spot-fleet/actions/runs')
    .query({ event: 'repository_dispatch', created: '>=2026-11-21T11:59:00Z', per_page: '1' })
    .reply(200, { total_count: count, workflow_runs: [] });

describe('holding back in a wave', () => {
  test(`${RECENT_DISPATCHES_TO_HOLD_BACK} dispatches in the last minute: the agent does not send`, async () => {
    runsCount(RECENT_DISPATCHES_TO_HOLD_BACK);
    const post = nock(API).post('/repos/acme/spot-fleet/dispatches').reply(204);
    expect(await dispatchInWave(options().o)).toEqual({
      ok: false,
      heldBack: RECENT_DISPATCHES_TO_HOLD_BACK
    });
    expect(post.isDone()).toBe(false);
  });

  test('fewer: it sends at once', async () => {
    runsCount(RECENT_DISPATCHES_TO_HOLD_BACK - 1);
    nock(API).post('/repos/acme/spot-fleet/dispatches').reply(204);
    expect(await dispatchInWave(options().o)).toEqual({ ok: true, attempts: 1, status: 204 });
  });

  test('a token that may not read runs (Contents: write only) sends as before', async () => {
    nock(API)
      .get('/repos/acme/spot-fleet/actions/runs')
      .query(true)
      .reply(403, { message: 'Resource not accessible by integration' });
    nock(API).post('/repos/acme/spot-fleet/dispatches').reply(204);
    expect(await dispatchInWave(options().o)).toMatchObject({ ok: true });
  });
});

describe('retries within the notice', () => {
  // docs.github.com, "Rate limits for the REST API": past a secondary limit, "you will receive a
  // 403 or 429 response and an error message that indicates that you exceeded a secondary rate
  // limit … Otherwise, wait for at least one minute before retrying."
  test('a secondary limit’s 403 with no retry-after is a rate limit, not a permission problem: a minute is past the notice, so it gives up', async () => {
    nock(API).post('/repos/acme/spot-fleet/dispatches').reply(403, {
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'
    });
    const { o, slept } = options();
    const result = await sendDispatch(o);
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 403, retryable: true });
    expect(result.ok || result.reason).toContain('rate limited (403); gave up at the deadline');
    expect(slept).toEqual([]);
  });

  test('retry-after within the notice: waits it, plus a part of what is left, then sends', async () => {
    nock(API)
      .post('/repos/acme/spot-fleet/dispatches')
      .reply(403, { message: 'You have exceeded a secondary rate limit.' }, { 'retry-after': '8' })
      .post('/repos/acme/spot-fleet/dispatches')
      .reply(204);
    const { o, slept } = options();
    expect(await sendDispatch(o)).toEqual({ ok: true, attempts: 2, status: 204 });
    // 8 s as GitHub asks, and half (random 0.5) of min(8 s, the 22 s left after them).
    expect(slept).toEqual([12_000]);
  });

  test('retry-after past the end of the notice: no wait that would outlast it', async () => {
    nock(API).post('/repos/acme/spot-fleet/dispatches').reply(429, {}, { 'retry-after': '45' });
    const { o, slept } = options();
    expect(await sendDispatch(o)).toMatchObject({ ok: false, attempts: 1, retryable: true });
    expect(slept).toEqual([]);
  });

  test('the deadline is the end of the notice; an event already under way gets one attempt', () => {
    expect(dispatchDeadline(T + 25_000, T)).toBe(T + 25_000);
    expect(dispatchDeadline(T - 5000, T)).toBe(T);
    expect(dispatchDeadline(undefined, T)).toBe(T);
  });
});
