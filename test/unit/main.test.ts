/**
 * A whole run in process: GitHub OIDC → Entra token exchange → Resource Graph → Compute → outputs,
 * every hop over HTTP with the real @actions/core and Azure SDK clients, intercepted by nock.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { run } from '../../src/main.js';
import { PAYLOAD_SCHEMA } from '../../src/plan/payload.js';
import { openIdConfiguration } from '../emulator/azure/entra-metadata.js';
import { ARM, SUB, instanceView, startAccepted, vmPath } from '../helpers/arm-nock.js';
import { captureStdout } from '../helpers/capture-stdout.js';

const AUTHORITY = 'https://login.test';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '0b1c2d3e-0000-4000-8000-000000000001';
const OIDC = 'https://token.actions.test';
const GITHUB_JWT = [
  Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url'),
  Buffer.from(
    JSON.stringify({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:acme/fleet:ref:refs/heads/main',
      aud: 'api://AzureADTokenExchange'
    })
  ).toString('base64url'),
  'c2lnbmF0dXJl'
].join('.');

let dir: string;
const saved = { ...process.env };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'run-'));
  writeFileSync(join(dir, 'output'), '');
  Object.assign(process.env, {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    ACTIONS_ID_TOKEN_REQUEST_URL: `${OIDC}/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token'
  });
  writeFileSync(join(dir, 'summary'), '');
});

afterEach(() => {
  process.env = { ...saved };
  nock.cleanAll();
});

const inputs = (values: Record<string, string>) => (name: string) =>
  ({
    'client-id': CLIENT,
    'tenant-id': TENANT,
    'authority-host': AUTHORITY,
    'resource-manager-endpoint': ARM,
    subscriptions: SUB,
    'poll-interval': '100ms',
    ...values
  })[name] ?? '';

function event(name: string, payload: unknown) {
  process.env.GITHUB_EVENT_NAME = name;
  process.env.GITHUB_EVENT_PATH = join(dir, 'event.json');
  writeFileSync(process.env.GITHUB_EVENT_PATH, JSON.stringify(payload));
}

function outputs(): Record<string, string> {
  const text = readFileSync(join(dir, 'output'), 'utf8');
  const result: Record<string, string> = {};
  for (const m of text.matchAll(/^(.+?)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm)) result[m[1]!] = m[3]!;
  return result;
}

function mockEntraWithOidc(): { assertions: string[] } {
  const assertions: string[] = [];
  nock(OIDC, { reqheaders: { authorization: 'Bearer runner-request-token' } })
    .get('/token')
    .query({ 'api-version': '2.0', audience: 'api://AzureADTokenExchange' })
    .times(10) // each token exchange asks again: a fresh ID token every time, never a cached string
    .optionally()
    .reply(200, { value: GITHUB_JWT });
  nock(AUTHORITY)
    .get(`/${TENANT}/v2.0/.well-known/openid-configuration`)
    .reply(200, openIdConfiguration(AUTHORITY, TENANT));
  nock(AUTHORITY)
    .post(`/${TENANT}/oauth2/v2.0/token`, body => {
      assertions.push(
        `${body.client_id} ${body.client_assertion_type} ${body.client_assertion} ${body.scope}`
      );
      return true;
    })
    .query(true) // MSAL adds ?client-request-id=…
    .times(10)
    .optionally()
    .reply(200, {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: 'arm-access-token'
    });
  return { assertions };
}

const argRow = (name: string, extra: Record<string, unknown> = {}) => ({
  id: vmPath(name),
  name,
  resourceGroup: 'rg-spot',
  subscriptionId: SUB,
  location: 'eastus',
  tags: { attemptrestartafterEviction: 'TRUE' },
  vmSize: 'Standard_D2s_v5',
  priority: 'Spot',
  evictionPolicy: 'Deallocate',
  powerState: 'PowerState/deallocated',
  maxPrice: -1,
  annotationName: 'VirtualMachinePreempted',
  annotationAt: '2026-11-21T11:00:00Z',
  ...extra
});

describe('run', () => {
  test('schedule: OIDC token exchange, a sweep, eligible VMs started, user-stopped and untagged ones left alone', async () => {
    const { assertions } = mockEntraWithOidc();
    event('schedule', { schedule: '3-59/5 * * * *' });
    const arm = nock(ARM).matchHeader('authorization', 'Bearer arm-access-token');
    arm
      .post('/providers/Microsoft.ResourceGraph/resources', body => body.query.startsWith('computeresources'))
      .query(true)
      .reply(200, { totalRecords: 0, count: 0, resultTruncated: 'false', data: [] });
    arm
      .post('/providers/Microsoft.ResourceGraph/resources', body => body.query.startsWith('resources'))
      .query(true)
      .reply(200, {
        totalRecords: 3,
        count: 3,
        resultTruncated: 'false',
        data: [
          argRow('evicted'),
          argRow('stopped-by-me', { annotationName: 'VirtualMachineDeallocationInitiated' }),
          argRow('untagged', { tags: {} })
        ]
      });
    // The evicted VM's annotation history (read for every deallocated VM not stopped by a person).
    arm
      .post('/providers/Microsoft.ResourceGraph/resources', body =>
        body.query.startsWith('healthresourcechanges')
      )
      .query(true)
      .reply(200, { totalRecords: 0, count: 0, resultTruncated: 'false', data: [] });
    // Both deallocations ended two minutes after their annotations began.
    instanceView(arm, 'evicted', 'PowerState/deallocated', 1, '2026-11-21T11:02:00Z');
    instanceView(arm, 'stopped-by-me', 'PowerState/deallocated', 1, '2026-11-21T11:02:00Z');
    startAccepted(arm, 'evicted', { status: 'Succeeded' });

    const report = await run({ getInput: inputs({}) });

    expect(assertions.length).toBeGreaterThan(0);
    expect(new Set(assertions)).toEqual(
      new Set([
        `${CLIENT} urn:ietf:params:oauth:client-assertion-type:jwt-bearer ${GITHUB_JWT} https://management.test/.default`
      ])
    );
    expect(report?.results.map(r => [r.name, r.outcome])).toEqual([
      ['evicted', 'started'],
      ['stopped-by-me', 'user-stopped']
    ]);
    const out = outputs();
    expect(JSON.parse(out.started!)).toEqual([vmPath('evicted')]);
    expect(JSON.parse(out.skipped!)).toEqual([vmPath('stopped-by-me')]);
    expect(JSON.parse(out.counts!)).toMatchObject({ started: 1, 'user-stopped': 1, failed: 0 });
    const summary = readFileSync(join(dir, 'summary'), 'utf8');
    expect(summary.indexOf('| evicted |')).toBeLessThan(summary.indexOf('<details>'));
    expect(summary.slice(summary.indexOf('<details>'))).toContain('| stopped-by-me |');
    const file = JSON.parse(readFileSync(out['result-file']!, 'utf8'));
    expect(file.vms.map((v: { name: string }) => v.name)).toEqual(['evicted', 'stopped-by-me']);
    expect(process.exitCode).toBeUndefined();
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('repository_dispatch with a bad payload: refused, nothing started from it, the sweep still runs, the step fails', async () => {
    mockEntraWithOidc();
    event('repository_dispatch', {
      action: 'spot-vm-preempted',
      client_payload: { schema: PAYLOAD_SCHEMA, vmResourceId: `${vmPath('x')}'; drop`, eventType: 'Preempt' }
    });
    nock(ARM)
      .post('/providers/Microsoft.ResourceGraph/resources', body => body.query.includes("=~ 'Deallocate'"))
      .query(true)
      .times(2) // standalone and Flexible VMs, then Uniform scale-set instances
      .reply(200, { totalRecords: 0, count: 0, resultTruncated: 'false', data: [] });
    const report = await run({ getInput: inputs({}) });
    expect(report?.payloadErrors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('client_payload.vmResourceId must be a VM resource ID')
      ])
    );
    expect(report?.payloadErrors).toEqual(expect.arrayContaining(['client_payload.vmId is required']));
    expect(report?.results).toEqual([]);
    expect(process.exitCode).toBe(1);
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('repository_dispatch for a VM outside the subscriptions input: refused without asking Azure about it', async () => {
    event('repository_dispatch', {
      action: 'spot-vm-preempted',
      client_payload: {
        schema: PAYLOAD_SCHEMA,
        vmResourceId: vmPath('x').replace(SUB, '99999999-2222-3333-4444-555555555555'),
        vmId: '8f2b6c0e-1c1f-4a3e-9f55-2b7c1d2a0e11',
        eventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123',
        eventType: 'Preempt',
        detectedAt: '2026-11-21T12:00:00Z'
      }
    });
    const report = await run({ getInput: inputs({ 'sweep-on-dispatch': 'false' }) });
    expect(report?.results).toMatchObject([
      { outcome: 'skipped', detail: 'its subscription is not in the subscriptions input', source: 'dispatch' }
    ]);
    expect(process.exitCode).toBeUndefined();
  });

  test('without id-token: write the error says so', async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    event('schedule', {});
    nock(AUTHORITY)
      .get(`/${TENANT}/v2.0/.well-known/openid-configuration`)
      .optionally()
      .reply(200, openIdConfiguration(AUTHORITY, TENANT));
    const { written: messages, release } = captureStdout();
    try {
      await run({ getInput: inputs({}) });
    } finally {
      release();
    }
    expect(process.exitCode).toBe(1);
    expect(messages.join('')).toContain('add `permissions: id-token: write`');
  });
});
