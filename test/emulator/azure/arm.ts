/**
 * Azure Resource Manager as the action meets it: Compute VMs (get, instanceView, start as a
 * long-running operation, deallocate, simulateEviction, operation status) and Resource Graph
 * `resources` queries over the emulated tables — with bearer tokens checked, RBAC enforced,
 * throttling headers and 429s, and ARM's error shape.
 *
 * Shapes follow azure-rest-api-specs: specification/compute/resource-manager/Microsoft.Compute/
 * ComputeRP/stable/2024-11-01/virtualMachine.json (VirtualMachines_Start: 200/202 with Location;
 * VirtualMachines_InstanceView) and specification/resourcegraph/resource-manager/
 * Microsoft.ResourceGraph/stable/2024-04-01/resourcegraph.json (Resources: QueryRequest → QueryResponse,
 * example ResourcesFirstPageQuery.json: `type` lower case, `$skipToken`, `resultTruncated` a string).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ScaledClock } from '../clock.js';
import { azureErrors, type ArmError } from './azure-errors.js';
import { empty, json, bearer, type Request, type Response } from '../http.js';
import { compileQuery, QueryError, type Tables } from './kql.js';
import type { Rbac } from './rbac.js';
import { argRowOf, argScaleSets, handleScaleSet, isScaleSetKind, scaleSetKind } from './scale-sets.js';
import { WINDOWS_PRICE_FACTOR, type Annotation, type SpotModel, type Vm } from './spot.js';
import { sizeInfo } from './sizes.js';
import { handleTags, tagsKind } from './tags.js';
import { guestHealthView } from './guest-health.js';
import type { Throttles } from './throttle.js';
import { verify, type KeyPair } from '../tokens.js';

export interface ArmOptions {
  model: SpotModel;
  rbac: Rbac;
  throttles: Throttles;
  clock: ScaledClock;
  entraKey: KeyPair;
  tenantId: string;
  subscriptions: string[];
  /**
   * At tenant scope Resource Graph answers for at most this many subscriptions and says so with
   * `x-ms-tenant-subscription-limit-hit: true` ("Guidance for throttled requests": 10 000).
   */
  tenantSubscriptionLimit?: number;
  base: () => string;
  /** Every request ARM answered, for tests and benchmarks to count. */
  onRequest?: (kind: string, status: number) => void;
  /**
   * Tables this Resource Graph does not offer (a fault: a cloud or tenant without one): a query
   * naming one is refused as a query naming an unknown table is.
   */
  missingTables?: ReadonlySet<string>;
  /** Each Resource Graph query, before it is answered: a test can change the fleet between pages. */
  onQuery?: (query: string) => void;
}

const VM_PATH =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)(?:\/(instanceView|start|deallocate|simulateEviction|vmSizes))?$/i;
const SKUS_PATH = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Compute\/skus$/i;
const LIST_ALL_PATH = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines$/i;
const OPERATION_PATH =
  /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Compute\/locations\/([^/]+)\/operations\/([^/]+)$/i;
const ARG_PATH = /^\/providers\/Microsoft\.ResourceGraph\/resources$/i;
const PERMISSIONS_PATH =
  /^\/subscriptions\/([^/]+)(?:\/resourcegroups\/([^/]+))?\/providers\/Microsoft\.Authorization\/permissions$/i;

export const ARM_ACTIONS = {
  read: 'Microsoft.Compute/virtualMachines/read',
  instanceView: 'Microsoft.Compute/virtualMachines/instanceView/read',
  start: 'Microsoft.Compute/virtualMachines/start/action',
  deallocate: 'Microsoft.Compute/virtualMachines/deallocate/action',
  simulateEviction: 'Microsoft.Compute/virtualMachines/simulateEviction/action',
  operation: 'Microsoft.Compute/locations/operations/read',
  write: 'Microsoft.Compute/virtualMachines/write',
  vmSizes: 'Microsoft.Compute/virtualMachines/vmSizes/read',
  skus: 'Microsoft.Compute/skus/read',
  health: 'Microsoft.ResourceHealth/availabilityStatuses/read',
  subscriptions: 'Microsoft.Resources/subscriptions/read'
};

export function armKind(req: Request): string | undefined {
  if (ARG_PATH.test(req.path)) return 'arg';
  if (PERMISSIONS_PATH.test(req.path)) return 'permissions';
  if (OPERATION_PATH.test(req.path)) return 'operation';
  const tags = tagsKind(req);
  if (tags) return tags;
  if (SKUS_PATH.test(req.path)) return 'skus';
  if (LIST_ALL_PATH.test(req.path)) return 'listAll';
  const scaleSet = scaleSetKind(req);
  if (scaleSet) return scaleSet;
  const vm = VM_PATH.exec(req.path);
  if (!vm) return undefined;
  if (!vm[4] && req.method === 'PATCH') return 'update';
  return vm[4] ? vm[4].charAt(0).toLowerCase() + vm[4].slice(1) : 'get';
}

export async function handleArm(req: Request, o: ArmOptions): Promise<Response | undefined> {
  const kind = armKind(req);
  if (!kind) return undefined;
  const requestId = randomUUID();
  const ids = { 'x-ms-request-id': requestId, 'x-ms-correlation-request-id': requestId };
  const auth = await authenticate(req, o);
  if ('error' in auth) return withHeaders(auth.error, ids);
  const principal = auth.principal;
  const response =
    kind === 'arg'
      ? resourceGraph(req, principal, o)
      : kind === 'permissions'
        ? permissions(req, principal, o)
        : kind === 'skus'
          ? resourceSkus(req, principal, o)
          : kind === 'listAll'
            ? listAll(req, principal, o)
            : kind === 'update'
              ? updateVm(req, principal, o)
              : kind === 'tags' || kind === 'tagsResult'
                ? handleTags(req, kind, principal, o)
                : isScaleSetKind(kind)
                  ? handleScaleSet(req, kind, principal, o)
                  : compute(req, kind, principal, o);
  o.onRequest?.(kind, response.status);
  return withHeaders(response, ids);
}

