/**
 * The emulator answers like Azure and GitHub: each emulated operation's response is checked
 * against the published description of that operation (azure-schemas.ts cites the Azure specs;
 * GitHub's come from its REST description in @octokit/openapi).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { instanceView } from '../emulator/azure/arm.js';
import { conforms, schemaErrors } from './conforms.js';
import {
  httpsCall,
  RESOURCE_GRAPH,
  signIn,
  tokenRequest,
  type Answer,
  type CallOptions
} from './https-call.js';
import { DEFAULT_APP } from '../emulator/fleets/fleet.js';
import type { Emulator } from '../emulator/server.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import { emulator } from '../e2e/harness.js';
import {
  argErrorResponse,
  argQueryResponse,
  armErrorResponse,
  computeApiError,
  operationStatus,
  permissionGetResult,
  resourceSkusResult,
  spotResourceRow,
  virtualMachine,
  vmInstanceView,
  vmSizeList
} from './azure-schemas.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';

const require = createRequire(import.meta.url);
const [SUB] = subscriptionIds(1) as [string];
const SECRET = 'conformance-secret';
const GH_TOKEN = 'ghs_conformance';

let emu: Emulator;
/** The shipped role and the opt-in fallback role: what an app that resizes and retags may do. */
const BOTH_ROLES = [
  ...shippedRoleActions(),
  ...(JSON.parse(readFileSync('docs/spot-restarter-fallback-role.json', 'utf8')) as { Actions: string[] })
    .Actions
];
let token = '';
/** An app whose role is assigned on resource group rg-batch only. */
const GROUP_APP = '0b1c2d3e-0000-4000-8000-0000000000a2';
let groupToken = '';

const call = (method: string, path: string, options?: CallOptions): Promise<Answer> =>
  httpsCall(emu, method, path, options);

