/** Resource Graph paging, quota pacing and throttling, with the real ResourceGraphClient over nock. */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import {
  buildUniformQuery,
  buildVmQuery,
  DiscoveryError,
  lookupVms,
  PAGE_SIZE,
  queryVms,
  SUBSCRIPTIONS_PER_REQUEST,
  type DiscoveryStats
} from '../../src/discover/discovery.js';
import { kqlString } from '../../src/azure/kql.js';
import { buildCurrentAnnotationsQuery } from '../../src/discover/current-annotations.js';
import { buildHistoryQuery } from '../../src/discover/annotation-history.js';
import { buildSpotQuery } from '../../src/discover/spot-market.js';
import { compileQuery } from '../emulator/azure/kql.js';
import type { Clock } from '../../src/azure/retry.js';
import { ARM, SUB, staticCredential, vmPath, expectEveryAnswerUsed } from '../helpers/arm-nock.js';

const ARG_PATH = '/providers/Microsoft.ResourceGraph/resources';

function graph() {
  return new ResourceGraphClient(staticCredential, {
    endpoint: ARM,
    retryOptions: { maxRetries: 3, retryDelayInMs: 1, maxRetryDelayInMs: 5 }
  });
}

/** A clock whose sleeps pass at once, moving its time on. */
function clock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  let now = 0;
  return { slept, now: () => now, sleep: async ms => void (slept.push(ms), (now += ms)) };
}

const stats = (): DiscoveryStats => ({ requests: 0, pages: 0, quotaWaits: 0, warnings: [] });
const page = (rows: unknown[], totalRecords = rows.length, more = false) => ({
  totalRecords,
  count: rows.length,
  resultTruncated: 'false',
  ...(more ? { $skipToken: 'next' } : {}),
  data: rows
});
/** The hash partition a query asks for: [index, of], or undefined for the whole result. */
const partitionOf = (query: string) => {
  const m = /hash\(tolower\(id\), (\d+)\) == (\d+)/.exec(query);
  return m ? [Number(m[2]), Number(m[1])] : undefined;
};

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

afterEach(expectEveryAnswerUsed);

