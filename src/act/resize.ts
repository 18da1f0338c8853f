/**
 * The writes the fallback, the revert and the price raise make to a VM, through the Compute SDK's
 * `virtualMachines.update` (PATCH, VirtualMachines_Update): the preferred-size tag, the size, the
 * max price. Azure takes a new size or max price only while the VM is deallocated (Microsoft
 * Learn, "Resize a virtual machine"; "Azure Spot Virtual Machines": "Before you can change the max
 * price, you need to deallocate the VM"), so callers check the instance view right before.
 */
import type { ComputeManagementClient } from '@azure/arm-compute';
import type { VmRecord } from '../discover/discovery.js';
import { PREFERRED_TAG } from '../discover/size-list.js';
import { withTransientRetry, type Clock } from '../azure/retry.js';
import { parseRetryAfter } from '../azure/errors.js';
import { observeVmUpdate, takeVmUpdate, type UpdateBudgets } from './start-operation.js';
import {
  createDefaultHttpClient,
  createPipelineRequest,
  RestError,
  type PipelineResponse
} from '@azure/core-rest-pipeline';

export interface WriteDeps {
  clock: Clock;
  client: ComputeManagementClient;
  pollIntervalMs: number;
  deadline: number;
  /** Resource Manager's address (the cloud's); absent: Azure's public cloud. */
  endpoint?: string;
  /** Compute's "Update VM" budgets: a resize or a new max price spends one of the VM's tokens. */
  updates?: UpdateBudgets;
}

type Target = Pick<VmRecord, 'id' | 'name' | 'resourceGroup' | 'subscriptionId' | 'location'>;

async function patch(
  vm: Target,
  body: Parameters<ComputeManagementClient['virtualMachines']['update']>[2],
  what: string,
  deps: WriteDeps
): Promise<void> {
  await withTransientRetry(
    deps.clock,
    `${vm.name}: ${what}`,
    async () => {
      if (deps.updates) await takeVmUpdate(deps.updates, vm, what, deps.deadline);
      let first = true;
      await deps.client.virtualMachines
        .update(vm.resourceGroup, vm.name, body, {
          updateIntervalInMs: deps.pollIntervalMs,
          onResponse: response => {
            if (!first || !deps.updates) return;
            first = false;
            observeVmUpdate(deps.updates, vm, response.headers.get('x-ms-ratelimit-remaining-resource'));
          }
        })
        .pollUntilDone();
    },
    undefined,
    deps.deadline
  );
}

/**
 * Records the preferred size as a tag, merged into the VM's tags as Resource Manager holds them
 * (Tags – Update At Scope, `operation: Merge`: "allows adding tags with new names and updating the
 * values of tags with existing names"), never rebuilt from Resource Graph's copy, which can be
 * minutes old: a tag someone added since is kept. Needs `Microsoft.Resources/tags/write`. Azure may
 * answer 202 with a `location` to follow (PatchTagsResource.json). Written once, before the VM's
 * first resize, so any later run knows what "back" means.
 */
export async function recordPreferredSize(
  vm: Target & Pick<VmRecord, 'id'>,
  preferred: string,
  deps: WriteDeps
): Promise<void> {
  await mergeTags(vm, { [PREFERRED_TAG]: preferred }, deps, 'recording its preferred size');
}

/** Adds or updates these tags on the VM, every other tag kept as Resource Manager holds it. */
export async function mergeTags(
  vm: Pick<VmRecord, 'id' | 'name'>,
  tags: Record<string, string>,
  deps: WriteDeps,
  what = 'recording its tags'
): Promise<void> {
  await withTransientRetry(
    deps.clock,
    `${vm.name}: ${what}`,
    () =>
      armCall(deps, 'PATCH', `${vm.id}/providers/Microsoft.Resources/tags/default?api-version=${TAGS_API}`, {
        operation: 'Merge',
        properties: { tags }
      }),
    undefined,
    deps.deadline
  );
}

const TAGS_API = '2021-04-01';

/**
 * One Resource Manager request through the Compute client's pipeline (sign-in, retries and the
 * subscription's budgets included), followed to its end when answered 202 with a `location`.
 * A refusal is thrown as the SDK throws one, so errors.ts reads it alike.
 */
async function armCall(
  deps: WriteDeps,
  method: 'PATCH' | 'GET',
  path: string,
  body?: unknown
): Promise<void> {
  const endpoint = deps.endpoint ?? 'https://management.azure.com';
  let response = await send(deps, method, new URL(path, endpoint).toString(), body);
  while (response.status === 202) {
    const location = response.headers.get('location');
    if (!location) return;
    const retryAfter = parseRetryAfter(response.headers.get('retry-after') ?? '');
    await deps.clock.sleep(Math.max(deps.pollIntervalMs, retryAfter ?? 0));
    response = await send(deps, 'GET', location);
  }
}

async function send(deps: WriteDeps, method: string, url: string, body?: unknown): Promise<PipelineResponse> {
  const request = createPipelineRequest({ url, method: method as 'GET' | 'PATCH' });
  if (body !== undefined) {
    request.body = JSON.stringify(body);
    request.headers.set('content-type', 'application/json');
  }
  const response = await deps.client.pipeline.sendRequest(httpClient, request);
  if (response.status >= 400) {
    let error: { code?: string; message?: string } = {};
    try {
      error = (JSON.parse(response.bodyAsText ?? '{}') as { error?: typeof error }).error ?? {};
    } catch {
      // Not JSON: the status says it.
    }
    throw new RestError(error.message ?? `HTTP ${response.status}`, {
      code: error.code,
      statusCode: response.status,
      request,
      response
    });
  }
  return response;
}

const httpClient = createDefaultHttpClient();

export function resizeVm(vm: Target, size: string, deps: WriteDeps): Promise<void> {
  return patch(vm, { hardwareProfile: { vmSize: size } }, `resize to ${size}`, deps);
}

export function setMaxPrice(vm: Target, maxPrice: number, deps: WriteDeps): Promise<void> {
  return patch(vm, { billingProfile: { maxPrice } }, `max price to ${maxPrice}`, deps);
}

/** Revert mode only: the VM must be deallocated to take its preferred size back. */
export async function deallocateVm(vm: Target, deps: WriteDeps): Promise<void> {
  await withTransientRetry(
    deps.clock,
    `${vm.name}: deallocate`,
    () =>
      deps.client.virtualMachines
        .deallocate(vm.resourceGroup, vm.name, { updateIntervalInMs: deps.pollIntervalMs })
        .pollUntilDone(),
    undefined,
    deps.deadline
  );
}