function withHeaders(r: Response, headers: Record<string, string>): Response {
  return { ...r, headers: { ...headers, ...r.headers } };
}

async function authenticate(
  req: Request,
  o: ArmOptions
): Promise<{ principal: string } | { error: Response }> {
  const challenge = {
    'WWW-Authenticate': `Bearer authorization_uri="${o.base()}/${o.tenantId}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`
  };
  const token = bearer(req);
  if (!token) {
    return {
      error: json(
        401,
        {
          error: {
            code: 'AuthenticationFailed',
            message: "Authentication failed. The 'Authorization' header is missing."
          }
        },
        challenge
      )
    };
  }
  const verified = await verify(o.entraKey, token);
  if (!verified.ok) {
    return verified.reason === 'expired'
      ? {
          error: json(401, azureErrors.expiredToken().body, {
            ...challenge,
            'WWW-Authenticate': challenge['WWW-Authenticate'].replace(
              /error_description="[^"]*"/,
              'error_description="The access token is expired."'
            )
          })
        }
      : {
          error: json(
            401,
            { error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } },
            challenge
          )
        };
  }
  if (verified.claims.aud !== new URL(o.base()).origin) {
    return {
      error: json(
        401,
        {
          error: {
            code: 'InvalidAuthenticationTokenAudience',
            message: `The access token has been obtained for wrong audience or resource '${verified.claims.aud}'. It should exactly match with one of the allowed audiences '${new URL(o.base()).origin}'.`
          }
        },
        challenge
      )
    };
  }
  return { principal: String(verified.claims.appid) };
}

export function armError(e: ArmError, headers: Record<string, string> = {}): Response {
  return json(e.status, e.body, headers);
}

export function throttled(retryAfterMs: number, o: ArmOptions, code = 'TooManyRequests'): Response {
  return json(
    429,
    { error: { code, message: azureErrors.throttled().body.error.message } },
    retryHeaders(retryAfterMs, o)
  );
}

/** Compute's 429: its own body and the wait until the refusing bucket has a token again. */
export function computeThrottled(
  refused: { retryAfterMs: number; policy: string; allowed: number },
  o: ArmOptions
): Response {
  const now = o.clock.now();
  const e = azureErrors.computeThrottled(
    refused.policy,
    refused.allowed,
    refused.allowed + 1,
    new Date(now).toISOString(),
    new Date(now + refused.retryAfterMs).toISOString()
  );
  return json(429, e.body, {
    ...retryHeaders(refused.retryAfterMs, o),
    'x-ms-ratelimit-remaining-resource': `Microsoft.Compute/${refused.policy};0`
  });
}

/**
 * Retry-After is whole seconds on the client's clock, as Resource Manager sends it ("Understand how
 * Azure Resource Manager throttles requests": a Retry-After value "specifies the number of seconds
 * your application should wait (or sleep) before sending the next request"). For a client on the
 * real clock with a time scale, the emulator adds x-ms-retry-after-ms (which Azure's SDKs read
 * first) for the real wait.
 */
export function retryHeaders(emulatedMs: number, o: Pick<ArmOptions, 'clock'>): Record<string, string> {
  const ms = Math.ceil(o.clock.forAzureClients(emulatedMs));
  const headers: Record<string, string> = { 'Retry-After': String(Math.max(1, Math.ceil(ms / 1000))) };
  if (!o.clock.azureClientsOnEmulatedClock && o.clock.scale !== 1)
    headers['x-ms-retry-after-ms'] = String(ms);
  return headers;
}

