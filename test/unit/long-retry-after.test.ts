/**
 * Compute can answer 429 with `Retry-After: 1200` (Microsoft Learn, "Troubleshooting throttling
 * errors in Azure - Virtual Machines"). The SDK's own retry would sleep all of it; with our policy
 * a long wait comes back to us at once, with the wait, and a short one stays with the SDK.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { ComputeManagementClient } from '@azure/arm-compute';
import { describeAzureError } from '../../src/azure/errors.js';
import { longRetryAfterPolicy } from '../../src/azure/long-retry-after.js';
import { azureErrors } from '../emulator/azure/azure-errors.js';
import { ARM, staticCredential, SUB, vmPath, expectEveryAnswerUsed } from '../helpers/arm-nock.js';

const client = () =>
  new ComputeManagementClient(staticCredential, SUB, {
    endpoint: ARM,
    retryOptions: { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 5 },
    additionalPolicies: [longRetryAfterPolicy(20_000)]
  });

const throttled = azureErrors.computeThrottled(
  'LowCostGetVM',
  36,
  37,
  '2026-11-21T12:00:00Z',
  '2026-11-21T12:20:00Z'
);

afterEach(expectEveryAnswerUsed);

describe('longRetryAfterPolicy', () => {
  test('a 1200 s Retry-After reaches us after one request, with the wait', async () => {
    nock(ARM)
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .once()
      .reply(429, throttled.body, { 'Retry-After': '1200' });
    const error = await client()
      .virtualMachines.instanceView('rg-spot', 'vm1')
      .catch((e: unknown) => e);
    const info = describeAzureError(error);
    expect(info).toMatchObject({ status: 429, code: 'TooManyRequests', retryAfterMs: 1_200_000 });
  });

  test('a short Retry-After is still retried by the SDK', async () => {
    const scope = nock(ARM);
    scope
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .reply(429, throttled.body, { 'Retry-After': '0' });
    scope
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .reply(200, { statuses: [{ code: 'PowerState/deallocated' }] });
    const view = await client().virtualMachines.instanceView('rg-spot', 'vm1');
    expect(view.statuses?.[0]?.code).toBe('PowerState/deallocated');
  });
});
