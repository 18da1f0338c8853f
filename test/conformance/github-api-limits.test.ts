/**
 * The emulated GitHub API is as strict as GitHub where a wave of evictions meets it: secondary rate
 * limits on dispatches per identity, the runs API a job reads with its GITHUB_TOKEN (shape,
 * permissions, the token's hourly budget), and workflow runs GitHub cancelled as pending.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { preemptPayload } from '../emulator/client.js';
import type { FleetSpec } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import { Emulator, type EmulatorOptions } from '../emulator/server.js';
import { conforms } from './conforms.js';
import { httpsCall } from './https-call.js';

const require = createRequire(import.meta.url);
const [SUB] = subscriptionIds(1) as [string];
const REPO = 'acme/spot-fleet';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

function fleet(vms = 1): FleetSpec {
  return {
    subscriptions: [SUB],
    vms: Array.from({ length: vms }, (_, i) => ({
      subscriptionId: SUB,
      resourceGroup: 'rg',
      name: `vm-${i}`,
      tags: TAG
    })),
    github: {
      repository: REPO,
      tokens: [
        { token: 'ghp_agentsA', repositories: [REPO], user: 'fleet-bot', permissions: { actions: 'read' } },
        { token: 'ghp_agentsB', repositories: [REPO], user: 'fleet-bot' },
        { token: 'ghp_someoneElse', repositories: [REPO], user: 'octocat' }
      ]
    }
  };
}

async function start(options: Partial<EmulatorOptions> = {}, vms = 1): Promise<Emulator> {
  emu = await Emulator.start({
    fleet: fleet(vms),
    timeScale: 1000,
    runDispatchedWorkflows: false,
    ...options
  });
  return emu;
}

const dispatch = (e: Emulator, token: string, vm = 'vm-0') =>
  httpsCall(e, 'POST', `/repos/${REPO}/dispatches`, {
    auth: `Bearer ${token}`,
    body: {
      event_type: 'spot-vm-preempted',
      client_payload: preemptPayload(e.vm(vm), { EventId: crypto.randomUUID() } as never)
    }
  });

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('secondary rate limits on dispatches', () => {
  // docs.github.com, "Rate limits for the REST API", About secondary rate limits: "no more than 80
  // content-generating requests per minute and no more than 500 content-generating requests per
  // hour"; Exceeding the rate limit: "you will receive a 403 or 429 response and an error message
  // that indicates that you exceeded a secondary rate limit. If the retry-after response header is
  // present, you should not retry your request until after that many seconds has elapsed."
  test('80 a minute per identity: the 81st is a 403 with retry-after; the same user’s other token shares the limit, another user does not', async () => {
    const e = await start({ timeScale: 1 });
    const answers = [];
    for (let i = 0; i < 80; i++)
      answers.push((await dispatch(e, i % 2 ? 'ghp_agentsA' : 'ghp_agentsB')).status);
    expect(answers.every(s => s === 204)).toBe(true);
    const refused = await dispatch(e, 'ghp_agentsA');
    expect(refused.status).toBe(403);
    expect((refused.body as { message: string }).message).toContain('secondary rate limit');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await dispatch(e, 'ghp_someoneElse')).status).toBe(204);
    expect(e.dispatches).toHaveLength(81);
    expect(e.githubState.secondaryRefusals).toEqual({ '403': 1 });
  });

  test('500 an hour per identity, however the minutes are spread', async () => {
    const e = await start({ timeScale: 100 }); // a minute is 600 ms, an hour 36 s
    let accepted = 0;
    let hourly: { status: number; headers: Record<string, unknown> } | undefined;
    for (let minute = 0; minute < 8 && !hourly; minute++) {
      for (let i = 0; i < 80; i++) {
        const answer = await dispatch(e, 'ghp_agentsA');
        if (answer.status === 204) accepted++;
        else if (accepted >= 500) {
          hourly = answer;
          break;
        } else break; // this minute is full
      }
      await sleep(650);
    }
    expect(accepted).toBe(500);
    expect(hourly?.status).toBe(403);
    // The hour's window frees long after the minute's: some 50 emulated minutes here, 30 real seconds.
    expect(Number(hourly?.headers['retry-after'])).toBeGreaterThan(10);
  });

  test('GitHub may answer 429 instead, or leave retry-after out (clients then wait at least a minute)', async () => {
    const e = await start({
      timeScale: 1,
      githubLimits: { secondaryStatus: 429, secondaryRetryAfter: false }
    });
    for (let i = 0; i < 80; i++) await dispatch(e, 'ghp_agentsA');
    const refused = await dispatch(e, 'ghp_agentsA');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeUndefined();
  });
});

describe('the runs API, as a job reads it', () => {
  /** A workflow whose runs are named after the VM they were dispatched for, in one concurrency group. */
  function workflows(): string {
    const dir = mkdtempSync(join(tmpdir(), 'runs-api-'));
    writeFileSync(
      join(dir, 'fast-path.yml'),
      [
        'name: fast path',
        "run-name: ${{ github.event.client_payload.vmResourceId || 'sweep' }}",
        'on:',
        '  repository_dispatch:',
        '    types: [spot-vm-preempted]',
        'permissions:',
        '  id-token: write',
        '  actions: read',
        'concurrency:',
        '  group: spot-restart-fast-path',
        'jobs:',
        '  restart:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: azure-spot-restarter/azure-spot-restarter@v0',
        '        with:',
        '          client-id: ${{ vars.AZURE_CLIENT_ID }}',
        '          tenant-id: ${{ vars.AZURE_TENANT_ID }}',
        '          subscriptions: ${{ vars.AZURE_SUBSCRIPTIONS }}',
        "          wait-for-deallocation: '1s'",
        "          retry-for: '0'",
        "          sweep-on-dispatch: 'false'",
        ''
      ].join('\n')
    );
    return dir;
  }

  test('runs are listed newest first in GitHub’s shape, with run-name as display_title, cancelled pending runs included', async () => {
    const e = await start({ timeScale: 100, runDispatchedWorkflows: true, workflowsDir: workflows() }, 3);
    for (const vm of ['vm-0', 'vm-1', 'vm-2'])
      expect((await dispatch(e, 'ghp_agentsA', vm)).status).toBe(204);
    const jobs = await e.settle();
    // One in progress, one pending; the third queued run cancelled the pending second one.
    expect(jobs.filter(j => j.conclusion === 'cancelled').map(j => j.dispatchedVm)).toEqual([
      e.vm('vm-1').id
    ]);
    expect(jobs.filter(j => j.conclusion === 'cancelled')[0]!.billedMinutes).toBe(0);
    const listed = await httpsCall(
      e,
      'GET',
      `/repos/${REPO}/actions/runs?event=repository_dispatch&per_page=2`,
      {
        auth: 'Bearer ghp_agentsA'
      }
    );
    expect(listed.status).toBe(200);
    const spec = require('@octokit/openapi/generated/api.github.com.json');
    const schema = {
      ...spec.paths['/repos/{owner}/{repo}/actions/runs'].get.responses['200'].content['application/json']
        .schema,
      components: spec.components
    };
    conforms(schema, listed.body);
    const body = listed.body as { total_count: number; workflow_runs: Record<string, unknown>[] };
    expect(body.total_count).toBe(3);
    expect(body.workflow_runs.map(r => r.display_title)).toEqual([e.vm('vm-2').id, e.vm('vm-1').id]);
    expect(listed.headers.link).toContain('rel="next"');
    const cancelled = await httpsCall(e, 'GET', `/repos/${REPO}/actions/runs?status=cancelled`, {
      auth: 'Bearer ghp_agentsA'
    });
    expect((cancelled.body as { workflow_runs: { display_title: string }[] }).workflow_runs).toEqual([
      expect.objectContaining({
        display_title: e.vm('vm-1').id,
        status: 'completed',
        conclusion: 'cancelled'
      })
    ]);
    const byFile = await httpsCall(e, 'GET', `/repos/${REPO}/actions/workflows/fast-path.yml/runs`, {
      auth: 'Bearer ghp_agentsA'
    });
    expect((byFile.body as { total_count: number }).total_count).toBe(3);
  }, 60_000);

  // docs.github.com, "Controlling permissions for GITHUB_TOKEN": "If you specify the access for any
  // of these permissions, all of those that are not specified are set to none." "List workflow runs
  // for a repository" needs "Actions" repository permissions (read).
  test('a token without actions: read is refused; a GITHUB_TOKEN with it gets an answer that carries its budget', async () => {
    const e = await start();
    e.githubState.jobTokens.set('ghs_noActions', {
      repository: REPO,
      permissions: { 'id-token': 'write', contents: 'read', metadata: 'read' },
      runId: 1
    });
    e.githubState.jobTokens.set('ghs_actionsRead', {
      repository: REPO,
      permissions: { actions: 'read', metadata: 'read' },
      runId: 2
    });
    const refused = await httpsCall(e, 'GET', `/repos/${REPO}/actions/runs`, {
      auth: 'Bearer ghs_noActions'
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ message: 'Resource not accessible by integration' });
    const allowed = await httpsCall(e, 'GET', `/repos/${REPO}/actions/runs`, {
      auth: 'Bearer ghs_actionsRead'
    });
    expect(allowed.status).toBe(200);
    // "Rate limits for the REST API": GITHUB_TOKEN, "1,000 requests per hour per repository".
    expect(allowed.headers['x-ratelimit-limit']).toBe('1000');
    expect(allowed.headers['x-ratelimit-remaining']).toBe('998');
    const dispatchRefused = await httpsCall(e, 'POST', `/repos/${REPO}/dispatches`, {
      auth: 'Bearer ghs_actionsRead',
      body: { event_type: 'x' }
    });
    expect(dispatchRefused.status).toBe(403);
  });

  test('past the GITHUB_TOKEN’s hourly budget: 403 with x-ratelimit-remaining 0', async () => {
    const e = await start({ githubLimits: { githubTokenRequestsPerHour: 2 } });
    e.githubState.jobTokens.set('ghs_actionsRead', {
      repository: REPO,
      permissions: { actions: 'read' },
      runId: 1
    });
    const call = () => httpsCall(e, 'GET', `/repos/${REPO}/actions/runs`, { auth: 'Bearer ghs_actionsRead' });
    expect([(await call()).status, (await call()).status]).toEqual([200, 200]);
    const over = await call();
    expect(over.status).toBe(403);
    expect(over.headers['x-ratelimit-remaining']).toBe('0');
  });
});