const vmPath = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/rg-batch/providers/Microsoft.Compute/virtualMachines/${name}`;

beforeAll(async () => {
  emu = await emulator(
    {
      subscriptions: [SUB],
      apps: [
        {
          clientId: DEFAULT_APP,
          secret: SECRET,
          actions: BOTH_ROLES
        },
        { clientId: GROUP_APP, secret: SECRET, scopes: [`/subscriptions/${SUB}/resourceGroups/rg-batch`] }
      ],
      vms: [
        {
          subscriptionId: SUB,
          resourceGroup: 'rg-batch',
          name: 'vm-1',
          tags: TAG,
          powerState: 'deallocated',
          annotation: 'VirtualMachinePreempted'
        },
        {
          subscriptionId: SUB,
          resourceGroup: 'rg-batch',
          name: 'vm-2',
          tags: TAG,
          zone: '2',
          maxPrice: 0.01,
          powerState: 'deallocated'
        },
        {
          subscriptionId: SUB,
          resourceGroup: 'rg-batch',
          name: 'vm-3',
          tags: TAG,
          vmSize: 'Standard_D4s_v5',
          powerState: 'deallocated'
        },
        { subscriptionId: SUB, resourceGroup: 'rg-batch', name: 'vm-5', tags: TAG, powerState: 'running' },
        { subscriptionId: SUB, resourceGroup: 'rg-batch', name: 'vm-4', tags: TAG, powerState: 'deallocated' }
      ],
      restrictedSizes: [
        { location: 'eastus', vmSize: 'Standard_E2s_v5' },
        { location: 'eastus', vmSize: 'Standard_F2s_v2', zones: ['2'] }
      ],
      quotas: { eastus: 16 },
      spotIncapableSizes: ['Standard_E4as_v5'],
      prices: { 'eastus/Standard_D2s_v5': 0.05 },
      pools: [{ location: 'eastus', vmSize: 'Standard_D4s_v5', capacity: 0 }],
      github: {
        repository: 'acme/spot-fleet',
        tokens: [{ token: GH_TOKEN, repositories: ['acme/spot-fleet'] }]
      }
    },
    { throttling: true, runDispatchedWorkflows: false }
  );
  token = await signIn(emu, DEFAULT_APP, SECRET);
  groupToken = await signIn(emu, GROUP_APP, SECRET);
});
afterAll(() => emu.stop());

/**
 * A per-VM budget seen whole: `call` talks to a fresh emulator in real time (time scale 1) with one deallocated VM,
 * so its bucket starts full and cannot refill noticeably while the test spends it (the shared
 * emulator's scale would refill Compute's 4 a minute every 150 ms of real time).
 */
async function aloneInRealTime<T>(name: string, use: (bearer: string) => Promise<T>): Promise<T> {
  const shared = emu;
  emu = await emulator(
    {
      subscriptions: [SUB],
      apps: [{ clientId: DEFAULT_APP, secret: SECRET, actions: BOTH_ROLES }],
      vms: [{ subscriptionId: SUB, resourceGroup: 'rg-batch', name, tags: TAG, powerState: 'deallocated' }]
    },
    { timeScale: 1, runDispatchedWorkflows: false }
  );
  try {
    return await use(await signIn(emu, DEFAULT_APP, SECRET));
  } finally {
    await emu.stop();
    emu = shared;
  }
}

describe('Azure Resource Graph (resourcegraph.json 2024-04-01)', () => {
  test('Resources: QueryResponse with quota headers', async () => {
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: {
        subscriptions: [SUB],
        query: "resources | where type =~ 'microsoft.compute/virtualmachines' | project id, name, type",
        options: { $top: 1 }
      }
    });
    expect(answer.status).toBe(200);
    conforms(argQueryResponse, answer.body);
    expect(answer.body).toMatchObject({
      totalRecords: 5,
      count: 1,
      resultTruncated: 'false',
      $skipToken: expect.any(String)
    });
    expect((answer.body as { data: { type: string }[] }).data[0]!.type).toBe(
      'microsoft.compute/virtualmachines'
    );
    expect(answer.headers['x-ms-user-quota-remaining']).toMatch(/^\d+$/);
    expect(answer.headers['x-ms-user-quota-resets-after']).toMatch(/^\d{2}:\d{2}:\d{2}/);
  });

  test('table result format', async () => {
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: { query: 'resources | project id, name', options: { resultFormat: 'table' } }
    });
    conforms(argQueryResponse, answer.body);
  });

  test('a query outside the supported KQL is a 400 ErrorResponse, never ignored', async () => {
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: { query: 'resources | summarize count() by location' }
    });
    expect(answer.status).toBe(400);
    conforms(argErrorResponse, answer.body);
    expect(JSON.stringify(answer.body)).toContain('InvalidQuery');
  });

  test('$top above 1000 is refused', async () => {
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: { query: 'resources', options: { $top: 5000 } }
    });
    expect(answer.status).toBe(400);
    conforms(argErrorResponse, answer.body);
  });
});

describe('Compute (virtualMachine.json 2024-11-01)', () => {
  test('VirtualMachines_Get: VirtualMachine', async () => {
    const answer = await call('GET', `${vmPath('vm-2')}?api-version=2026-04-01`, { auth: token });
    expect(answer.status).toBe(200);
    conforms(virtualMachine, answer.body);
  });

  test('VirtualMachines_InstanceView: VirtualMachineInstanceView', async () => {
    const answer = await call('GET', `${vmPath('vm-1')}/instanceView?api-version=2026-04-01`, {
      auth: token
    });
    conforms(vmInstanceView, answer.body);
    expect(answer.headers['x-ms-ratelimit-remaining-subscription-reads']).toMatch(/^\d+$/);
  });

  test('VirtualMachines_Start: 202 with Azure-AsyncOperation and Location, then the operation status', async () => {
    const answer = await call('POST', `${vmPath('vm-1')}/start?api-version=2026-04-01`, { auth: token });
    expect(answer.status).toBe(202);
    const status = new URL(String(answer.headers['azure-asyncoperation']));
    expect(String(answer.headers.location)).toContain('monitor=true');
    const op = await call('GET', status.pathname + status.search, { auth: token });
    conforms(operationStatus, op.body);
    expect((op.body as { status: string }).status).toBe('InProgress');
  });

  test('no capacity: the operation fails with ResourceOperationFailure and AllocationFailed in details (ApiError)', async () => {
    const answer = await call('POST', `${vmPath('vm-3')}/start?api-version=2026-04-01`, { auth: token });
    expect(answer.status).toBe(202);
    const status = new URL(String(answer.headers['azure-asyncoperation']));
    let op: Answer;
    do {
      await new Promise(r => setTimeout(r, 20));
      op = await call('GET', status.pathname + status.search, { auth: token });
    } while ((op.body as { status: string }).status === 'InProgress');
    conforms(operationStatus, op.body);
    const error = (op.body as { error: { code: string; details: { code: string }[] } }).error;
    conforms(computeApiError, error);
    expect(error.code).toBe('ResourceOperationFailure');
    expect(error.details.map(d => d.code)).toEqual(['AllocationFailed']);
  });

  test('a price above the max: 409 ErrorResponse with SpotPriceGreaterThanProvidedMaxPrice', async () => {
    const answer = await call('POST', `${vmPath('vm-2')}/start?api-version=2026-04-01`, { auth: token });
    expect(answer.status).toBe(409);
    conforms(armErrorResponse, answer.body);
    expect((answer.body as { error: { code: string } }).error.code).toBe(
      'SpotPriceGreaterThanProvidedMaxPrice'
    );
  });

  test('a missing VM: 404 ResourceNotFound; no token: 401 with WWW-Authenticate', async () => {
    const missing = await call('GET', `${vmPath('nope')}/instanceView?api-version=2026-04-01`, {
      auth: token
    });
    expect(missing.status).toBe(404);
    conforms(armErrorResponse, missing.body);
    const anonymous = await call('GET', `${vmPath('vm-1')}?api-version=2026-04-01`);
    expect(anonymous.status).toBe(401);
    conforms(armErrorResponse, anonymous.body);
    expect(anonymous.headers['www-authenticate']).toContain('Bearer authorization_uri=');
  });
});

describe('Where Azure differs from a naive model', () => {
  test('HealthResources: the current annotation, with its context (resource-health-vm-annotation)', async () => {
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: {
        subscriptions: [SUB],
        query:
          "healthresources | where type =~ 'microsoft.resourcehealth/resourceannotations' | project id, name = tostring(properties.annotationName), context = tostring(properties.context), occurredTime = tostring(properties.occurredTime)"
      }
    });
    expect(answer.status).toBe(200);
    conforms(argQueryResponse, answer.body);
    const [row] = (answer.body as { data: Record<string, string>[] }).data;
    expect(row).toMatchObject({ name: 'VirtualMachinePreempted' });
    // Microsoft spells it "Platform Initiated" on one page and "Platform-Initiated" on another.
    expect(['Platform Initiated', 'Platform-Initiated']).toContain(row!.context);
  });

  test('HealthResourceChanges: microsoft.resources/changes rows with changeAttributes.timestamp and changes[path].newValue', async () => {
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: {
        subscriptions: [SUB],
        query:
          "healthresourcechanges | where tostring(properties.targetResourceType) =~ 'microsoft.resourcehealth/resourceannotations' | project id, type, target = tostring(properties.targetResourceId), name = tostring(properties.changes['properties.annotationName'].newValue), at = tostring(properties.changeAttributes.timestamp)"
      }
    });
    expect(answer.status).toBe(200);
    const rows = (answer.body as { data: Record<string, string>[] }).data;
    expect(rows).toEqual([
      expect.objectContaining({
        type: 'microsoft.resources/changes',
        target: `${vmPath('vm-1')}/providers/Microsoft.ResourceHealth/resourceAnnotations/current`,
        name: 'VirtualMachinePreempted',
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/)
      })
    ]);
  });

  test('more than 1000 explicit subscriptions in one query are refused', async () => {
    const many = Array.from(
      { length: 1001 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
    );
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: { subscriptions: many, query: 'resources | project id' }
    });
    expect(answer.status).toBe(400);
    conforms(argErrorResponse, answer.body);
  });

  test("Compute's per-VM read budget (Low Cost Get VM: 36, refill 12/min) and its 429 body (OperationNotAllowed, TooManyRequests)", async () => {
    const statuses: number[] = [];
    let refused: Answer | undefined;
    await aloneInRealTime('vm-2', async bearer => {
      for (let i = 0; i < 40; i++) {
        const answer = await call('GET', `${vmPath('vm-2')}/instanceView?api-version=2024-11-01`, {
          auth: bearer
        });
        statuses.push(answer.status);
        if (answer.status === 429) refused ??= answer;
      }
    });
    expect(statuses.slice(0, 36).every(s => s === 200)).toBe(true);
    expect(statuses.slice(37)).toEqual([429, 429, 429]);
    conforms(armErrorResponse, refused!.body);
    expect(refused!.body).toMatchObject({
      error: {
        code: 'OperationNotAllowed',
        details: [{ code: 'TooManyRequests', target: 'LowCostGetVMResource' }]
      }
    });
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(String(refused!.headers['x-ms-ratelimit-remaining-resource'])).toContain('Microsoft.Compute/');
  });

  test('an instance view while an operation runs: ProvisioningState/updating with no time, then PowerState/stopped while starting', async () => {
    const vm = emu.model.add({
      subscriptionId: SUB,
      resourceGroup: 'rg-batch',
      name: 'vm-9',
      tags: TAG,
      powerState: 'deallocated'
    });
    emu.model.start(vm);
    const body = instanceView(vm);
    conforms(vmInstanceView, body);
    expect(body.statuses[0]).toEqual({
      code: 'ProvisioningState/updating',
      level: 'Info',
      displayStatus: 'Updating'
    });
    expect(body.statuses[1]!.code).toBe('PowerState/stopped');
  });
});

describe('Authorization (authorization-RoleDefinitionsCalls.json 2022-04-01)', () => {
  const permissionsOf = (scope: string) =>
    `${scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`;
  type Page = { value: { actions: string[] }[]; nextLink?: string };

  async function allPages(path: string, auth: string): Promise<Page[]> {
    const pages: Page[] = [];
    for (let next: string | undefined = path; next;) {
      const answer = await call('GET', next, { auth });
      expect(answer.status).toBe(200);
      conforms(permissionGetResult, answer.body);
      const page = answer.body as Page;
      pages.push(page);
      next = page.nextLink && new URL(page.nextLink).pathname + new URL(page.nextLink).search;
    }
    return pages;
  }

  test('Permissions_ListForResourceGroup: PermissionGetResult, paged by nextLink', async () => {
    const pages = await allPages(permissionsOf(`/subscriptions/${SUB}/resourcegroups/rg-batch`), token);
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(pages.flatMap(p => p.value)[0]!.actions).toContain(
      'Microsoft.Compute/virtualMachines/start/action'
    );
  });

  test('a role on the group is listed at the group, and not at the subscription (as in Azure)', async () => {
    const atGroup = await allPages(
      permissionsOf(`/subscriptions/${SUB}/resourcegroups/rg-batch`),
      groupToken
    );
    expect(atGroup.flatMap(p => p.value)).toHaveLength(1);
    const atSubscription = await allPages(permissionsOf(`/subscriptions/${SUB}`), groupToken);
    expect(atSubscription.flatMap(p => p.value)).toEqual([]);
  });

  test('without api-version: 400 ErrorResponse; an unknown group: 404 ResourceGroupNotFound', async () => {
    const noVersion = await call(
      'GET',
      `/subscriptions/${SUB}/resourcegroups/rg-batch/providers/Microsoft.Authorization/permissions`,
      {
        auth: token
      }
    );
    expect(noVersion.status).toBe(400);
    conforms(armErrorResponse, noVersion.body);
    const unknown = await call('GET', permissionsOf(`/subscriptions/${SUB}/resourcegroups/rg-nope`), {
      auth: token
    });
    expect(unknown.status).toBe(404);
    conforms(armErrorResponse, unknown.body);
    expect((unknown.body as { error: { code: string } }).error.code).toBe('ResourceGroupNotFound');
  });
});

describe('GitHub: repos/create-dispatch-event (@octokit/openapi)', () => {
  const spec = require('@octokit/openapi/generated/api.github.com.deref.json');
  const operation = spec.paths['/repos/{owner}/{repo}/dispatches'].post;
  const requestSchema = operation.requestBody.content['application/json'].schema;
  const responseSchema = (status: string) => operation.responses[status].content['application/json'].schema;

  test.each([
    [{ event_type: 'spot-vm-preempted', client_payload: { a: 1 } }, 204],
    [{ event_type: 'spot-vm-preempted' }, 204],
    [{ event_type: '' }, 422],
    [{ event_type: 'x'.repeat(101) }, 422],
    [{ client_payload: {} }, 422],
    [
      {
        event_type: 'e',
        client_payload: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i]))
      },
      422
    ],
    [{ event_type: 'e', client_payload: 'text' }, 422],
    [{ event_type: 'e', client_payload: { big: 'x'.repeat(70_000) } }, 422]
  ])(
    '%#: the answer agrees with the request schema and the 64 KB limit, and its body with the response schema',
    async (body, expected) => {
      const answer = await call('POST', '/repos/acme/spot-fleet/dispatches', {
        auth: `Bearer ${GH_TOKEN}`,
        body
      });
      expect(answer.status).toBe(expected);
      const schemaSays = schemaErrors(requestSchema, body).length === 0;
      if (expected === 204) expect(schemaSays).toBe(true);
      if (expected === 422) conforms(responseSchema('422'), answer.body);
    }
  );

  test('an unknown token is 401; a repository the token may not write is 404 (basic-error)', async () => {
    const bad = await call('POST', '/repos/acme/spot-fleet/dispatches', {
      auth: 'Bearer nope',
      body: { event_type: 'e' }
    });
    expect(bad.status).toBe(401);
    const other = await call('POST', '/repos/acme/other/dispatches', {
      auth: `Bearer ${GH_TOKEN}`,
      body: { event_type: 'e' }
    });
    expect(other.status).toBe(404);
    conforms(responseSchema('404'), other.body);
  });
});

describe('Entra ID', () => {
  test('a wrong secret is AADSTS7000215 in the OAuth error shape', async () => {
    const answer = await tokenRequest(emu, DEFAULT_APP, 'wrong');
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({
      error: 'invalid_client',
      error_codes: [7000215],
      error_description: expect.stringContaining('AADSTS7000215')
    });
  });
});

describe('Compute: resize, sizes and SKUs (virtualMachine.json, skus.json 2021-07-01)', () => {
  const patch = (name: string, body: unknown) =>
    call('PATCH', `${vmPath(name)}?api-version=2026-04-01`, { auth: token, body });
  const code = (a: Answer) => (a.body as { error: { code: string; message: string } }).error;

  test('VirtualMachines_ListAvailableSizes: VirtualMachineSizeListResult', async () => {
    const answer = await call('GET', `${vmPath('vm-4')}/vmSizes?api-version=2026-04-01`, { auth: token });
    expect(answer.status).toBe(200);
    conforms(vmSizeList, answer.body);
    expect((answer.body as { value: { name: string }[] }).value.map(v => v.name)).toContain(
      'Standard_D4as_v5'
    );
  });

  // Microsoft Learn, "Resize a virtual machine": "If your VM is still running and you don't see the
  // size you want in the list, stopping the virtual machine may reveal more sizes." (The cluster
  // limit is also in the refusal text "not available in the current hardware cluster",
  // microsoft/service-fabric-issues#472.) Modelled: a running VM's cluster is one processor make.
  test("a running VM's vmSizes lists only its hardware cluster's sizes; a deallocated one's, more", async () => {
    const running = await call('GET', `${vmPath('vm-5')}/vmSizes?api-version=2026-04-01`, { auth: token });
    conforms(vmSizeList, running.body);
    const names = (running.body as { value: { name: string }[] }).value.map(v => v.name);
    expect(names).toContain('Standard_D4s_v5');
    expect(names).not.toContain('Standard_D2as_v5');
  });

  test('ResourceSkus_List: ResourceSkusResult with Location and Zone restrictions', async () => {
    const answer = await call(
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=${encodeURIComponent("location eq 'eastus'")}`,
      { auth: token }
    );
    expect(answer.status).toBe(200);
    conforms(resourceSkusResult, answer.body);
    const skus = (answer.body as { value: { name: string; restrictions: { type: string }[] }[] }).value;
    expect(skus.find(s => s.name === 'Standard_E2s_v5')!.restrictions[0]!.type).toBe('Location');
    expect(skus.find(s => s.name === 'Standard_F2s_v2')!.restrictions[0]!.type).toBe('Zone');
    const bad = await call(
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=name eq 'x'`,
      {
        auth: token
      }
    );
    expect(bad.status).toBe(400);
    conforms(armErrorResponse, bad.body);
  });

  test('VirtualMachines_Update: a deallocated VM takes a new size and tags (200 VirtualMachine)', async () => {
    const answer = await patch('vm-4', {
      tags: { ...TAG, SpotRestarterPreferredSize: 'Standard_D2s_v5' },
      properties: { hardwareProfile: { vmSize: 'Standard_D4as_v5' } }
    });
    expect(answer.status).toBe(200);
    conforms(virtualMachine, answer.body);
    expect(answer.body).toMatchObject({
      tags: { SpotRestarterPreferredSize: 'Standard_D2s_v5' },
      properties: { hardwareProfile: { vmSize: 'Standard_D4as_v5' } }
    });
  });

  test('a running VM is not resized, nor repriced: 409 OperationNotAllowed; its tags may change', async () => {
    for (const body of [
      { properties: { hardwareProfile: { vmSize: 'Standard_D4as_v5' } } },
      { properties: { billingProfile: { maxPrice: 0.5 } } }
    ]) {
      const answer = await patch('vm-5', body);
      expect(answer.status).toBe(409);
      conforms(armErrorResponse, answer.body);
      expect(code(answer).code).toBe('OperationNotAllowed');
    }
    expect((await patch('vm-5', { tags: { ...TAG, note: 'x' } })).status).toBe(200);
    expect(emu.vm('vm-5').vmSize).toBe('Standard_D2s_v5');
  });

  test('a restricted size is SkuNotAvailable (zonal restriction: only in its zones); over quota is OperationNotAllowed', async () => {
    // The resize above is an operation of its own: wait for it to end.
    while (emu.vm('vm-4').provisioning === 'updating') await new Promise(r => setTimeout(r, 10));
    const restricted = await patch('vm-4', {
      properties: { hardwareProfile: { vmSize: 'Standard_E2s_v5' } }
    });
    expect(restricted.status).toBe(409);
    expect(code(restricted).code).toBe('SkuNotAvailable');
    // vm-2 is in zone 2, where F2s_v2 is restricted; vm-4 has no zone.
    expect(
      code(await patch('vm-2', { properties: { hardwareProfile: { vmSize: 'Standard_F2s_v2' } } })).code
    ).toBe('SkuNotAvailable');
    // The region's one Spot pool (Total Regional Spot vCPUs), deallocated VMs included: 14 of 16 used.
    const quota = await patch('vm-4', { properties: { hardwareProfile: { vmSize: 'Standard_D8s_v5' } } });
    expect(quota.status).toBe(409);
    conforms(armErrorResponse, quota.body);
    expect(code(quota)).toMatchObject({
      code: 'OperationNotAllowed',
      message: expect.stringContaining('quota')
    });
    const invalid = await patch('vm-4', { properties: { billingProfile: { maxPrice: 0 } } });
    expect(invalid.status).toBe(400);
    conforms(armErrorResponse, invalid.body);
  });

  // Microsoft Learn, "Error messages for Azure Spot Virtual Machines and scale sets" (key
  // AzureSpotIsNotSupportedForThisVMSize; sent as OperationNotAllowed, 409: inferred from
  // Azure/azure-cli#13974 and Azure/azure-powershell#12007); "Azure VM sizes with no local temporary
  // disk" FAQ ("The only combinations allowed for resizing are: VM (with local temp disk) -> VM (with
  // local temp disk); and VM (with no local temp disk) -> VM (with no local temp disk)") with the
  // observed text of Azure/SAP-on-Azure-Scripts-and-Utilities#130; skus.json example
  // ListAvailableResourceSkusForARegion.json (capabilities LowPriorityCapable, MaxResourceVolumeMB).
  test('sizes refused for good: not for Spot, across the temp-disk boundary (409 OperationNotAllowed); Resource SKUs says both', async () => {
    const notSpot = await patch('vm-3', { properties: { hardwareProfile: { vmSize: 'Standard_E4as_v5' } } });
    expect(notSpot.status).toBe(409);
    conforms(armErrorResponse, notSpot.body);
    expect(code(notSpot)).toMatchObject({
      code: 'OperationNotAllowed',
      message: expect.stringContaining(
        'Azure Spot Virtual Machine is not supported for this VM size Standard_E4as_v5'
      )
    });
    const tempDisk = await patch('vm-3', { properties: { hardwareProfile: { vmSize: 'Standard_F4s_v2' } } });
    expect(tempDisk.status).toBe(409);
    expect(code(tempDisk)).toMatchObject({
      code: 'OperationNotAllowed',
      message: expect.stringContaining(
        'changing from resource disk to non-resource disk VM size and vice-versa is not allowed'
      )
    });
    expect(emu.vm('vm-3').vmSize).toBe('Standard_D4s_v5');
    const skus = await call(
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=${encodeURIComponent("location eq 'eastus'")}`,
      { auth: token }
    );
    conforms(resourceSkusResult, skus.body);
    const capability = (size: string, name: string) =>
      (skus.body as { value: { name: string; capabilities: { name: string; value: string }[] }[] }).value
        .find(s => s.name === size)!
        .capabilities.find(c => c.name === name)?.value;
    expect(capability('Standard_E4as_v5', 'LowPriorityCapable')).toBe('False');
    expect(capability('Standard_D4s_v5', 'LowPriorityCapable')).toBe('True');
    expect(capability('Standard_D4s_v5', 'MaxResourceVolumeMB')).toBe('0');
    expect(Number(capability('Standard_F4s_v2', 'MaxResourceVolumeMB'))).toBeGreaterThan(0);
  });

  // "Use Azure Spot Virtual Machines": "set a max price, in US dollars (USD), using up to 5 decimal
  // places"; BillingProfile.maxPrice (Compute spec): an update "will only succeed if the maxPrice is
  // greater than the current Azure Spot price". How Azure words a six-decimal refusal is not
  // published (MaxPriceValueInvalid's message is used).
  test('a max price with more than five decimals, or not above the current price, is refused', async () => {
    const decimals = await patch('vm-3', { properties: { billingProfile: { maxPrice: 0.123456 } } });
    expect(decimals.status).toBe(400);
    conforms(armErrorResponse, decimals.body);
    const equal = await patch('vm-3', { properties: { billingProfile: { maxPrice: 0.02 } } });
    expect(equal.status).toBe(409);
    expect(code(equal).code).toBe('SpotPriceGreaterThanProvidedMaxPrice');
    expect((await patch('vm-3', { properties: { billingProfile: { maxPrice: 0.02001 } } })).status).toBe(200);
  });

  test('SpotResources: price history and eviction rates, as the sample queries read them', async () => {
    const answer = await call('POST', RESOURCE_GRAPH, {
      auth: token,
      body: {
        subscriptions: [SUB],
        query:
          "spotresources | where type =~ 'microsoft.compute/skuspotpricehistory/ostype/location' or type =~ 'microsoft.compute/skuspotevictionrate/location' | where sku.name in~ ('standard_d2s_v5') | where location in~ ('eastus')",
        options: { resultFormat: 'objectArray' }
      }
    });
    expect(answer.status).toBe(200);
    conforms(argQueryResponse, answer.body);
    const rows = (answer.body as { data: Record<string, unknown>[] }).data;
    expect(rows).toHaveLength(3); // Linux and Windows prices, one eviction rate
    for (const row of rows) conforms(spotResourceRow, row);
    const linux = rows.find(r => (r.properties as { osType?: string }).osType === 'Linux')!;
    expect((linux.properties as { spotPrices: { priceUSD: number }[] }).spotPrices[0]!.priceUSD).toBe(0.05);
  });
});