function compute(req: Request, kind: string, principal: string, o: ArmOptions): Response {
  if (kind === 'operation') {
    const [, sub, , opId] = OPERATION_PATH.exec(req.path)!;
    const op = o.model.operations.get(opId!);
    // Judged on the VM the operation belongs to: a role on its resource group may follow its start.
    const opScope = (op && o.model.vms.get(op.vmKey)?.id) ?? sub!;
    if (!o.rbac.can(principal, ARM_ACTIONS.operation, opScope))
      return forbidden(principal, ARM_ACTIONS.operation, req.path);
    const read = o.throttles.read(principal, sub!.toLowerCase());
    if (!read.ok) return throttled(read.retryAfterMs, o);
    if (!op)
      return json(404, { error: { code: 'NotFound', message: `The operation '${opId}' was not found.` } });
    const [, , location] = OPERATION_PATH.exec(req.path)!;
    const opRead = o.throttles.computeOperationRead(sub!.toLowerCase(), location!.toLowerCase(), op.vmKey);
    if (!opRead.ok) return computeThrottled(opRead, o);
    const counted = { ...read.headers, 'x-ms-ratelimit-remaining-resource': opRead.header };
    if (req.url.searchParams.get('monitor') === 'true')
      return op.status === 'InProgress'
        ? empty(202, { ...counted, ...retryHeaders(1000, o) })
        : empty(200, counted);
    return json(
      200,
      {
        startTime: op.startTime,
        ...(op.endTime ? { endTime: op.endTime } : {}),
        status: op.status,
        ...(op.error ? { error: op.error } : {}),
        name: op.id
      },
      counted
    );
  }
  const [, sub, rg, name] = VM_PATH.exec(req.path)!;
  const subscription = sub!.toLowerCase();
  const scope = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const isWrite = req.method === 'POST';
  const action = isWrite
    ? ARM_ACTIONS[kind as 'start' | 'deallocate' | 'simulateEviction']
    : kind === 'instanceView'
      ? ARM_ACTIONS.instanceView
      : kind === 'vmSizes'
        ? ARM_ACTIONS.vmSizes
        : ARM_ACTIONS.read;
  const reads = ['get', 'instanceView', 'vmSizes'];
  if (!action || (isWrite ? reads.includes(kind) : !reads.includes(kind))) {
    return methodNotAllowed(req.method);
  }
  const admitted = admit(o, principal, action, scope, subscription, isWrite);
  if ('refused' in admitted) return admitted.refused;
  let limitHeader = admitted.headers;
  const vm = o.model.get(scope);
  if (!vm) return armError(azureErrors.notFound(rg!, name!), limitHeader);

  if (!isWrite) {
    const vmRead = o.throttles.computeRead(subscription, vm.location.toLowerCase(), vm.key);
    if (!vmRead.ok) return computeThrottled(vmRead, o);
    limitHeader = { ...limitHeader, 'x-ms-ratelimit-remaining-resource': vmRead.header };
  }
  switch (kind) {
    case 'get':
      return json(200, vmResource(vm), limitHeader);
    case 'instanceView':
      return json(200, instanceView(vm), limitHeader);
    case 'vmSizes': {
      // Microsoft Learn, "Resize a virtual machine": "If your VM is still running and you don't see
      // the size you want in the list, stopping the virtual machine may reveal more sizes." A running
      // VM's hardware cluster here is one processor make (AMD or Intel).
      const amd = sizeInfo(vm.vmSize)?.amd;
      const sizes = o.model
        .offeredSizes()
        .filter(s => vm.powerState === 'deallocated' || sizeInfo(s)?.amd === amd);
      return json(200, { value: sizes.map(vmSizeEntry) }, limitHeader);
    }
    case 'deallocate':
      o.model.userDeallocate(vm);
      return empty(200, limitHeader);
    case 'simulateEviction':
      o.model.evict(vm, 'simulated');
      return empty(204, limitHeader);
    default: {
      const update = o.throttles.computeUpdate(subscription, vm.location.toLowerCase(), vm.key);
      if (!update.ok) return computeThrottled(update, o);
      const started = o.model.start(vm);
      if ('error' in started)
        return armError(started.error, {
          ...limitHeader,
          'x-ms-ratelimit-remaining-resource': update.header
        });
      return startAccepted(operationUrl(req, o, sub!, vm.location, started.operation.id), {
        ...limitHeader,
        'x-ms-ratelimit-remaining-resource': update.header
      });
    }
  }
}

/** Entries per page of a permissions listing: Azure pages it by `nextLink`; one a page makes callers follow it. */
export const PERMISSIONS_PAGE_SIZE = 1;

/**
 * `GET /subscriptions/{id}/resourcegroups/{rg}/providers/Microsoft.Authorization/permissions`
 * (Permissions_ListForResourceGroup, specification/authorization/resource-manager/
 * Microsoft.Authorization/stable/2022-04-01/authorization-RoleDefinitionsCalls.json): the caller's
 * own permissions there — one `Permission` entry per role assignment that applies (at the group or
 * above), `{ actions, notActions, dataActions, notDataActions }`, paged by `nextLink`
 * (x-ms-pageable). The spec documents it at resource-group and resource scope only. The
 * subscription-scope path, which the spec does not describe, answers too, but with only the
 * assignments at the subscription or above: a role given on a group is missing from it.
 */
function permissions(req: Request, principal: string, o: ArmOptions): Response {
  const [, sub, group] = PERMISSIONS_PATH.exec(req.path)!;
  if (req.method !== 'GET') return methodNotAllowed(req.method);
  if (!req.url.searchParams.get('api-version'))
    return json(400, {
      error: {
        code: 'MissingApiVersionParameter',
        message: 'The api-version query parameter (?api-version=) is required for all requests.'
      }
    });
  const read = o.throttles.read(principal, sub!.toLowerCase());
  if (!read.ok) return throttled(read.retryAfterMs, o);
  const headers = read.headers;
  if (group && ![...o.model.vms.values()].some(vm => sameGroup(vm, sub!, group)))
    return json(
      404,
      { error: { code: 'ResourceGroupNotFound', message: `Resource group '${group}' could not be found.` } },
      headers
    );
  const scope = `/subscriptions/${sub}${group ? `/resourcegroups/${group}` : ''}`;
  const entries = o.rbac.assignmentsAt(principal, scope).map(a => ({
    actions: a.actions,
    notActions: a.notActions,
    dataActions: [],
    notDataActions: []
  }));
  const offset = Number(req.url.searchParams.get('$skipToken') ?? 0);
  if (!Number.isInteger(offset) || offset < 0 || offset > entries.length)
    return json(400, { error: { code: 'InvalidSkipToken', message: 'The skip token is invalid.' } }, headers);
  const end = offset + PERMISSIONS_PAGE_SIZE;
  const next = new URL(`${o.base()}${req.path}`);
  next.searchParams.set('api-version', req.url.searchParams.get('api-version')!);
  next.searchParams.set('$skipToken', String(end));
  return json(
    200,
    { value: entries.slice(offset, end), ...(end < entries.length ? { nextLink: next.toString() } : {}) },
    headers
  );
}

function sameGroup(vm: Vm, subscriptionId: string, group: string): boolean {
  return (
    !vm.deleted &&
    vm.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
    vm.resourceGroup.toLowerCase() === group.toLowerCase()
  );
}

export function forbidden(principal: string, action: string, scope: string): Response {
  return armError(azureErrors.authorizationFailed(principal, action, scope));
}

