/**
 * The emulated Resource Graph keeps the limits Microsoft documents, each cited where it is checked:
 * - "Understanding the Azure Resource Graph query language" (learn.microsoft.com/azure/governance/
 *   resource-graph/concepts/query-language): "Limit of 3 `join` in a single query, 1 of which may be
 *   a cross-table `join`. If all cross-table `join` use is between _Resource_ and
 *   _ResourceContainers_, then 3 cross-table `join` are allowed."
 * - "Guidance for pagination" (…/concepts/paging-results): a deletion between page requests
 *   shifts every later row ("vm-101 is now at position 100, so when you skip 100 records, vm-101
 *   isn't included"); "Option 1: Hash-based data partitioning", `hash(tolower(id)) % N`, with
 *   "No duplicates or missed records: Each resource ID hashes to exactly one partition."
 * - Kusto "hash()": with `mod`, "The output will be a value between 0 and mod - 1, inclusive."
 * - "Guidance for throttled requests in Azure Resource Graph" (…/concepts/guidance-for-throttled-requests):
 *   "a user can send at most 15 queries within every 5-second window", `x-ms-user-quota-remaining`,
 *   `x-ms-user-quota-resets-after`; above 10 000 subscriptions at tenant scope "the response is
 *   limited to the first 10,000 subscriptions and the `x-ms-tenant-subscription-limit-hit` header
 *   is returned as `true`".
 *
 * What is published of a refused query is its shape (quoted in Microsoft's issues, e.g.
 * MicrosoftDocs/azure-docs#45495): 400, `error.code` BadRequest, a "Please provide below info when
 * asking for support" message, `details[]` with `InvalidQuery` and then the specific code. The
 * specific codes and messages of the join limit are not published: `DisallowedMaxNumberOfRemoteTables`
 * is the code users report, `DisallowedMaxNumberOfJoins` is the emulator's own.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DEFAULT_APP } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { emulator } from '../e2e/harness.js';
import { argErrorResponse, argQueryResponse } from './azure-schemas.js';
import { conforms } from './conforms.js';
import { httpsCall, RESOURCE_GRAPH, signIn, type Answer } from './https-call.js';

const SUBS = subscriptionIds(3);
const [SUB] = SUBS as [string];
const SECRET = 'graph-conformance-secret';

let emu: Emulator;
let token = '';

const query = (body: Record<string, unknown>): Promise<Answer> =>
  httpsCall(emu, 'POST', RESOURCE_GRAPH, { auth: token, body: { subscriptions: [SUB], ...body } });

const ids = (answer: Answer) => (answer.body as { data: { id: string }[] }).data.map(r => r.id);

beforeAll(async () => {
  emu = await emulator(
    {
      subscriptions: SUBS,
      // The documented limit is 10 000 subscriptions; two show the same cut with three.
      tenantSubscriptionLimit: 2,
      apps: [{ clientId: DEFAULT_APP, secret: SECRET }],
      vms: Array.from({ length: 30 }, (_, i) => ({
        subscriptionId: SUB,
        resourceGroup: 'rg-page',
        name: `vm-${String(i).padStart(3, '0')}`,
        tags: TAG
      })),
      scaleSets: [
        {
          subscriptionId: SUB,
          resourceGroup: 'rg-page',
          name: 'render',
          orchestration: 'Uniform',
          tags: TAG,
          lowerCaseInstanceIds: true,
          instances: 2
        }
      ]
    },
    // Quota windows are counted in emulated time: at scale 1 a window lasts Azure's 5 seconds.
    { throttling: true, timeScale: 1 }
  );
  token = await signIn(emu, DEFAULT_APP, SECRET);
});
afterAll(() => emu.stop());

describe('the join limit ("Understanding the Azure Resource Graph query language")', () => {
  // The Uniform query the action sent before: computeresources ⋈ resources ⋈ healthresources.
  const twoOtherTables = [
    'computeresources',
    "| extend scaleSetKey = tolower(tostring(split(id, '/virtualMachines/')[0]))",
    "| join kind=inner (resources | where type =~ 'microsoft.compute/virtualmachinescalesets' | project scaleSetKey = tolower(id)) on scaleSetKey",
    '| extend vmKey = tolower(id)',
    '| join kind=leftouter (healthresources | extend vmKey = tolower(tostring(properties.targetResourceId)) | project vmKey) on vmKey',
    '| project id'
  ].join('\n');

  test("two cross-table joins (not Resources↔ResourceContainers) are refused: 400 in Resource Graph's error shape", async () => {
    const answer = await query({ query: twoOtherTables });
    expect(answer.status).toBe(400);
    conforms(argErrorResponse, answer.body);
    const error = (answer.body as { error: { code: string; message: string; details: { code: string }[] } })
      .error;
    expect(error.code).toBe('BadRequest');
    expect(error.message).toMatch(
      /^Please provide below info when asking for support: timestamp = .*, correlationId = /
    );
    expect(error.details.map(d => d.code)).toEqual(['InvalidQuery', 'DisallowedMaxNumberOfRemoteTables']);
  });

  test('one cross-table join, and joins of a table with itself, are within the limit', async () => {
    const answer = await query({
      query: [
        "resources | where type =~ 'microsoft.compute/virtualmachines'",
        "| join kind=leftouter (resources | where type =~ 'microsoft.compute/virtualmachinescalesets' | project ssKey = tolower(id), id) on id",
        '| extend vmKey = tolower(id)',
        '| join kind=leftouter (healthresources | extend vmKey = tolower(tostring(properties.targetResourceId)) | project vmKey) on vmKey',
        '| project id'
      ].join('\n')
    });
    expect(answer.status).toBe(200);
  });

  test('more than three joins are refused, even within one table', async () => {
    const self = '| join kind=leftouter (resources | project id) on id';
    const answer = await query({ query: ['resources | project id', self, self, self, self].join('\n') });
    expect(answer.status).toBe(400);
    conforms(argErrorResponse, answer.body);
    expect(JSON.stringify(answer.body)).toContain('DisallowedMaxNumberOfJoins');
  });
});

describe('paging a changing result ("Guidance for pagination")', () => {
  const vms = "resources | where type =~ 'microsoft.compute/virtualmachines' | project id | order by id asc";

  test('a deletion between $skipToken pages shifts every later row: a row present all along is skipped', async () => {
    const first = await query({ query: vms, options: { $top: 10 } });
    const firstIds = ids(first);
    const all = [...firstIds];
    emu.model.scaleIn(emu.vm('vm-000'));
    const second = await query({
      query: vms,
      options: { $top: 10, $skipToken: (first.body as { $skipToken: string }).$skipToken }
    });
    all.push(...ids(second));
    // vm-010 was there before and after, and is on neither page.
    expect(all.some(id => id.endsWith('/vm-010'))).toBe(false);
    expect(ids(second)[0]).toMatch(/\/vm-011$/);
  });

  test('hash(tolower(id), n) partitions: every row in exactly one, each value between 0 and n - 1', async () => {
    const whole = ids(await query({ query: vms }));
    const parts: string[][] = [];
    for (let k = 0; k < 4; k++)
      parts.push(ids(await query({ query: `${vms} | where hash(tolower(id), 4) == ${k}` })));
    expect(parts.flat().sort()).toEqual([...whole].sort());
    expect(parts.every(p => p.length > 0)).toBe(true);
    const values = await query({ query: `${vms} | extend h = hash(tolower(id), 4) | project id, h` });
    expect(
      (values.body as { data: { h: number }[] }).data.every(r => Number.isInteger(r.h) && r.h >= 0 && r.h < 4)
    ).toBe(true);
  });

  test('ComputeResources may give instance IDs in lower case', async () => {
    const answer = await query({
      query:
        "computeresources | where type =~ 'microsoft.compute/virtualmachinescalesets/virtualmachines' | project id"
    });
    conforms(argQueryResponse, answer.body);
    expect(ids(answer)).toEqual([
      expect.stringContaining('/virtualmachinescalesets/render/virtualmachines/0'),
      expect.stringContaining('/virtualmachinescalesets/render/virtualmachines/1')
    ]);
  });
});

describe('scope and quota ("Guidance for throttled requests in Azure Resource Graph")', () => {
  test('at tenant scope past the limit: the first subscriptions only, and x-ms-tenant-subscription-limit-hit: true', async () => {
    const tenant = await httpsCall(emu, 'POST', RESOURCE_GRAPH, {
      auth: token,
      body: { query: 'resources | project id, subscriptionId' }
    });
    expect(tenant.status).toBe(200);
    expect(tenant.headers['x-ms-tenant-subscription-limit-hit']).toBe('true');
    const named = await query({ query: 'resources | project id' });
    expect(named.headers['x-ms-tenant-subscription-limit-hit']).toBeUndefined();
  });

  test('15 queries per 5-second window per user, whatever the query: the 16th is a 429 with the quota headers', async () => {
    // Whatever earlier tests used of this window, the user's queries share one count.
    const statuses: number[] = [];
    let last: Answer | undefined;
    // 31: a window that resets during the loop still fills within it.
    for (let i = 0; i < 31; i++) {
      last = await query({ query: i % 2 ? 'resources | project id' : 'healthresources | project id' });
      statuses.push(last.status);
      if (last.status === 429) break;
    }
    expect(statuses.at(-1)).toBe(429);
    expect(last!.headers['x-ms-user-quota-remaining']).toBe('0');
    expect(last!.headers['x-ms-user-quota-resets-after']).toMatch(/^00:00:0\d/);
    conforms(argErrorResponse, last!.body);
  });
});