// Tags_UpdateAtScope (specification/resources/resource-manager/Microsoft.Resources/stable/2024-03-01,
// example PatchTagsResource.json: 200 with the tags, or 202 with a `location` to follow): "The
// 'merge' option allows adding tags with new names and updating the values of tags with existing
// names." Needs Microsoft.Resources/tags/write.
describe('Resources: Tags – Update At Scope (Merge)', () => {
  test('202 with a location; followed to its end, the tags are merged, none lost', async () => {
    const vm = emu.vm('vm-1');
    vm.tags = { ...vm.tags, CostCenter: 'cc-1' };
    const answer = await call(
      'PATCH',
      `${vmPath('vm-1')}/providers/Microsoft.Resources/tags/default?api-version=2021-04-01`,
      { auth: token, body: { operation: 'Merge', properties: { tags: { CostCenter: 'cc-2', New: 'n' } } } }
    );
    expect(answer.status).toBe(202);
    const location = new URL(String(answer.headers.location));
    expect(location.pathname).toMatch(/^\/subscriptions\/[^/]+\/operationresults\/[^/]+$/);
    let result = await call('GET', location.pathname + location.search, { auth: token });
    while (result.status === 202) {
      await new Promise(r => setTimeout(r, 10));
      result = await call('GET', location.pathname + location.search, { auth: token });
    }
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      id: `${vm.id}/providers/Microsoft.Resources/tags/default`,
      properties: { tags: { ...TAG, CostCenter: 'cc-2', New: 'n' } }
    });
    expect(vm.tags).toEqual({ ...TAG, CostCenter: 'cc-2', New: 'n' });
  });

  test('an unknown operation is a 400 ErrorResponse; without tags/write, 403 naming it', async () => {
    const bad = await call(
      'PATCH',
      `${vmPath('vm-1')}/providers/Microsoft.Resources/tags/default?api-version=2021-04-01`,
      { auth: token, body: { operation: 'Add', properties: { tags: {} } } }
    );
    expect(bad.status).toBe(400);
    conforms(armErrorResponse, bad.body);
    const outside = await call(
      'PATCH',
      `/subscriptions/${SUB}/resourceGroups/rg-other/providers/Microsoft.Compute/virtualMachines/x/providers/Microsoft.Resources/tags/default?api-version=2021-04-01`,
      { auth: groupToken, body: { operation: 'Merge', properties: { tags: { a: 'b' } } } }
    );
    expect(outside.status).toBe(403);
    expect(JSON.stringify(outside.body)).toContain('Microsoft.Resources/tags/write');
  });
});