export function methodNotAllowed(method: string): Response {
  return json(405, {
    error: {
      code: 'MethodNotAllowed',
      message: `The requested resource does not support http method '${method}'.`
    }
  });
}

/**
 * The caller's role on the scope, then its ARM read or write bucket in the subscription: the
 * refusal to send, or the bucket's headers for the answer.
 */
export function admit(
  o: ArmOptions,
  principal: string,
  action: string,
  scope: string,
  subscription: string,
  write: boolean
): { refused: Response } | { headers: Record<string, string> } {
  if (!o.rbac.can(principal, action, scope)) return { refused: forbidden(principal, action, scope) };
  const bucket = write
    ? o.throttles.write(principal, subscription)
    : o.throttles.read(principal, subscription);
  return bucket.ok ? { headers: bucket.headers } : { refused: throttled(bucket.retryAfterMs, o) };
}

/** Where the status of a Compute operation is read (Azure-AsyncOperation), at the caller's api-version. */
export function operationUrl(
  req: Request,
  o: ArmOptions,
  subscription: string,
  location: string,
  operationId: string
): string {
  return `${o.base()}/subscriptions/${subscription}/providers/Microsoft.Compute/locations/${location}/operations/${operationId}?p=${randomUUID()}&api-version=${req.url.searchParams.get('api-version')}`;
}

/** A start taken on: 202, its status to poll (Azure-AsyncOperation) and its end to wait for (Location). */
export function startAccepted(statusUrl: string, headers: Record<string, string>): Response {
  return empty(202, { ...headers, 'Azure-AsyncOperation': statusUrl, Location: `${statusUrl}&monitor=true` });
}

/** Where Resource Graph places each row: the tenant, no kind, the location, the group lower-cased, the subscription. */
export function argPlacement(
  r: { location: string; resourceGroup: string; subscriptionId: string },
  tenantId: string
) {
  return {
    tenantId,
    kind: '',
    location: r.location,
    resourceGroup: r.resourceGroup.toLowerCase(),
    subscriptionId: r.subscriptionId
  };
}

/** The VM as `GET …/virtualMachines/{name}` returns it (the fields a Spot VM has). */
export function vmResource(vm: Vm) {
  return {
    name: vm.name,
    id: vm.id,
    type: 'Microsoft.Compute/virtualMachines',
    location: vm.location,
    tags: vm.tags,
    ...(vm.zone ? { zones: [vm.zone] } : {}),
    properties: {
      vmId: vm.vmId,
      hardwareProfile: { vmSize: vm.vmSize },
      storageProfile: { osDisk: { osType: vm.osType, name: `${vm.name}_OsDisk`, createOption: 'FromImage' } },
      provisioningState: 'Succeeded',
      priority: vm.priority,
      ...(vm.priority === 'Spot'
        ? { evictionPolicy: vm.evictionPolicy, billingProfile: { maxPrice: vm.maxPrice } }
        : {}),
      timeCreated: vm.createdAt,
      ...(vm.scaleSet ? { virtualMachineScaleSet: { id: vm.scaleSet.id } } : {})
    }
  };
}

/**
 * `GET …/instanceView`. While an operation runs Azure shows `ProvisioningState/updating` with no
 * time; afterwards the time is when the operation ended (a failed start: `ProvisioningState/failed/<code>`
 * and the failure's time; an eviction moves neither) (VirtualMachineInstanceView.statuses,
 * InstanceViewStatus.time optional: specification/compute/…/ComputeRP/stable/2024-11-01/virtualMachine.json).
 */
export function instanceView(vm: Vm) {
  const power = vm.powerState;
  return {
    computerName: vm.name,
    osName: 'ubuntu',
    osVersion: '24.04',
    ...guestHealthView(vm.guest, vm.osType),
    statuses: [
      vm.provisioning === 'updating'
        ? { code: 'ProvisioningState/updating', level: 'Info', displayStatus: 'Updating' }
        : vm.provisioning === 'failed'
          ? {
              // `ProvisioningState/<state>[/<errorCode>]` (Microsoft Learn, "States and billing status
              // of Azure Virtual Machines"); level Error and "Provisioning failed" as observed.
              code: `ProvisioningState/failed/${vm.provisioningError ?? 'InternalExecutionError'}`,
              level: 'Error',
              displayStatus: 'Provisioning failed',
              message:
                'Allocation failed. We do not have sufficient capacity for the requested VM size in this region.',
              time: vm.changedAt
            }
          : {
              code: 'ProvisioningState/succeeded',
              level: 'Info',
              displayStatus: 'Provisioning succeeded',
              time: vm.changedAt
            },
      { code: `PowerState/${power}`, level: 'Info', displayStatus: `VM ${power}` }
    ]
  };
}

// ---- Resource Graph ----------------------------------------------------------------------------

function argError(
  status: number,
  details: { code: string; message: string }[],
  headers: Record<string, string> = {}
): Response {
  return json(
    status,
    {
      error: {
        code: status === 429 ? 'RateLimiting' : 'BadRequest',
        message: `Please provide below info when asking for support: timestamp = ${new Date().toISOString()}, correlationId = ${randomUUID()}.`,
        details
      }
    },
    headers
  );
}

