/**
 * Errors as Azure nests them: the code that decides a VM's outcome can sit in `details[]`, in an
 * `innererror`, or in a detail's message as JSON text. Each case goes through the real Compute
 * client over HTTP (nock), so the shape is whatever the SDK makes of Azure's body.
 */
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ComputeManagementClient } from '@azure/arm-compute';
import { describeAzureError, innermostKnownError, isTransient } from '../../src/azure/errors.js';
import { surfaceNestedErrors } from '../../src/azure/nested-errors.js';
import { classifyStartFailure } from '../../src/act/start-failure.js';
import type { Outcome } from '../../src/report/outcomes.js';
import { azureErrors, type ArmError } from '../emulator/azure/azure-errors.js';
import { ARM, SUB, staticCredential, startAccepted, startRefused } from '../helpers/arm-nock.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const OPERATION_FAILED = "The resource operation completed with terminal provisioning state 'Failed'.";
const flat = (e: ArmError) => ({ code: e.body.error.code, message: e.body.error.message });
const refused = (status: number, error: Record<string, unknown>): ArmError => ({
  status,
  body: { error: error as ArmError['body']['error'] }
});

/** The Compute client as the action builds it (main.ts), with or without the policy. */
function client(withPolicy: boolean, maxRetries = 0) {
  return new ComputeManagementClient(staticCredential, SUB, {
    endpoint: ARM,
    retryOptions: { maxRetries, retryDelayInMs: 1, maxRetryDelayInMs: 5 },
    additionalPolicies: withPolicy ? [{ position: 'perCall', policy: surfaceNestedErrors }] : []
  });
}

async function syncFailure(error: ArmError, times = 1): Promise<unknown> {
  const scope = nock(ARM);
  for (let i = 0; i < times; i++) startRefused(scope, 'vm-1', error);
  try {
    await client(true, 2).virtualMachines.start('rg-spot', 'vm-1').submitted();
  } catch (thrown) {
    return thrown;
  }
  throw new Error('the start did not fail');
}

describe('a start refused at once (RestError)', () => {
  const capacity = azureErrors.allocationFailed();
  const quota = azureErrors.quotaExceeded('eastus', 10, 10, 2);
  test.each<[string, ArmError, Outcome, string]>([
    [
      'AllocationFailed in details[] of ResourceOperationFailure',
      refused(409, {
        code: 'ResourceOperationFailure',
        message: OPERATION_FAILED,
        details: [flat(capacity)]
      }),
      'capacity-unavailable',
      'AllocationFailed'
    ],
    [
      'the price code in details[] of OperationNotAllowed',
      refused(409, {
        code: 'OperationNotAllowed',
        message: 'The operation could not be completed.',
        details: [flat(azureErrors.priceAboveMax(0.01, 0.0207, 'Standard_D2s_v5', 'eastus'))]
      }),
      'price-above-max',
      'SpotPriceGreaterThanProvidedMaxPrice'
    ],
    [
      "a zonal failure as Compute's innererror exception type",
      refused(409, {
        code: 'Conflict',
        message: 'Allocation failed.',
        innererror: {
          exceptiontype: 'Microsoft.WindowsAzure.ComputeResourceProvider.ZonalAllocationFailedException',
          errordetail: azureErrors.zonalAllocationFailed().body.error.message
        }
      }),
      'capacity-unavailable',
      'ZonalAllocationFailed'
    ],
    [
      'a detail whose message is a JSON error body',
      refused(409, {
        code: 'DeploymentFailed',
        message: 'At least one operation failed.',
        details: [
          {
            code: 'Conflict',
            message: JSON.stringify({
              status: 'Failed',
              error: {
                code: 'ResourceOperationFailure',
                message: OPERATION_FAILED,
                details: [{ code: 'OverconstrainedAllocationRequest', message: 'Allocation failed.' }]
              }
            })
          }
        ]
      }),
      'capacity-unavailable',
      'OverconstrainedAllocationRequest'
    ],
    [
      'a cores quota in details[]',
      refused(409, { code: 'ResourceOperationFailure', message: OPERATION_FAILED, details: [flat(quota)] }),
      'quota-exceeded',
      'OperationNotAllowed'
    ],
    [
      'a flat AuthorizationFailed stays a failure naming the permission',
      azureErrors.authorizationFailed(
        'app',
        'Microsoft.Compute/virtualMachines/start/action',
        '/subscriptions/x'
      ),
      'failed',
      'AuthorizationFailed'
    ]
  ])('%s', async (_name, error, outcome, code) => {
    const info = describeAzureError(await syncFailure(error));
    expect(info.code).toBe(code);
    expect(info.status).toBe(error.status);
    expect(isTransient(info)).toBe(false);
    const failure = classifyStartFailure(info);
    expect(failure.outcome).toBe(outcome);
    if (outcome === 'price-above-max') expect(failure.currentPrice).toBe(0.0207);
    if (outcome === 'failed') expect(failure.detail).toContain("lacks the permission 'Microsoft.Compute");
  });

  test("Compute's 429 (OperationNotAllowed with TooManyRequests in details) is throttling: retried", async () => {
    const throttled = refused(429, {
      code: 'OperationNotAllowed',
      message:
        'The server rejected the request because too many requests have been received for this subscription.',
      details: [{ code: 'TooManyRequests', message: '{"operationGroup":"HighCostGetVMScaleSet30Min"}' }]
    });
    // The SDK pipeline retries a 429 itself (twice with these test settings) before it throws.
    const info = describeAzureError(await syncFailure(throttled, 3));
    expect(info).toMatchObject({ status: 429, code: 'TooManyRequests' });
    expect(isTransient(info)).toBe(true);
  });
});