// Microsoft Learn, "Troubleshooting throttling errors in Azure - Virtual Machines": "x-ms-ratelimit-
// remaining-resource | <source RP>/<policy or bucket>;<count>" and "There will be a separate
// x-ms-ratelimit-remaining-resource header for each policy" (captured responses join them with
// commas: "Microsoft.Compute/PutVM3Min;239,Microsoft.Compute/PutVM30Min;1198"). "Compute throttling
// limits": Update VM (Update, Start, …) per resource 12, refill 4 a minute. "Understand how Azure
// Resource Manager throttles requests": global limits are 15 times the per-principal ones, reported
// in x-ms-ratelimit-remaining-subscription-global-reads/-writes. The token-bucket policy names are
// not published (ours: <Policy>Subscription, <Policy>Resource).
describe("Compute's and Resource Manager's throttling headers", () => {
  test('a start names every policy that counted it, in the published form; Resource Manager adds its global counts', async () => {
    const answer = await call('POST', `${vmPath('vm-4')}/start?api-version=2024-11-01`, { auth: token });
    expect(answer.status).toBe(202);
    const entries = String(answer.headers['x-ms-ratelimit-remaining-resource']).split(',');
    expect(entries.length).toBeGreaterThanOrEqual(2);
    for (const e of entries) expect(e).toMatch(/^Microsoft\.Compute\/[A-Za-z0-9]+;\d+$/);
    expect(entries.some(e => /^Microsoft\.Compute\/UpdateVM3Min;/.test(e))).toBe(false);
    const own = Number(answer.headers['x-ms-ratelimit-remaining-subscription-writes']);
    const global = Number(answer.headers['x-ms-ratelimit-remaining-subscription-global-writes']);
    expect(global).toBeGreaterThan(own);
    expect(global).toBeLessThanOrEqual(200 * 15);
    const read = await call('GET', `${vmPath('vm-4')}/instanceView?api-version=2024-11-01`, { auth: token });
    expect(Number(read.headers['x-ms-ratelimit-remaining-subscription-global-reads'])).toBeGreaterThan(
      Number(read.headers['x-ms-ratelimit-remaining-subscription-reads'])
    );
    expect(String(read.headers['x-ms-ratelimit-remaining-resource'])).toContain('Microsoft.Compute/');
  });

  test('"Update VM" per VM: 12 updates of one VM, then 429 with Compute\'s body naming the policy', async () => {
    // In real time and sent together, so that the bucket cannot refill (4 a minute) in between.
    const answers = await aloneInRealTime('vm-6', bearer =>
      Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          call('PATCH', `${vmPath('vm-6')}?api-version=2024-11-01`, {
            auth: bearer,
            body: { tags: { ...TAG, n: String(i) } }
          })
        )
      )
    );
    const refusedAll = answers.filter(a => a.status === 429);
    expect(answers.length - refusedAll.length).toBe(12);
    const refused = refusedAll[0];
    conforms(armErrorResponse, refused!.body);
    expect(refused!.body).toMatchObject({
      error: {
        code: 'OperationNotAllowed',
        details: [{ code: 'TooManyRequests', target: 'UpdateVMResource' }]
      }
    });
    expect(String(refused!.headers['x-ms-ratelimit-remaining-resource'])).toBe(
      'Microsoft.Compute/UpdateVMResource;0'
    );
  });
});