function resourceGraph(req: Request, principal: string, o: ArmOptions): Response {
  if (req.method !== 'POST')
    return argError(405, [{ code: 'MethodNotAllowed', message: 'Only POST is supported.' }]);
  if (o.onQuery) {
    let peek: unknown;
    try {
      peek = req.json();
    } catch {
      peek = undefined;
    }
    const text = (peek as { query?: unknown } | undefined)?.query;
    o.onQuery(typeof text === 'string' ? text : '');
  }
  const quota = o.throttles.arg(principal);
  const resetsAfter = hms(o.clock.forAzureClients(quota.resetsAfterMs));
  const quotaHeaders: Record<string, string> = {
    'x-ms-user-quota-remaining': String(quota.remaining),
    'x-ms-user-quota-resets-after': resetsAfter
  };
  if (!quota.ok) {
    return argError(
      429,
      [
        {
          code: 'RateLimiting',
          message:
            'Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.'
        }
      ],
      {
        ...quotaHeaders,
        ...retryHeaders(quota.resetsAfterMs, o)
      }
    );
  }
  let body: { query?: unknown; subscriptions?: unknown; options?: Record<string, unknown> };
  try {
    body = req.json() as typeof body;
  } catch {
    return argError(
      400,
      [
        {
          code: 'InvalidRequestContent',
          message: 'The request content was invalid and could not be deserialized.'
        }
      ],
      quotaHeaders
    );
  }
  if (typeof body?.query !== 'string' || !body.query.trim()) {
    return argError(400, [{ code: 'InvalidQuery', message: 'Query is missing.' }], quotaHeaders);
  }
  const top = Number(body.options?.$top ?? 100);
  if (!Number.isInteger(top) || top < 1 || top > 1000) {
    return argError(
      400,
      [{ code: 'InvalidTop', message: "The '$top' option must be between 1 and 1000." }],
      quotaHeaders
    );
  }
  // Long explicit subscription lists are refused; 1000 per request is the limit the action works within.
  if (Array.isArray(body.subscriptions) && body.subscriptions.length > 1000) {
    return argError(
      400,
      [
        {
          code: 'InvalidSubscriptionsCount',
          message: `The request names ${body.subscriptions.length} subscriptions; at most 1000 are allowed in one request.`
        }
      ],
      quotaHeaders
    );
  }
  const readable = o.rbac.readableSubscriptions(principal, o.subscriptions);
  const tenantLimit = o.tenantSubscriptionLimit ?? 10_000;
  const limitHit = !Array.isArray(body.subscriptions) && readable.length > tenantLimit;
  if (limitHit) quotaHeaders['x-ms-tenant-subscription-limit-hit'] = 'true';
  const requested = Array.isArray(body.subscriptions)
    ? (body.subscriptions as string[]).map(s => String(s).toLowerCase())
    : readable.slice(0, tenantLimit);
  const scope = requested.filter(s => readable.includes(s));
  if (Array.isArray(body.subscriptions) && scope.length === 0) {
    return argError(
      403,
      [
        {
          code: 'AuthorizationFailed',
          message: `The client '${principal}' does not have authorization to perform action '${ARM_ACTIONS.subscriptions}' over scope '/subscriptions/${requested[0]}', or the subscriptions do not exist.`
        }
      ],
      quotaHeaders
    );
  }
  let result;
  try {
    // Compiled once per query text, but run over tables built now: every page sees the model as it is.
    const query = compileQuery(body.query);
    const offered = [...query.tables].filter(t => !o.missingTables?.has(t));
    result = query.run(argTables(o, principal, scope, new Set(offered)));
  } catch (error) {
    if (error instanceof QueryError) {
      // Published shape (errors quoted in Microsoft's issues, e.g. MicrosoftDocs/azure-docs#45495):
      // 400, error.code BadRequest, the "Please provide below info…" message, details[] with
      // InvalidQuery "Query is invalid…" and then the specific code. The specific codes and messages
      // for the join limit are modelled (kql.ts `checkJoinLimit`): Microsoft publishes neither.
      return argError(
        400,
        [
          {
            code: 'InvalidQuery',
            message:
              'Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.'
          },
          { code: error.code, message: error.message }
        ],
        quotaHeaders
      );
    }
    throw error;
  }
  const fingerprint = createHash('sha256')
    .update(`${body.query}|${scope.join(',')}`)
    .digest('hex')
    .slice(0, 16);
  let offset = Number(body.options?.$skip ?? 0);
  const token = body.options?.$skipToken;
  if (typeof token === 'string' && token) {
    try {
      const decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { f: string; o: number };
      if (decoded.f !== fingerprint) throw new Error('another query');
      offset = decoded.o;
    } catch {
      return argError(
        400,
        [{ code: 'InvalidSkipToken', message: 'The skip token is invalid or belongs to another query.' }],
        quotaHeaders
      );
    }
  }
  const page = result.rows.slice(offset, offset + top);
  const more = offset + top < result.rows.length;
  // ARG pages only queries that project `id`; others are cut at $top and marked truncated.
  const pageable = result.columns.includes('id');
  const response: Record<string, unknown> = {
    totalRecords: result.rows.length,
    count: page.length,
    resultTruncated: more && !pageable ? 'true' : 'false',
    facets: [],
    data:
      body.options?.resultFormat === 'table'
        ? {
            columns: result.columns.map(name => ({ name, type: 'object' })),
            rows: page.map(r => result.columns.map(c => r[c] ?? null))
          }
        : page
  };
  if (more && pageable)
    response.$skipToken = Buffer.from(JSON.stringify({ f: fingerprint, o: offset + top })).toString('base64');
  return json(200, response, quotaHeaders);
}

function hms(ms: number): string {
  const total = Math.max(0, ms) / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}

/**
 * The tables as Resource Graph holds them: what the principal may read in the requested scope. Only
 * the tables the query names (`wanted`) are built; a name that is no table stays unknown.
 */
