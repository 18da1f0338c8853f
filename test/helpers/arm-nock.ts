/** Azure Resource Manager answers for nock, shaped like Compute's and Resource Graph's. */
import { expect } from '@jest/globals';
import nock from 'nock';
import { ComputeManagementClient } from '@azure/arm-compute';
import type { TokenCredential } from '@azure/identity';
import type { VmRecord } from '../../src/discover/discovery.js';
import type { ArmError } from '../emulator/azure/azure-errors.js';

export const ARM = 'https://management.test';
export const SUB = '11111111-2222-3333-4444-555555555555';

/** A credential that hands out a fixed token: the tests here are about ARM, not Entra. */
export const staticCredential: TokenCredential = {
  getToken: async () => ({ token: 'test-access-token', expiresOnTimestamp: Date.now() + 3_600_000 })
};

/** After a test: every answer it set up was asked for (one left over is a request the code did not make); none carries over. */
export function expectEveryAnswerUsed(): void {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
}

export function computeClient(): ComputeManagementClient {
  return new ComputeManagementClient(staticCredential, SUB, {
    endpoint: ARM,
    retryOptions: { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 5 }
  });
}

export function vm(name: string, overrides: Partial<VmRecord> = {}): VmRecord {
  return {
    id: vmPath(name),
    kind: 'vm',
    name,
    resourceGroup: 'rg-spot',
    subscriptionId: SUB,
    location: 'eastus',
    vmSize: 'Standard_D2s_v5',
    priority: 'Spot',
    evictionPolicy: 'Deallocate',
    powerState: 'PowerState/deallocated',
    tags: { AttemptRestartAfterEviction: 'true' },
    maxPrice: -1,
    annotationName: '',
    annotationAt: '',
    ...overrides
  };
}

export function vmPath(name: string): string {
  return `/subscriptions/${SUB}/resourceGroups/rg-spot/providers/Microsoft.Compute/virtualMachines/${name}`;
}

export function instanceView(
  scope: nock.Scope,
  name: string,
  powerState: string,
  times = 1,
  changedAt = '2026-11-20T08:00:00Z'
): nock.Scope {
  return scope
    .get(`${vmPath(name)}/instanceView`)
    .query(true)
    .times(times)
    .reply(200, {
      computerName: name,
      statuses: [
        {
          code: 'ProvisioningState/succeeded',
          level: 'Info',
          displayStatus: 'Provisioning succeeded',
          time: changedAt
        },
        { code: powerState, level: 'Info', displayStatus: `VM ${powerState.replace('PowerState/', '')}` }
      ]
    });
}

let operation = 0;

/** POST start → 202 with Azure-AsyncOperation, and the operation ends with `final`. */
export function startAccepted(
  scope: nock.Scope,
  name: string,
  final: { status: 'Succeeded' } | { status: 'Failed'; error: ArmError },
  headers: Record<string, string> = {}
): nock.Scope {
  const id = `op-${++operation}`;
  const statusPath = `/subscriptions/${SUB}/providers/Microsoft.Compute/locations/eastus/operations/${id}`;
  scope
    .post(`${vmPath(name)}/start`)
    .query(true)
    .reply(202, '', {
      'Azure-AsyncOperation': `${ARM}${statusPath}?p=x&api-version=2026-04-01`,
      Location: `${ARM}${statusPath}?p=x&monitor=true&api-version=2026-04-01`,
      ...headers
    });
  const body =
    final.status === 'Succeeded'
      ? {
          startTime: new Date().toISOString(),
          endTime: new Date().toISOString(),
          status: 'Succeeded',
          name: id
        }
      : {
          startTime: new Date().toISOString(),
          endTime: new Date().toISOString(),
          status: 'Failed',
          name: id,
          error: final.error.body.error
        };
  scope
    .get(statusPath)
    .query(q => q.monitor === undefined)
    .reply(200, body);
  if (final.status === 'Succeeded')
    scope
      .get(statusPath)
      .query(q => q.monitor === 'true')
      .optionally()
      .reply(200);
  return scope;
}

export function startRefused(
  scope: nock.Scope,
  name: string,
  error: ArmError,
  headers: Record<string, string> = {}
): nock.Scope {
  return scope
    .post(`${vmPath(name)}/start`)
    .query(true)
    .reply(error.status, error.body, headers);
}