// VirtualMachines_ListAll (virtualMachine.json): "statusOnly=true enables fetching run time status of
// all Virtual Machines in the subscription"; paged by nextLink. Compute counts it as "High Cost Get
// VM" ("Compute throttling limits": List, List All, List By Location; 300 a minute per subscription).
describe('Compute: VirtualMachines_ListAll with statusOnly', () => {
  test("every VM of the subscription with its instance view's statuses, paged", async () => {
    const listed: { id: string; properties: { instanceView?: { statuses: { code: string }[] } } }[] = [];
    let next: string | undefined =
      `/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines?api-version=2024-11-01&statusOnly=true`;
    while (next) {
      const page = await call('GET', next, { auth: token });
      expect(page.status).toBe(200);
      expect(String(page.headers['x-ms-ratelimit-remaining-resource'])).toMatch(
        /^Microsoft\.Compute\/HighCostGetVM/
      );
      const body = page.body as { value: typeof listed; nextLink?: string };
      for (const vm of body.value) conforms(virtualMachine, vm);
      listed.push(...body.value);
      next = body.nextLink && new URL(body.nextLink).pathname + new URL(body.nextLink).search;
    }
    expect(listed.map(v => v.id.split('/').pop())).toEqual(
      expect.arrayContaining(['vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-5'])
    );
    for (const v of listed) {
      const vm = emu.vm(v.id.split('/').pop()!);
      expect(v.properties.instanceView!.statuses.map(s => s.code)).toEqual(
        instanceView(vm).statuses.map(s => s.code)
      );
    }
    const outside = await call(
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines?api-version=2024-11-01&statusOnly=true`,
      { auth: groupToken }
    );
    expect(outside.status).toBe(403);
  });
});

/**
 * The evidence a run decides by, as Azure gives it. Sources:
 * - "States and billing status of Azure Virtual Machines" (Microsoft Learn): the provisioning state
 *   is "the status of a user-initiated, control-plane operation"; `ProvisioningState/<state>[/<errorCode>]`;
 *   "Failed | Last operation on the virtual machine resource was not successful."
 * - `ProvisioningState/failed/<code>` with level Error, "Provisioning failed", a time, next to a
 *   power state that did not change: the observed form (public instance-view captures), not a page.
 * - "Use Azure Spot Virtual Machines": an eviction is the platform's; nothing published says it
 *   moves the provisioning state's time, so the emulator never moves it.
 * - "Health Resources events in Azure Event Grid": `occurredTime` is the "Timestamp when the
 *   annotation was emitted by the Azure platform", after the operation began.
 * - "Resource Health virtual machine Health Annotations": VirtualMachineSizeChanged,
 *   VirtualMachineConfigurationUpdated and VirtualMachineDeallocationInitiated are "Customer
 *   Initiated", "as requested by an authorized user or process" — whoever asked, the action included.
 */
describe('The evidence: provisioning state and annotations', () => {
  let own: Emulator;
  const name = (n: number) => `ev-${n}`;
  beforeAll(async () => {
    own = await emulator(
      {
        subscriptions: [SUB],
        apps: [{ clientId: DEFAULT_APP, secret: SECRET }],
        vms: [0, 1, 2, 3].map(n => ({
          subscriptionId: SUB,
          resourceGroup: 'rg-ev',
          name: name(n),
          tags: TAG,
          powerState: n === 0 || n === 3 ? ('deallocated' as const) : ('running' as const),
          sinceMinutes: 60 * 24
        }))
      },
      { timeScale: 200, timing: { annotationEmitS: 30, annotationLagS: 60 } }
    );
  });
  afterAll(() => own.stop());
  const settle = async (done: () => boolean) => {
    while (!done()) await new Promise(r => setTimeout(r, 10));
  };

  test('a failed start: ProvisioningState/failed/<code>, level Error, with the failure time; still deallocated', async () => {
    const vm = own.vm(name(0));
    own.model.setCapacity(vm.location, vm.vmSize, 0);
    const before = Date.parse(vm.changedAt);
    own.model.start(vm);
    await settle(() => vm.provisioning === 'failed');
    const body = instanceView(vm);
    conforms(vmInstanceView, body);
    expect(body.statuses[0]).toMatchObject({
      code: 'ProvisioningState/failed/AllocationFailed',
      level: 'Error',
      displayStatus: 'Provisioning failed'
    });
    expect(Date.parse((body.statuses[0] as { time: string }).time)).toBeGreaterThan(before);
    expect(body.statuses[1]!.code).toBe('PowerState/deallocated');
  });

  test('an eviction moves neither the provisioning state nor its time', async () => {
    const vm = own.vm(name(1));
    const before = instanceView(vm).statuses[0];
    own.model.evict(vm, 'simulated');
    await settle(() => vm.powerState === 'deallocated');
    expect(instanceView(vm).statuses[0]).toEqual(before);
    expect(instanceView(vm).statuses[1]!.code).toBe('PowerState/deallocated');
  });

  test('occurredTime is when the annotation was emitted, after the operation', async () => {
    const vm = own.vm(name(2));
    const began = own.clock.now();
    own.model.userDeallocate(vm);
    const annotation = vm.annotations.at(-1)!;
    expect(annotation.name).toBe('VirtualMachineDeallocationInitiated');
    expect(Date.parse(annotation.occurredTime) - began).toBeGreaterThanOrEqual(30_000);
    expect(annotation.visibleAt).toBeGreaterThanOrEqual(Date.parse(annotation.occurredTime));
  });

  test("the action's resize, max-price change and deallocate are annotated as a customer's", async () => {
    const vm = own.vm(name(3));
    expect(own.model.update(vm, { vmSize: 'Standard_D4s_v5' })).toMatchObject({ status: 'InProgress' });
    await settle(() => vm.provisioning !== 'updating');
    own.model.update(vm, { maxPrice: 0.5 });
    await settle(() => vm.provisioning !== 'updating');
    own.model.userDeallocate(vm); // what POST …/deallocate does (arm.ts)
    const names = vm.annotations.slice(-3).map(a => [a.name, initiatorOf(a.context)]);
    expect(names).toEqual([
      ['VirtualMachineSizeChanged', 'customer'],
      ['VirtualMachineConfigurationUpdated', 'customer'],
      ['VirtualMachineDeallocationInitiated', 'customer']
    ]);
  });

  test('capacity a deallocation frees can go to others', () => {
    const vm = own.vm(name(1));
    own.model.setCapacity(vm.location, 'Standard_D8s_v5', 0);
    const other = own.model.add({
      subscriptionId: SUB,
      resourceGroup: 'rg-ev',
      name: 'ev-big',
      vmSize: 'Standard_D8s_v5',
      powerState: 'running'
    });
    own.model.othersTakeReleasedCapacity = true;
    own.model.userDeallocate(other);
    expect(own.model.capacity(vm.location, 'Standard_D8s_v5')).toBe(0);
    own.model.othersTakeReleasedCapacity = false;
  });
});

function initiatorOf(context: string): string {
  return /customer|user/i.test(context) ? 'customer' : /platform/i.test(context) ? 'platform' : 'other';
}