function argTables(o: ArmOptions, principal: string, scope: string[], wanted: ReadonlySet<string>): Tables {
  const resources: Record<string, unknown>[] = [];
  const computeResources: Record<string, unknown>[] = [];
  const health: Record<string, unknown>[] = [];
  const healthChanges: Record<string, unknown>[] = [];
  const rows = wanted.has('resources') || wanted.has('computeresources');
  const annotations = wanted.has('healthresources');
  const changes = wanted.has('healthresourcechanges');
  const can = readCheck(o, principal);
  for (const vm of o.model.vms.values()) {
    const sub = vm.subscriptionId.toLowerCase();
    if (!scope.includes(sub)) continue;
    if (vm.deleted) continue;
    if (rows) {
      const placed = argRowOf(vm, action => can(action, vm), o.tenantId, ARM_ACTIONS.read);
      if (placed) (placed.table === 'resources' ? resources : computeResources).push(placed.row);
    }
    if (!(annotations || changes) || !can(ARM_ACTIONS.health, vm)) continue;
    const current = annotations ? o.model.currentAnnotation(vm) : undefined;
    if (current) health.push(annotationRow(vm, current, o.tenantId));
    if (changes) healthChanges.push(...annotationChanges(vm, o.model.visibleAnnotations(vm), o.tenantId));
  }
  if (wanted.has('resources')) resources.push(...argScaleSets(o, principal, scope));
  const tables: Tables = {};
  if (wanted.has('resources')) tables.resources = resources;
  if (wanted.has('computeresources')) tables.computeresources = computeResources;
  if (annotations) tables.healthresources = health;
  if (changes) tables.healthresourcechanges = healthChanges;
  if (wanted.has('spotresources')) tables.spotresources = scope.length ? spotResources(o.model) : [];
  return tables;
}

/**
 * Whether the principal may perform an action on a VM, as `Rbac.can` decides it, asked once per
 * subscription first: an assignment that grants the action on the subscription grants it on every
 * resource below it ("Understand scope for Azure RBAC"), so only where none does can the answer
 * differ from VM to VM (a role on one resource group), and only then is each VM asked. The answers
 * live for one request: a later request asks the role assignments again.
 */
function readCheck(o: ArmOptions, principal: string): (action: string, vm: Vm) => boolean {
  const wide = new Map<string, boolean>();
  return (action, vm) => {
    const key = `${action}|${vm.subscriptionId.toLowerCase()}`;
    let granted = wide.get(key);
    if (granted === undefined) wide.set(key, (granted = o.rbac.can(principal, action, vm.subscriptionId)));
    return granted || o.rbac.can(principal, action, vm.id);
  };
}

const annotationId = (vm: Vm) => `${vm.id}/providers/Microsoft.ResourceHealth/resourceAnnotations/current`;

/** `HealthResources`, type microsoft.resourcehealth/resourceannotations: one current annotation per VM. */
function annotationRow(vm: Vm, a: Annotation, tenantId: string) {
  const { visibleAt: _visibleAt, missing: _missing, ...properties } = a;
  return {
    id: annotationId(vm),
    name: 'current',
    type: 'microsoft.resourcehealth/resourceannotations',
    ...argPlacement(vm, tenantId),
    properties: {
      targetResourceId: vm.id,
      targetResourceType:
        vm.kind === 'vmss-uniform'
          ? 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines'
          : 'Microsoft.Compute/virtualMachines',
      ...properties,
      annotationName: a.name
    },
    tags: null
  };
}

/**
 * `HealthResourceChanges` (14 days): one `microsoft.resources/changes` row per annotation change,
 * listing only the properties that changed — a repeated annotation name is absent from it.
 * Shape: Microsoft Learn, Resource Graph sample queries for healthresourcechanges, and "Get
 * resource changes" (changeType, changeAttributes.timestamp, changes[path].previousValue/newValue).
 */
function annotationChanges(vm: Vm, annotations: Annotation[], tenantId: string) {
  const fields = ['annotationName', 'context', 'category', 'reason', 'summary', 'occurredTime'] as const;
  return annotations.map((a, i) => {
    const before = annotations[i - 1];
    const value = (x: Annotation, f: (typeof fields)[number]) => (f === 'annotationName' ? x.name : x[f]);
    const changes: Record<string, { previousValue: string | null; newValue: string }> = {};
    for (const f of fields) {
      if (before && value(before, f) === value(a, f)) continue;
      changes[`properties.${f}`] = { previousValue: before ? value(before, f) : null, newValue: value(a, f) };
    }
    const changeId = createHash('sha256')
      .update(`${vm.key}|${i}|${a.occurredTime}`)
      .digest('hex')
      .slice(0, 32);
    return {
      id: `${annotationId(vm)}/providers/Microsoft.Resources/changes/${changeId}`,
      name: changeId,
      type: 'microsoft.resources/changes',
      ...argPlacement(vm, tenantId),
      properties: {
        targetResourceId: annotationId(vm),
        targetResourceType: 'microsoft.resourcehealth/resourceannotations',
        changeType: before ? 'Update' : 'Create',
        changeAttributes: {
          timestamp: new Date(a.visibleAt).toISOString(),
          changesCount: Object.keys(changes).length
        },
        changes
      },
      tags: null
    };
  });
}

/** What Resource Graph adds to a VM's row: the power state as it last saw it (it lags the truth). */
export function argExtended(vm: Pick<Vm, 'argPowerState'>) {
  return {
    instanceView: {
      powerState: {
        code: `PowerState/${vm.argPowerState}`,
        level: 'Info',
        displayStatus: `VM ${vm.argPowerState}`
      }
    }
  };
}

/** A VM row of the `resources` table: ARG lower-cases `type` and adds `properties.extended.instanceView`. */
export function argVm(vm: Vm, tenantId: string) {
  const resource = vmResource(vm);
  return {
    id: vm.id,
    name: vm.name,
    type: 'microsoft.compute/virtualmachines',
    ...argPlacement(vm, tenantId),
    managedBy: '',
    sku: null,
    plan: null,
    properties: {
      ...resource.properties,
      extended: argExtended(vm)
    },
    tags: vm.argTags ?? vm.tags,
    identity: null,
    zones: vm.zone ? [vm.zone] : null,
    extendedLocation: null
  };
}

