/**
 * What the emulator remembers between requests to stay cheap — verified tokens, compiled queries,
 * compiled role patterns — never makes it kinder than Azure: times are checked on every request,
 * every Resource Graph page is evaluated over the model as it is then, and roles are asked anew.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { SignJWT } from 'jose';
import { httpsCall, RESOURCE_GRAPH, signIn } from '../conformance/https-call.js';
import { emulator } from '../e2e/harness.js';
import { DEFAULT_APP } from '../emulator/fleets/fleet.js';
import { runQuery, QueryError } from '../emulator/azure/kql.js';
import { allows, shippedRoleActions } from '../emulator/azure/rbac.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { makeKey, sign, verify } from '../emulator/tokens.js';

describe('verified tokens', () => {
  // Only Date is faked: jose and the cache read the time from it; crypto runs for real.
  const realTimers = [
    'hrtime',
    'nextTick',
    'performance',
    'queueMicrotask',
    'setImmediate',
    'clearImmediate',
    'setInterval',
    'clearInterval',
    'setTimeout',
    'clearTimeout'
  ] as const;
  afterEach(() => {
    jest.useRealTimers();
  });

  test('a token accepted once is refused as expired when its time is up (2 s of skew allowed)', async () => {
    jest.useFakeTimers({ doNotFake: [...realTimers], now: Date.parse('2026-11-22T10:00:00Z') });
    const key = await makeKey();
    const token = await sign(key, { appid: 'app' }, 60);
    expect(await verify(key, token)).toMatchObject({ ok: true, claims: { appid: 'app' } });
    expect(await verify(key, token)).toMatchObject({ ok: true });
    jest.setSystemTime(Date.parse('2026-11-22T10:01:01Z'));
    expect(await verify(key, token)).toMatchObject({ ok: true });
    jest.setSystemTime(Date.parse('2026-11-22T10:01:02Z'));
    expect(await verify(key, token)).toMatchObject({ ok: false, reason: 'expired' });
    // Going back does not bring it back from the cache as valid: it is checked again from scratch.
    jest.setSystemTime(Date.parse('2026-11-22T10:03:00Z'));
    expect(await verify(key, token)).toMatchObject({ ok: false, reason: 'expired' });
  });

  test('a token not yet valid is refused on every request until its not-before', async () => {
    jest.useFakeTimers({ doNotFake: [...realTimers], now: Date.parse('2026-11-22T10:00:00Z') });
    const key = await makeKey();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ appid: 'app' })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setNotBefore(now + 60)
      .setExpirationTime(now + 600)
      .sign(key.privateKey);
    expect(await verify(key, token)).toMatchObject({ ok: false, reason: 'invalid' });
    jest.setSystemTime(Date.parse('2026-11-22T10:01:00Z'));
    expect(await verify(key, token)).toMatchObject({ ok: true });
  });

  test('what was verified is the whole string: another signature or another key is checked again', async () => {
    const key = await makeKey();
    const other = await makeKey();
    const token = await sign(key, { appid: 'app' }, 600);
    expect(await verify(key, token)).toMatchObject({ ok: true });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${payload}.${signature.slice(0, -4)}${signature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(await verify(key, forged)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await verify(other, token)).toMatchObject({ ok: false, reason: 'invalid' });
  });
});

describe('role patterns', () => {
  test('a role whose actions change is judged by its actions of the moment', () => {
    const actions = ['Microsoft.Compute/virtualMachines/read'];
    expect(allows(actions, 'microsoft.compute/VIRTUALMACHINES/read')).toBe(true);
    expect(allows(actions, 'Microsoft.Compute/virtualMachines/start/action')).toBe(false);
    actions.push('Microsoft.Compute/virtualMachines/*');
    expect(allows(actions, 'Microsoft.Compute/virtualMachines/start/action')).toBe(true);
    actions.splice(0, actions.length, 'Microsoft.Network/*');
    expect(allows(actions, 'Microsoft.Compute/virtualMachines/read')).toBe(false);
  });
});

describe('compiled queries', () => {
  const query = "resources | where tags['team'] == 'a' | project id | order by id asc";

  test('the same query text over changed tables gives the changed rows', () => {
    const rows = (ids: string[], team: string) => ids.map(id => ({ id, tags: { team } }));
    expect(runQuery(query, { resources: rows(['1', '2'], 'a') }).rows).toEqual([{ id: '1' }, { id: '2' }]);
    expect(runQuery(query, { resources: rows(['3'], 'a') }).rows).toEqual([{ id: '3' }]);
    expect(runQuery(query, { resources: rows(['1'], 'b') }).rows).toEqual([]);
  });

  test('a table missing from one call is refused in that call, whatever an earlier call had', () => {
    expect(runQuery(query, { resources: [] }).rows).toEqual([]);
    expect(() => runQuery(query, {})).toThrow(
      new QueryError('InvalidQuery', "Table 'resources' could not be found")
    );
  });

  test('a refused query stays refused, and an unsupported step is refused only where it is reached', () => {
    for (let i = 0; i < 2; i++)
      expect(() => runQuery('resources | summarize count()', { resources: [] })).toThrow(
        'Unsupported operator: summarize'
      );
    const unsupported = 'resources | where nosuchfunction(name) == 1';
    expect(runQuery(unsupported, { resources: [] }).rows).toEqual([]);
    expect(() => runQuery(unsupported, { resources: [{ name: 'x' }] })).toThrow(
      'Unsupported function: nosuchfunction()'
    );
  });
});

describe('evaluation shortcuts', () => {
  test('a second sort key is evaluated only where the first ties, as before', () => {
    const rows = [{ a: 'y' }, { a: 'x' }, { a: 'z' }];
    expect(runQuery('t | order by a asc, b asc', { t: rows }).rows).toEqual([
      { a: 'x' },
      { a: 'y' },
      { a: 'z' }
    ]);
    expect(() => runQuery('t | order by a asc, b asc', { t: [...rows, { a: 'x' }] })).toThrow(
      "Failed to resolve scalar expression named 'b'"
    );
  });

  test('join keys match by value and type: 1 is not "1", null matches a missing key', () => {
    const left = [{ k: 1 }, { k: '1' }, { k: null }, { k: 'null' }];
    const right = [
      { k: '1', r: 'string one' },
      { r: 'no key', k: undefined }
    ];
    const rows = runQuery('l | join kind=leftouter (r) on k', { l: left, r: right }).rows;
    expect(rows.map(row => row.r)).toEqual([null, 'string one', 'no key', null]);
  });
});

describe('Resource Graph pages over a moving model', () => {
  const [SUB] = subscriptionIds(1) as [string];
  const SECRET = 'cache-secret';
  /** An app whose role is assigned on resource group rg-b only. */
  const GROUP_APP = '0b1c2d3e-0000-4000-8000-0000000000c2';
  let emu: Emulator;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    emu = await emulator(
      {
        subscriptions: [SUB],
        apps: [
          { clientId: DEFAULT_APP, secret: SECRET, actions: shippedRoleActions() },
          { clientId: GROUP_APP, secret: SECRET, scopes: [`/subscriptions/${SUB}/resourceGroups/rg-b`] }
        ],
        vms: ['vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-5'].map((name, i) => ({
          subscriptionId: SUB,
          resourceGroup: i % 2 ? 'rg-b' : 'rg-a',
          name,
          tags: TAG,
          powerState: 'deallocated' as const
        }))
      },
      { runDispatchedWorkflows: false }
    );
    for (const app of [DEFAULT_APP, GROUP_APP]) tokens[app] = await signIn(emu, app, SECRET);
  });
  afterAll(() => emu.stop());

  const tagName = Object.keys(TAG)[0]!;
  const QUERY = [
    'resources',
    "| where type =~ 'microsoft.compute/virtualmachines'",
    `| where tostring(tags['${tagName}']) =~ '${TAG[tagName as keyof typeof TAG]}'`,
    '| project id, name, resourceGroup',
    '| order by id asc'
  ].join('\n');

  const page = async (app: string, skipToken?: string) => {
    const answer = await httpsCall(emu, 'POST', RESOURCE_GRAPH, {
      auth: tokens[app],
      body: { query: QUERY, options: { $top: 2, ...(skipToken ? { $skipToken: skipToken } : {}) } }
    });
    expect(answer.status).toBe(200);
    return answer.body as { data: { name: string }[]; $skipToken?: string; totalRecords: number };
  };

  test('each page is evaluated over the model of its moment: rows shift as ARG documents', async () => {
    const first = await page(DEFAULT_APP);
    // Ordered by id: rg-a's vm-1, vm-3, vm-5, then rg-b's vm-2, vm-4.
    expect(first.data.map(r => r.name)).toEqual(['vm-1', 'vm-3']);
    // vm-1 leaves the result between the pages: the next page starts one row further on, and vm-5
    // is skipped ("Paging results" in Microsoft Learn's Resource Graph guide warns of exactly this).
    emu.model.update(emu.vm('vm-1'), { tags: {} });
    const second = await page(DEFAULT_APP, first.$skipToken);
    expect(second.totalRecords).toBe(4);
    expect(second.data.map(r => r.name)).toEqual(['vm-2', 'vm-4']);
    emu.model.update(emu.vm('vm-1'), { tags: { ...TAG } });
  });

  test('a role on one resource group shows its VMs only; a role on the subscription shows all', async () => {
    const names = async (app: string) => {
      const out: string[] = [];
      let skipToken: string | undefined;
      do {
        const p = await page(app, skipToken);
        out.push(...p.data.map(r => r.name));
        skipToken = p.$skipToken;
      } while (skipToken);
      return out;
    };
    expect(await names(GROUP_APP)).toEqual(['vm-2', 'vm-4']);
    expect(await names(DEFAULT_APP)).toEqual(['vm-1', 'vm-3', 'vm-5', 'vm-2', 'vm-4']);
  });
});
