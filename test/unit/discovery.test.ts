/** Resource Graph paging, quota pacing and throttling, with the real ResourceGraphClient over nock. */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import {
  buildVmQuery,
  DiscoveryError,
  PAGE_SIZE,
  queryVms,
  type DiscoveryStats
} from '../../src/discover/discovery.js';
import { kqlString } from '../../src/azure/kql.js';
import type { Clock } from '../../src/azure/retry.js';
import { ARM, SUB, staticCredential, vmPath } from '../helpers/arm-nock.js';

const ARG_PATH = '/providers/Microsoft.ResourceGraph/resources';

function graph() {
  return new ResourceGraphClient(staticCredential, {
    endpoint: ARM,
    retryOptions: { maxRetries: 3, retryDelayInMs: 1, maxRetryDelayInMs: 5 }
  });
}

function clock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => 0, sleep: async ms => void slept.push(ms) };
}

const row = (i: number) => ({
  id: vmPath(`vm${String(i).padStart(5, '0')}`),
  name: `vm${String(i).padStart(5, '0')}`,
  resourceGroup: 'rg-spot',
  subscriptionId: SUB,
  location: 'eastus',
  tags: { AttemptRestartAfterEviction: 'true' },
  vmSize: 'Standard_D2s_v5',
  priority: 'Spot',
  evictionPolicy: 'Deallocate',
  powerState: 'PowerState/deallocated',
  maxPrice: -1,
  annotationName: i % 2 ? 'VirtualMachinePreempted' : '',
  annotationAt: ''
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('queryVms', () => {
  test('pages over 2500 rows with $skipToken, 1000 at a time, many subscriptions per request', async () => {
    const bodies: Record<string, unknown>[] = [];
    const pages = [
      { from: 0, to: 1000, token: 'page-2' },
      { from: 1000, to: 2000, token: 'page-3' },
      { from: 2000, to: 2500, token: undefined }
    ];
    const scope = nock(ARM);
    for (const p of pages) {
      scope
        .post(ARG_PATH, body => (bodies.push(body), true))
        .query({ 'api-version': '2024-04-01' })
        .reply(
          200,
          {
            totalRecords: 2500,
            count: p.to - p.from,
            resultTruncated: 'false',
            ...(p.token ? { $skipToken: p.token } : {}),
            data: Array.from({ length: p.to - p.from }, (_, i) => row(p.from + i))
          },
          { 'x-ms-user-quota-remaining': '14', 'x-ms-user-quota-resets-after': '00:00:05' }
        );
    }
    const stats: DiscoveryStats = { requests: 0, pages: 0, quotaWaits: 0 };
    const c = clock();
    const query = buildVmQuery({ candidatesOnly: true, withAnnotations: true });
    const vms = await queryVms(graph(), query, [SUB, '22222222-2222-3333-4444-555555555555'], c, stats);
    expect(vms).toHaveLength(2500);
    expect(new Set(vms.map(v => v.id)).size).toBe(2500);
    expect(vms[2499]).toMatchObject({
      name: 'vm02499',
      powerState: 'PowerState/deallocated',
      tags: { AttemptRestartAfterEviction: 'true' }
    });
    expect(bodies.map(b => (b.options as Record<string, unknown>).$skipToken)).toEqual([
      undefined,
      'page-2',
      'page-3'
    ]);
    expect(bodies.every(b => (b.options as Record<string, unknown>).$top === PAGE_SIZE)).toBe(true);
    expect(bodies[0]!.subscriptions).toEqual([SUB, '22222222-2222-3333-4444-555555555555']);
    expect(bodies[0]!.query).toContain('| order by id asc');
    expect(stats).toEqual({ requests: 3, pages: 3, quotaWaits: 0 });
    expect(c.slept).toEqual([]);
  });

  test('no subscriptions means ARG decides: the field is left out', async () => {
    let sent: Record<string, unknown> = {};
    nock(ARM)
      .post(ARG_PATH, body => ((sent = body), true))
      .query(true)
      .reply(200, { totalRecords: 0, count: 0, resultTruncated: 'false', data: [] });
    await queryVms(graph(), 'resources | project id', [], clock());
    expect(sent).not.toHaveProperty('subscriptions');
  });

  test('waits for the quota to refill when x-ms-user-quota-remaining reaches 0', async () => {
    nock(ARM)
      .post(ARG_PATH)
      .query(true)
      .reply(
        200,
        { totalRecords: 2, count: 1, resultTruncated: 'false', $skipToken: 't', data: [row(1)] },
        {
          'x-ms-user-quota-remaining': '0',
          'x-ms-user-quota-resets-after': '00:00:03.5'
        }
      )
      .post(ARG_PATH)
      .query(true)
      .reply(200, { totalRecords: 2, count: 1, resultTruncated: 'false', data: [row(2)] });
    const stats: DiscoveryStats = { requests: 0, pages: 0, quotaWaits: 0 };
    const c = clock();
    expect(await queryVms(graph(), 'q', [SUB], c, stats)).toHaveLength(2);
    expect(c.slept).toEqual([3500]);
    expect(stats.quotaWaits).toBe(1);
  });

  test('429 with Retry-After, beyond the pipeline retries, then success', async () => {
    const throttled = {
      error: {
        code: 'RateLimiting',
        message:
          'Please provide below info when asking for support: timestamp = 2026-11-21T12:00:00Z, correlationId = 00000000-0000-0000-0000-000000000000.'
      }
    };
    nock(ARM)
      .post(ARG_PATH)
      .query(true)
      .times(4)
      .reply(429, throttled, { 'Retry-After': '0' })
      .post(ARG_PATH)
      .query(true)
      .reply(200, { totalRecords: 1, count: 1, resultTruncated: 'false', data: [row(1)] });
    const stats: DiscoveryStats = { requests: 0, pages: 0, quotaWaits: 0 };
    expect(await queryVms(graph(), 'q', [SUB], clock(), stats)).toHaveLength(1);
    expect(stats.requests).toBe(2);
  });

  test('a 400 from Resource Graph is not retried', async () => {
    nock(ARM)
      .post(ARG_PATH)
      .query(true)
      .reply(400, {
        error: {
          code: 'BadRequest',
          message: 'Please provide below info when asking for support',
          details: [{ code: 'InvalidQuery', message: 'Query is invalid.' }]
        }
      });
    await expect(queryVms(graph(), 'q', [SUB], clock())).rejects.toThrow();
  });
});

describe('buildVmQuery', () => {
  test('every value is a string literal; quotes and backslashes are escaped', () => {
    const q = buildVmQuery({
      candidatesOnly: false,
      names: [{ resourceGroup: "rg'x", name: 'a\\b' }],
      withAnnotations: false
    });
    expect(q).toContain("resourceGroup =~ 'rg\\'x' and name =~ 'a\\\\b'");
    expect(() => kqlString('a\nb')).toThrow('control characters');
  });
  test('the sweep filters only on what an eviction does not change, and joins the annotation', () => {
    const q = buildVmQuery({ candidatesOnly: true, resourceGroups: ['rg-a', 'rg-b'], withAnnotations: true });
    expect(q).toContain("tostring(properties.priority) =~ 'Spot'");
    expect(q).toContain("tostring(properties.evictionPolicy) =~ 'Deallocate'");
    expect(q).not.toContain("'PowerState/deallocated'"); // the power state moves while pages are read
    expect(q).toContain('annotationContext = tostring(properties.context)');
    expect(q).toContain("resourceGroup in~ ('rg-a', 'rg-b')");
    expect(q).toContain('join kind=leftouter');
    expect(q).toContain("'microsoft.resourcehealth/resourceannotations'");
  });

  test('a truncated result is an error that says so, never a silent first page', async () => {
    nock(ARM)
      .post(ARG_PATH)
      .query(true)
      .reply(200, { totalRecords: 1500, count: 1000, resultTruncated: 'true', data: [row(1)] });
    await expect(queryVms(graph(), 'resources | project name', [SUB], clock())).rejects.toThrow(
      DiscoveryError
    );
  });

  test('fewer rows than totalRecords and no $skipToken for the rest is an error', async () => {
    nock(ARM)
      .post(ARG_PATH)
      .query(true)
      .reply(200, { totalRecords: 3, count: 2, resultTruncated: 'false', data: [row(1), row(2)] });
    await expect(queryVms(graph(), 'resources | project id', [SUB], clock())).rejects.toThrow(
      'said the result has 3 rows but returned 2'
    );
  });

  test('a row repeated by a page boundary moving under a changing result is kept once', async () => {
    const scope = nock(ARM);
    scope
      .post(ARG_PATH, body => !body.options?.$skipToken)
      .query(true)
      .reply(200, {
        totalRecords: 3,
        count: 2,
        resultTruncated: 'false',
        data: [row(1), row(2)],
        $skipToken: 'next'
      });
    scope
      .post(ARG_PATH, body => body.options?.$skipToken === 'next')
      .query(true)
      .reply(200, { totalRecords: 3, count: 2, resultTruncated: 'false', data: [row(2), row(3)] });
    const vms = await queryVms(graph(), 'resources | project id', [SUB], clock());
    expect(vms.map(v => v.name)).toEqual(['vm00001', 'vm00002', 'vm00003']);
  });

  test('more than 1000 subscriptions are asked in batches of at most 1000', async () => {
    const subs = Array.from(
      { length: 2300 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
    );
    const sizes: number[] = [];
    nock(ARM)
      .post(ARG_PATH, body => (sizes.push(body.subscriptions.length), true))
      .query(true)
      .times(3)
      .reply(200, { totalRecords: 0, count: 0, resultTruncated: 'false', data: [] });
    await queryVms(graph(), 'resources | project id', subs, clock());
    expect(sizes).toEqual([1000, 1000, 300]);
  });
});