/**
 * `SpotResources`: Spot price history (90 days) per size, OS and region, and the eviction rate band
 * per size and region (28 days), for the sizes the model offers in the regions in play. Shape from
 * Microsoft Learn, "Use Azure Spot Virtual Machines" (Azure Resource Graph sample queries:
 * `type =~ 'microsoft.compute/skuspotpricehistory/ostype/location'`, `sku.name`,
 * `properties.osType`, `properties.spotPrices[0].priceUSD` the latest; `type =~
 * 'microsoft.compute/skuspotevictionrate/location'`, `properties.evictionRate`).
 */
function spotResources(model: SpotModel): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const location of model.locations()) {
    for (const size of model.offeredSizes()) {
      for (const osType of ['Linux', 'Windows'] as const) {
        // Windows carries its licence in the Spot price.
        const factor = osType === 'Windows' ? WINDOWS_PRICE_FACTOR : 1;
        rows.push({
          id: `/providers/Microsoft.Compute/locations/${location}/skuSpotPriceHistory/${size}/osTypes/${osType}`,
          name: size,
          type: 'microsoft.compute/skuspotpricehistory/ostype/location',
          location,
          sku: { name: size },
          properties: {
            osType,
            location,
            skuName: size,
            spotPrices: model.prices90Days(location, size).map(p => ({
              effectiveDate: new Date(p.at).toISOString(),
              priceUSD: Math.round(p.price * factor * 1e6) / 1e6
            }))
          }
        });
      }
      rows.push({
        id: `/providers/Microsoft.Compute/locations/${location}/skuSpotEvictionRate/${size}`,
        name: size,
        type: 'microsoft.compute/skuspotevictionrate/location',
        location,
        sku: { name: size },
        properties: { location, skuName: size, evictionRate: model.evictionRate(location, size) }
      });
    }
  }
  return rows;
}

/** One entry of `GET …/virtualMachines/{vm}/vmSizes` (VirtualMachineSize in virtualMachine.json). */
function vmSizeEntry(name: string) {
  const info = sizeInfo(name)!;
  return {
    name,
    numberOfCores: info.vCPUs,
    osDiskSizeInMB: 1_047_552,
    resourceDiskSizeInMB: info.tempDiskMB,
    memoryInMB: info.memoryGB * 1024,
    maxDataDiskCount: Math.min(64, info.vCPUs * 2)
  };
}

/**
 * `GET /subscriptions/{id}/providers/Microsoft.Compute/skus` (ResourceSkus_List, api-version
 * 2021-07-01, specification/compute/resource-manager/Microsoft.Compute/Skus/stable/2021-07-01/skus.json):
 * the VM sizes per region with their zones, capabilities and `restrictions` for the subscription
 * (type Location or Zone, reasonCode NotAvailableForSubscription). `$filter=location eq '…'` is the
 * only filter supported.
 */
function resourceSkus(req: Request, principal: string, o: ArmOptions): Response {
  const [, sub] = SKUS_PATH.exec(req.path)!;
  if (req.method !== 'GET') return methodNotAllowed(req.method);
  if (!o.rbac.can(principal, ARM_ACTIONS.skus, sub!))
    return forbidden(principal, ARM_ACTIONS.skus, `/subscriptions/${sub}`);
  const read = o.throttles.read(principal, sub!.toLowerCase());
  if (!read.ok) return throttled(read.retryAfterMs, o);
  const filter = req.url.searchParams.get('$filter');
  let locations = o.model.locations();
  if (filter) {
    const m = /^location eq '([^']+)'$/i.exec(filter.trim());
    if (!m)
      return json(400, {
        error: {
          code: 'InvalidFilter',
          message: `The filter '${filter}' is not supported. Only location eq '<location>' is.`
        }
      });
    locations = [m[1]!.toLowerCase()];
  }
  const zones = ['1', '2', '3'];
  const value = locations.flatMap(location =>
    o.model.offeredSizes().map(name => {
      const info = sizeInfo(name)!;
      const restricted = o.model.restrictions.filter(
        r => r.location.toLowerCase() === location && r.vmSize.toLowerCase() === name.toLowerCase()
      );
      return {
        resourceType: 'virtualMachines',
        name,
        tier: 'Standard',
        size: name.replace(/^Standard_/, ''),
        family: info.family,
        locations: [location],
        locationInfo: [{ location, zones, zoneDetails: [] }],
        capabilities: [
          { name: 'vCPUs', value: String(info.vCPUs) },
          { name: 'MemoryGB', value: String(info.memoryGB) },
          // The published Spot flag and temp disk (skus.json example ListAvailableResourceSkusForARegion.json).
          { name: 'MaxResourceVolumeMB', value: String(info.tempDiskMB) },
          {
            name: 'LowPriorityCapable',
            value: o.model.spotIncapable.has(name.toLowerCase()) ? 'False' : 'True'
          }
        ],
        restrictions: restricted.map(r =>
          r.zones
            ? {
                type: 'Zone',
                values: [location],
                restrictionInfo: { locations: [location], zones: r.zones },
                reasonCode: 'NotAvailableForSubscription'
              }
            : {
                type: 'Location',
                values: [location],
                restrictionInfo: { locations: [location] },
                reasonCode: 'NotAvailableForSubscription'
              }
        )
      };
    })
  );
  return json(200, { value }, read.headers);
}