describe('queryRows: paging by hash partitions (Microsoft Learn, "Guidance for pagination")', () => {
  /** One interceptor per partition (or the first, unpartitioned request): they may be read at once. */
  function answer(queries: string[], replies: Map<string, ReturnType<typeof page>>) {
    const scope = nock(ARM);
    for (const [key, reply] of replies)
      scope
        .post(ARG_PATH, body => {
          const hit = String(partitionOf(body.query) ?? 'all') === key;
          if (hit) queries.push(body.query);
          return hit;
        })
        .query({ 'api-version': '2024-04-01' })
        .reply(200, reply);
  }

  test('a result of one page is one request; a longer one is read as hash partitions of tolower(id), one page each', async () => {
    const queries: string[] = [];
    const all = Array.from({ length: 2500 }, (_, i) => row(i));
    const part = (k: number) => page(all.filter((_, i) => i % 3 === k));
    // The first answer counts 2500 rows and offers a $skipToken, which is not followed.
    answer(
      queries,
      new Map([
        ['all', page(all.slice(0, 1000), 2500, true)],
        ['0,3', part(0)],
        ['1,3', part(1)],
        ['2,3', part(2)]
      ])
    );
    const s = stats();
    const query = buildVmQuery({ candidatesOnly: true, withAnnotations: true });
    const vms = await queryVms(
      graph(),
      p => buildVmQuery({ candidatesOnly: true, withAnnotations: true }, p),
      [SUB],
      clock(),
      s
    );
    expect(vms).toHaveLength(2500);
    expect(new Set(vms.map(v => v.id)).size).toBe(2500);
    // ceil(2500 / 900) = 3 partitions, filtered right after the type so the joins see only their rows.
    expect(queries.map(partitionOf)).toEqual([undefined, [0, 3], [1, 3], [2, 3]]);
    expect(queries[1]).toContain(
      "resources\n| where type =~ 'microsoft.compute/virtualmachines'\n| where hash(tolower(id), 3) == 0\n"
    );
    expect(queries[0]).toBe(query);
    expect(s).toMatchObject({ requests: 4, pages: 4, quotaWaits: 0 });
  });

  test('VMs deleted between the count and the partitions are no error; a partition that outgrew a page is split in two', async () => {
    const queries: string[] = [];
    answer(
      queries,
      new Map([
        ['all', page([row(1)], 1600, true)],
        ['0,2', page([row(2)], 1001, true)], // grew past a page since the count
        ['1,2', page([])], // its rows were deleted since the count
        ['0,4', page([row(10)])],
        ['2,4', page([row(12)])]
      ])
    );
    const vms = await queryVms(graph(), 'resources | project id', [SUB], clock());
    expect(queries.map(partitionOf)).toEqual([undefined, [0, 2], [1, 2], [0, 4], [2, 4]]);
    expect(vms.map(v => v.name).sort()).toEqual(['vm00010', 'vm00012']);
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

  test('no subscriptions means ARG decides: the field is left out', async () => {
    let sent: Record<string, unknown> = {};
    nock(ARM)
      .post(ARG_PATH, body => ((sent = body), true))
      .query(true)
      .reply(200, page([]));
    await queryVms(graph(), 'resources | project id', [], clock());
    expect(sent).not.toHaveProperty('subscriptions');
    expect((sent.options as Record<string, unknown>).$top).toBe(PAGE_SIZE);
  });

  test(`subscriptions go in groups of ${SUBSCRIPTIONS_PER_REQUEST}, under the 300 "Guidance for throttled requests" recommends`, async () => {
    const subs = Array.from(
      { length: 450 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
    );
    const sizes: number[] = [];
    nock(ARM)
      .post(ARG_PATH, body => (sizes.push(body.subscriptions.length), true))
      .query(true)
      .times(3)
      .reply(200, page([]));
    await queryVms(graph(), 'resources | project id', subs, clock());
    expect(sizes).toEqual([200, 200, 50]);
  });
});

describe("Resource Graph's quota is the run's, not the query's", () => {
  test('once an answer says x-ms-user-quota-remaining: 0, no query of the run goes out before the reset', async () => {
    const sentAt: number[] = [];
    const c = clock();
    nock(ARM)
      .post(ARG_PATH, () => (sentAt.push(c.now()), true))
      .query(true)
      .reply(200, page([row(1)]), {
        'x-ms-user-quota-remaining': '0',
        'x-ms-user-quota-resets-after': '00:00:03.5'
      })
      .post(ARG_PATH, () => (sentAt.push(c.now()), true))
      .query(true)
      .reply(200, page([row(2)]), {
        'x-ms-user-quota-remaining': '14',
        'x-ms-user-quota-resets-after': '00:00:05'
      });
    const client = graph();
    const s = stats();
    await queryVms(client, 'resources | project id', [SUB], c, s);
    // Another query (prices, annotations, …) through the same client waits for the reset.
    await queryVms(client, 'spotresources | project id', [SUB], c, s);
    expect(c.slept).toEqual([3500]);
    expect(sentAt).toEqual([0, 3500]);
    expect(s.quotaWaits).toBe(1);
  });

  test('queries on their way count against what is left: two at once with one left, the second waits', async () => {
    const c = clock();
    nock(ARM)
      .post(ARG_PATH)
      .query(true)
      .reply(200, page([]), { 'x-ms-user-quota-remaining': '1', 'x-ms-user-quota-resets-after': '00:00:02' })
      .post(ARG_PATH)
      .query(true)
      .times(2)
      .reply(200, page([]), { 'x-ms-user-quota-remaining': '0', 'x-ms-user-quota-resets-after': '00:00:02' });
    const client = graph();
    await queryVms(client, 'resources | project id', [SUB], c);
    await Promise.all([
      queryVms(client, 'resources | project id', [SUB], c),
      queryVms(client, 'resources | project id', [SUB], c)
    ]);
    expect(c.slept).toEqual([2000]);
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
      .reply(200, page([row(1)]));
    const s = stats();
    expect(await queryVms(graph(), 'q', [SUB], clock(), s)).toHaveLength(1);
    expect(s.requests).toBe(2);
  });
});

describe('what Resource Graph refuses or leaves out is said, and the rest goes on', () => {
  const refusal = {
    error: {
      code: 'BadRequest',
      message:
        'Please provide below info when asking for support: timestamp = 2026-12-06T01:00:00Z, correlationId = 5d0c8a52-0000-4000-8000-000000000000.',
      details: [
        {
          code: 'InvalidQuery',
          message:
            'Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.'
        },
        { code: 'DisallowedMaxNumberOfRemoteTables', message: 'The query joins 2 other tables.' }
      ]
    }
  };

  test("a 400 is not retried, and its error names details[]' codes and messages, not only the support line", async () => {
    nock(ARM).post(ARG_PATH).query(true).reply(400, refusal);
    const error = (await queryVms(graph(), 'q', [SUB], clock()).catch(e => e)) as Error;
    expect(error.message).toContain('InvalidQuery: Query is invalid.');
    expect(error.message).toContain('DisallowedMaxNumberOfRemoteTables: The query joins 2 other tables.');
    expect(error.message).toContain('correlationId = 5d0c8a52');
  });

  test("one table's refused query is a warning: the other table's VMs are still found", async () => {
    nock(ARM)
      .post(ARG_PATH, body => body.query.startsWith('resources'))
      .query(true)
      .reply(200, page([row(1)]))
      .post(ARG_PATH, body => body.query.startsWith('computeresources'))
      .query(true)
      .reply(400, refusal);
    const s = stats();
    const vms = await lookupVms(graph(), { candidatesOnly: true, withAnnotations: true }, [SUB], clock(), s);
    expect(vms.map(v => v.name)).toEqual(['vm00001']);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings![0]).toContain('Uniform scale-set instances (table computeresources)');
    expect(s.warnings![0]).toContain('DisallowedMaxNumberOfRemoteTables');
  });

  test('when every table is refused, the lookup fails', async () => {
    nock(ARM).post(ARG_PATH).query(true).times(2).reply(400, refusal);
    await expect(
      lookupVms(graph(), { candidatesOnly: true, withAnnotations: true }, [SUB], clock(), stats())
    ).rejects.toThrow('DisallowedMaxNumberOfRemoteTables');
  });

  test('x-ms-tenant-subscription-limit-hit: true at tenant scope is a warning, said once', async () => {
    nock(ARM)
      .post(ARG_PATH)
      .query(true)
      .times(2)
      .reply(200, page([row(1)]), { 'x-ms-tenant-subscription-limit-hit': 'true' });
    const s = stats();
    await queryVms(graph(), 'resources | project id', [], clock(), s);
    await queryVms(graph(), 'resources | project id', [], clock(), s);
    expect(s.warnings).toEqual([expect.stringContaining('first 10000 subscriptions')]);
  });
});

describe('the queries', () => {
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

  test('the Uniform query joins no third table, and lower-cases IDs before splitting them', () => {
    const q = buildUniformQuery({ candidatesOnly: true, withAnnotations: true });
    expect(q).not.toContain('healthresources');
    // The scale sets, and their autoscale settings (resources with itself).
    expect(q.match(/\bjoin\b/g)).toHaveLength(2);
    expect(q).toContain("split(tolower(id), '/virtualmachines/')");
  });

  test('every query the action sends is within the join limit the emulated Resource Graph enforces', () => {
    const filters = [
      { candidatesOnly: true, withAnnotations: true },
      { candidatesOnly: false, ids: [vmPath('a')], withAnnotations: true },
      { candidatesOnly: true, withAnnotations: false }
    ];
    const queries = [
      ...filters.flatMap(f => [buildVmQuery(f), buildUniformQuery(f), buildVmQuery(f, { of: 4, index: 1 })]),
      buildCurrentAnnotationsQuery([vmPath('a')]),
      buildHistoryQuery([vmPath('a')]),
      buildSpotQuery([{ location: 'eastus', size: 'Standard_D2s_v5' }])
    ];
    for (const q of queries) expect(() => compileQuery(q)).not.toThrow();
  });
});
