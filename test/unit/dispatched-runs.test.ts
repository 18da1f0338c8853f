/**
 * The wave's reports read back from GitHub: each dispatch run's name carries the VM and when its
 * agent saw the Preempt; the runs are listed with Octokit (@actions/github) over HTTP, paged,
 * cancelled ones included, each once.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { getOctokit } from '@actions/github';
import nock from 'nock';
import { dispatchFeed, parseRunName } from '../../src/discover/dispatched-runs.js';

const API = 'https://api.github.test';
const VM =
  '/subscriptions/00000001-5107-4e5f-9d3a-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1';
const NOW = Date.parse('2026-11-21T12:00:00Z');

afterEach(() => nock.cleanAll());

describe('run names', () => {
  test.each([
    [`${VM} 2026-11-21T11:59:30.120Z`, { vmResourceId: VM, detectedAt: '2026-11-21T11:59:30.120Z' }],
    [`  ${VM}   2026-11-21T11:59:30Z `, { vmResourceId: VM, detectedAt: '2026-11-21T11:59:30Z' }],
    ['Restart Spot VM on eviction', undefined], // a schedule run: its workflow's name
    [VM, undefined], // no detectedAt
    [`${VM} yesterday`, undefined],
    [
      `/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/x 2026-11-21T11:59:30Z`,
      undefined
    ],
    [`${VM} 2026-11-21T11:59:30Z extra`, undefined],
    [null, undefined]
  ])('%p', (name, expected) => expect(parseRunName(name)).toEqual(expected));
});

function run(id: number, title: string, conclusion: string | null = null) {
  return {
    id,
    display_title: title,
    conclusion,
    status: conclusion ? 'completed' : 'queued',
    created_at: new Date(NOW - 60_000 + id * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
  };
}

function feed(windowMs = 30 * 60_000, warnings: string[] = []) {
  return dispatchFeed({
    token: 'ghs_job',
    repository: 'acme/spot-fleet',
    windowMs,
    now: () => NOW,
    octokit: () => getOctokit('ghs_job', { baseUrl: API }),
    warn: w => warnings.push(w)
  });
}

describe('the dispatch feed', () => {
  test('lists repository_dispatch runs created within the window, every page, cancelled ones too', async () => {
    const listed = nock(API)
      .get('/repos/acme/spot-fleet/actions/runs')
      .query({ event: 'repository_dispatch', created: '>=2026-11-21T11:30:00Z', per_page: '100' })
      .matchHeader('authorization', 'token ghs_job')
      .reply(
        200,
        {
          total_count: 3,
          workflow_runs: [
            run(3, `${VM.replace('vm-1', 'vm-3')} 2026-11-21T11:59:33Z`, 'cancelled'),
            run(2, 'Restart Spot VM on eviction')
          ]
        },
        { link: `<${API}/repositories/1/actions/runs?page=2>; rel="next"` }
      )
      .get('/repositories/1/actions/runs')
      .query({ page: '2' })
      .reply(200, { total_count: 3, workflow_runs: [run(1, `${VM} 2026-11-21T11:59:31Z`)] });
    const reports = await feed().poll();
    expect(listed.isDone()).toBe(true);
    expect(reports).toEqual([
      { vmResourceId: VM, detectedAt: '2026-11-21T11:59:31Z', runId: 1, conclusion: null },
      {
        vmResourceId: VM.replace('vm-1', 'vm-3'),
        detectedAt: '2026-11-21T11:59:33Z',
        runId: 3,
        conclusion: 'cancelled'
      }
    ]);
  });

  test('a later poll asks only from a minute before the newest run seen, and returns only runs not seen', async () => {
    const f = feed();
    nock(API)
      .get('/repos/acme/spot-fleet/actions/runs')
      .query(true)
      .reply(200, { total_count: 1, workflow_runs: [run(5, `${VM} 2026-11-21T11:59:35Z`)] });
    expect(await f.poll()).toHaveLength(1);
    const again = nock(API)
      .get('/repos/acme/spot-fleet/actions/runs')
      .query({ event: 'repository_dispatch', created: '>=2026-11-21T11:58:05Z', per_page: '100' })
      .reply(200, {
        total_count: 2,
        workflow_runs: [
          run(6, `${VM.replace('vm-1', 'vm-6')} 2026-11-21T11:59:36Z`),
          run(5, `${VM} 2026-11-21T11:59:35Z`)
        ]
      });
    expect((await f.poll()).map(r => r.runId)).toEqual([6]);
    expect(again.isDone()).toBe(true);
  });

  test('without actions: read the feed says why once and stops asking', async () => {
    const warnings: string[] = [];
    const f = feed(undefined, warnings);
    nock(API)
      .get('/repos/acme/spot-fleet/actions/runs')
      .query(true)
      .reply(403, { message: 'Resource not accessible by integration' });
    expect(await f.poll()).toEqual([]);
    expect(await f.poll()).toEqual([]);
    expect(warnings).toEqual([expect.stringContaining('permissions: actions: read')]);
    expect(f.problem).toContain('403');
  });

  test('rate limited: nothing this time, asked again next time', async () => {
    const warnings: string[] = [];
    const f = feed(undefined, warnings);
    nock(API)
      .get('/repos/acme/spot-fleet/actions/runs')
      .query(true)
      .reply(403, { message: 'API rate limit exceeded for installation.' }, { 'x-ratelimit-remaining': '0' })
      .get('/repos/acme/spot-fleet/actions/runs')
      .query(true)
      .reply(200, { total_count: 1, workflow_runs: [run(7, `${VM} 2026-11-21T11:59:37Z`)] });
    expect(await f.poll()).toEqual([]);
    expect(await f.poll()).toHaveLength(1);
    expect(f.problem).toBeUndefined();
  });
});
