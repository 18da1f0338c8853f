import { describe, expect, test } from '@jest/globals';
import {
  currentSpotPrice,
  describeAzureError,
  isTransient,
  parseRetryAfter
} from '../../src/azure/errors.js';
import { classifyStartFailure } from '../../src/act/start-failure.js';
import { parseDuration } from '../../src/plan/duration.js';
import { quotaWait } from '../../src/discover/discovery.js';
import { backoff } from '../../src/azure/retry.js';

describe('error classification', () => {
  test.each([
    [{ status: 429, message: 'Too many requests' }, true],
    [{ status: 503, message: 'unavailable' }, true],
    [{ status: 501, message: 'not implemented' }, false],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, true],
    [
      {
        status: 409,
        code: 'Conflict',
        message: "Operation 'start' is not allowed since another operation is in progress"
      },
      true
    ],
    [
      { status: 409, code: 'OperationNotAllowed', message: 'exceeding approved Low Priority Cores quota' },
      false
    ],
    [{ status: 403, code: 'AuthorizationFailed', message: 'no' }, false],
    [{ status: 400, code: 'InvalidParameter', message: 'bad' }, false]
  ])('%j transient: %s', (info, expected) => {
    expect(isTransient(info)).toBe(expected);
  });

  test('reads the code of a failed long-running operation', () => {
    const error = new Error(
      'The long-running operation has failed. AllocationFailed. Allocation failed. We do not have sufficient capacity.'
    );
    expect(describeAzureError(error)).toEqual({
      code: 'AllocationFailed',
      message: 'Allocation failed. We do not have sufficient capacity.'
    });
  });

  test('the current spot price comes from the error message', () => {
    expect(
      currentSpotPrice(
        "Unable to perform operation 'Start VM' since the provided max price '0.01 USD' is lower than the current spot price '0.0207 USD' for Azure Spot VM size 'Standard_D2s_v3' in region 'eastus'."
      )
    ).toBe(0.0207);
  });

  test('a 403 names the missing permission', () => {
    const failure = classifyStartFailure({
      status: 403,
      code: 'AuthorizationFailed',
      message:
        "The client 'x' with object id 'y' does not have authorization to perform action 'Microsoft.Compute/virtualMachines/start/action' over scope '/subscriptions/z'."
    });
    expect(failure.outcome).toBe('failed');
    expect(failure.detail).toContain("lacks the permission 'Microsoft.Compute/virtualMachines/start/action'");
  });

  test('Retry-After in seconds and as a date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
  });

  test('Resource Graph quota headers', () => {
    expect(quotaWait('3', '00:00:05')).toBe(0);
    expect(quotaWait('0', '00:00:04.5')).toBe(4500);
    expect(quotaWait(undefined, undefined)).toBe(0);
  });

  test('durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2.5')).toBe(2500);
    expect(parseDuration('soon')).toBeUndefined();
  });

  test('backoff grows and is capped', () => {
    const policy = { baseMs: 1000, maxMs: 8000 };
    expect(backoff(1, policy, () => 1)).toBe(1000);
    expect(backoff(3, policy, () => 1)).toBe(4000);
    expect(backoff(10, policy, () => 0)).toBe(4000);
  });
});