/**
 * `PATCH …/virtualMachines/{vm}` (VirtualMachines_Update): tags, `hardwareProfile.vmSize`,
 * `billingProfile.maxPrice`. A write (ARM's write bucket) and a Compute "Update VM" (its per-VM budget).
 */
function updateVm(req: Request, principal: string, o: ArmOptions): Response {
  const [, sub, rg, name] = VM_PATH.exec(req.path)!;
  const subscription = sub!.toLowerCase();
  const scope = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
  if (!o.rbac.can(principal, ARM_ACTIONS.write, subscription))
    return forbidden(principal, ARM_ACTIONS.write, scope);
  const bucket = o.throttles.write(principal, subscription);
  if (!bucket.ok) return throttled(bucket.retryAfterMs, o);
  const vm = o.model.get(scope);
  if (!vm) return armError(azureErrors.notFound(rg!, name!), bucket.headers);
  const update = o.throttles.computeUpdate(subscription, vm.location.toLowerCase(), vm.key);
  if (!update.ok) return computeThrottled(update, o);
  const limitHeader = { ...bucket.headers, 'x-ms-ratelimit-remaining-resource': update.header };
  let body: {
    tags?: unknown;
    properties?: { hardwareProfile?: { vmSize?: unknown }; billingProfile?: { maxPrice?: unknown } };
  };
  try {
    body = req.json() as typeof body;
  } catch {
    return json(400, {
      error: {
        code: 'InvalidRequestContent',
        message: 'The request content was invalid and could not be deserialized.'
      }
    });
  }
  const invalid = (target: string, message: string) =>
    json(400, { error: { code: 'InvalidParameter', message, target } }, limitHeader);
  const vmSize = body?.properties?.hardwareProfile?.vmSize;
  const maxPrice = body?.properties?.billingProfile?.maxPrice;
  if (vmSize !== undefined && typeof vmSize !== 'string')
    return invalid('hardwareProfile.vmSize', 'The value of parameter hardwareProfile.vmSize is invalid.');
  if (maxPrice !== undefined && (typeof maxPrice !== 'number' || (maxPrice !== -1 && !(maxPrice > 0))))
    return invalid('billingProfile.maxPrice', 'The max price must be -1 or a positive number of US dollars.');
  if (
    body?.tags !== undefined &&
    (typeof body.tags !== 'object' || body.tags === null || Array.isArray(body.tags))
  )
    return invalid('tags', 'Tags must be an object of names and string values.');
  const refused = o.model.update(vm, {
    tags: body?.tags as Record<string, string> | undefined,
    vmSize,
    maxPrice: maxPrice as number | undefined
  });
  if (refused && 'body' in refused) return armError(refused, limitHeader);
  const headers = limitHeader;
  if (!refused) return json(200, vmResource(vm), headers);
  // A resize or repricing runs on: 200 with provisioningState Updating and the operation to follow.
  const resource = vmResource(vm);
  return json(
    200,
    { ...resource, properties: { ...resource.properties, provisioningState: 'Updating' } },
    {
      ...headers,
      'Azure-AsyncOperation': operationUrl(req, o, sub!, vm.location, refused.id)
    }
  );
}

/** VMs a page of `virtualMachines` lists: Azure pages by `nextLink` and publishes no page size. */
export const LIST_PAGE_SIZE = 200;

/**
 * `GET /subscriptions/{id}/providers/Microsoft.Compute/virtualMachines` (VirtualMachines_ListAll):
 * "statusOnly=true enables fetching run time status of all Virtual Machines in the subscription" —
 * each VM with `properties.instanceView.statuses`. Compute's "High Cost Get VM" (List, List All, List
 * By Location): 300 a minute per subscription, up to 900 ("Compute throttling limits"). Needs
 * `virtualMachines/read` over the subscription: a role on one resource group is refused.
 */
function listAll(req: Request, principal: string, o: ArmOptions): Response {
  const [, sub] = LIST_ALL_PATH.exec(req.path)!;
  const subscription = sub!.toLowerCase();
  if (req.method !== 'GET') return methodNotAllowed(req.method);
  const admitted = admit(o, principal, ARM_ACTIONS.read, `/subscriptions/${sub}`, subscription, false);
  if ('refused' in admitted) return admitted.refused;
  const listed = o.throttles.computeList(subscription);
  if (!listed.ok) return computeThrottled(listed, o);
  const statusOnly = req.url.searchParams.get('statusOnly') === 'true';
  const all = [...o.model.vms.values()]
    .filter(
      vm => !vm.deleted && vm.kind !== 'vmss-uniform' && vm.subscriptionId.toLowerCase() === subscription
    )
    .sort((a, b) => a.key.localeCompare(b.key));
  const offset = Number(req.url.searchParams.get('$skiptoken') ?? 0);
  if (!Number.isInteger(offset) || offset < 0)
    return json(
      400,
      { error: { code: 'InvalidSkipToken', message: 'The skip token is invalid.' } },
      admitted.headers
    );
  const page = all.slice(offset, offset + LIST_PAGE_SIZE);
  const next = new URL(`${o.base()}${req.path}`);
  for (const [k, v] of req.url.searchParams) next.searchParams.set(k, v);
  next.searchParams.set('$skiptoken', String(offset + LIST_PAGE_SIZE));
  return json(
    200,
    {
      value: page.map(vm => {
        const resource = vmResource(vm);
        return statusOnly
          ? {
              ...resource,
              properties: { ...resource.properties, instanceView: { statuses: instanceView(vm).statuses } }
            }
          : resource;
      }),
      ...(offset + LIST_PAGE_SIZE < all.length ? { nextLink: next.toString() } : {})
    },
    { ...admitted.headers, 'x-ms-ratelimit-remaining-resource': listed.header }
  );
}