describe('a start operation that fails later (core-lro)', () => {
  async function lroFailure(error: ArmError, withPolicy = true): Promise<unknown> {
    startAccepted(nock(ARM), 'vm-1', { status: 'Failed', error });
    try {
      await client(withPolicy)
        .virtualMachines.start('rg-spot', 'vm-1', { updateIntervalInMs: 1 })
        .pollUntilDone();
    } catch (thrown) {
      return thrown;
    }
    throw new Error('the operation did not fail');
  }

  test.each<[string, ArmError, string]>([
    [
      'the emulated regional failure: AllocationFailed in details[]',
      azureErrors.startAllocationFailed(false),
      'AllocationFailed'
    ],
    [
      'the emulated zonal failure: ZonalAllocationFailed in innererror',
      azureErrors.startAllocationFailed(true),
      'ZonalAllocationFailed'
    ],
    ['a flat AllocationFailed', azureErrors.allocationFailed(), 'AllocationFailed']
  ])('%s → capacity-unavailable, retried as capacity', async (_name, error, code) => {
    const info = describeAzureError(await lroFailure(error));
    expect(info.code).toBe(code);
    const failure = classifyStartFailure(info);
    expect(failure).toMatchObject({ outcome: 'capacity-unavailable', capacityRetry: true });
    expect(failure.detail).toContain('sufficient capacity');
  });

  test('without the policy, core-lro reports only the outer code (why the policy exists)', async () => {
    const info = describeAzureError(await lroFailure(azureErrors.startAllocationFailed(false), false));
    expect(info.code).toBe('ResourceOperationFailure');
    expect(classifyStartFailure(info).outcome).toBe('failed');
  });
});

describe('innermostKnownError', () => {
  test.each<[string, unknown, string | undefined]>([
    ['nothing known', { code: 'InternalServerError', message: 'x' }, undefined],
    [
      'the deepest known code wins',
      { code: 'OperationNotAllowed', message: 'x', details: [{ code: 'TooManyRequests', message: 'y' }] },
      'TooManyRequests'
    ],
    [
      'a REST-guidelines innererror chain',
      {
        code: 'A',
        message: 'a',
        innererror: { code: 'B', innererror: { code: 'SkuNotAvailable', message: 's' } }
      },
      'SkuNotAvailable'
    ],
    [
      'a wrapped body { error }',
      { error: { code: 'X', details: [{ code: 'allocationfailed', message: 'm' }] } },
      'AllocationFailed'
    ],
    [
      'OperationNotAllowed decides only as a quota',
      {
        code: 'AllocationFailed',
        message: 'a',
        details: [{ code: 'OperationNotAllowed', message: 'VM is busy' }]
      },
      'AllocationFailed'
    ],
    ['not JSON in a message', { code: 'X', message: 'contains "code" but { not json' }, undefined]
  ])('%s', (_name, tree, code) => {
    expect(innermostKnownError(tree)?.code).toBe(code);
  });
});
