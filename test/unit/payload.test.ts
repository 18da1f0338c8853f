import { describe, expect, test } from '@jest/globals';
import { buildPayload, PAYLOAD_SCHEMA, validatePayload } from '../../src/plan/payload.js';

const VM =
  '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-batch/providers/Microsoft.Compute/virtualMachines/worker-01';
const good = {
  schema: PAYLOAD_SCHEMA,
  vmResourceId: VM,
  vmId: '8f2b6c0e-1c1f-4a3e-9f55-2b7c1d2a0e11',
  eventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123',
  eventType: 'Preempt' as const,
  notBefore: '2026-04-11T22:26:58Z',
  detectedAt: '2026-04-11T22:26:31.123Z',
  evictionPolicy: 'Deallocate' as const,
  agentVersion: '1.2.0'
};

describe('validatePayload', () => {
  test.each([
    ['the full payload', good],
    [
      'a Uniform scale-set instance',
      {
        ...good,
        vmResourceId: VM.replace(
          'virtualMachines/worker-01',
          'virtualMachineScaleSets/render/virtualMachines/17'
        )
      }
    ],
    [
      'only the required fields',
      {
        schema: PAYLOAD_SCHEMA,
        vmResourceId: VM,
        vmId: good.vmId,
        eventId: good.eventId,
        eventType: 'Preempt',
        detectedAt: good.detectedAt
      }
    ],
    ['a lower-case resource ID', { ...good, vmResourceId: VM.toLowerCase() }],
    ['a time zone offset', { ...good, detectedAt: '2026-04-11T22:26:31+02:00' }],
    ['Terminate', { ...good, eventType: 'Terminate' }],
    ['null optional fields', { ...good, notBefore: null, evictionPolicy: null }]
  ])('accepts %s', (_, payload) => {
    expect(validatePayload(payload)).toEqual({ ok: true, payload });
  });

  const bad: [string, unknown, string][] = [
    ['not an object', 'hello', 'client_payload must be a JSON object, got a string'],
    ['an array', [good], 'got an array'],
    ['null', null, 'got null'],
    ['no schema', { ...good, schema: undefined }, 'client_payload.schema is required'],
    [
      'another schema',
      { ...good, schema: 'azure-spot-restarter/v2' },
      'client_payload.schema must be one of azure-spot-restarter/v1'
    ],
    ['no vmResourceId', { ...good, vmResourceId: undefined }, 'client_payload.vmResourceId is required'],
    [
      'a scale set itself, not one of its instances',
      { ...good, vmResourceId: VM.replace('virtualMachines/worker-01', 'virtualMachineScaleSets/ss') },
      'client_payload.vmResourceId must be a VM resource ID'
    ],
    [
      'an instance id that is not a number',
      {
        ...good,
        vmResourceId: VM.replace('virtualMachines/worker-01', 'virtualMachineScaleSets/ss/virtualMachines/x1')
      },
      'client_payload.vmResourceId must be a VM resource ID'
    ],
    [
      'a storage account',
      {
        ...good,
        vmResourceId: VM.replace('Microsoft.Compute/virtualMachines', 'Microsoft.Storage/storageAccounts')
      },
      'client_payload.vmResourceId must be a VM resource ID'
    ],
    [
      'path traversal',
      { ...good, vmResourceId: `${VM}/../../other` },
      'client_payload.vmResourceId must be a VM resource ID'
    ],
    [
      'KQL injection in the name',
      { ...good, vmResourceId: `${VM}' or 1==1 //` },
      'client_payload.vmResourceId must be a VM resource ID'
    ],
    [
      'a non-GUID subscription',
      { ...good, vmResourceId: VM.replace('11111111-2222-3333-4444-555555555555', 'my-sub') },
      'client_payload.vmResourceId must be a VM resource ID'
    ],
    [
      'an over-long resource ID',
      { ...good, vmResourceId: VM + 'x'.repeat(1100) },
      'client_payload.vmResourceId is 1229 characters long; at most 1024 are allowed'
    ],
    ['a number for vmId', { ...good, vmId: 42 }, 'client_payload.vmId must be a string, got a number'],
    ['a non-GUID vmId', { ...good, vmId: 'abc' }, 'client_payload.vmId must be a GUID'],
    ['no eventId', { ...good, eventId: undefined }, 'client_payload.eventId is required'],
    [
      'an object eventId',
      { ...good, eventId: { a: 1 } },
      'client_payload.eventId must be a string, got an object'
    ],
    [
      'an unknown event type',
      { ...good, eventType: 'Explode' },
      'client_payload.eventType must be one of Freeze, Reboot, Redeploy, Preempt, Terminate'
    ],
    ['a lower-case event type', { ...good, eventType: 'preempt' }, 'client_payload.eventType must be one of'],
    [
      'an RFC 1123 detectedAt',
      { ...good, detectedAt: 'Mon, 11 Apr 2026 22:26:58 GMT' },
      'client_payload.detectedAt must be an ISO-8601 date-time'
    ],
    [
      'an impossible date',
      { ...good, detectedAt: '2026-13-45T99:99:99Z' },
      'client_payload.detectedAt must be an ISO-8601 date-time'
    ],
    [
      'an unknown eviction policy',
      { ...good, evictionPolicy: 'Hibernate' },
      'client_payload.evictionPolicy must be one of Deallocate, Delete'
    ],
    [
      'a bad agent version',
      { ...good, agentVersion: 'latest; rm -rf /' },
      'client_payload.agentVersion must be a version'
    ],
    [
      'an unknown field',
      { ...good, extra: 'x' },
      'client_payload.extra is not a field of azure-spot-restarter/v1'
    ],
    [
      '11 top-level properties',
      { ...good, a: '1', b: '2' },
      'client_payload has 11 top-level properties; at most 10 are allowed'
    ],
    [
      'deep nesting',
      { ...good, eventType: { a: { b: { c: {} } } } },
      'client_payload.eventType must be a string, got an object'
    ],
    ['a control character', { ...good, vmId: 'abc\u0000' }, '\\u0000']
  ];
  test.each(bad)('refuses %s', (_, payload, message) => {
    const result = validatePayload(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain(message);
  });

  test('buildPayload checks what it builds and drops empty optional fields', () => {
    const { schema: _, ...fields } = good;
    expect(buildPayload({ ...fields, notBefore: '' })).toEqual({
      ...good,
      notBefore: undefined,
      schema: PAYLOAD_SCHEMA
    });
    expect(() => buildPayload({ ...fields, vmId: 'nope' })).toThrow('client_payload.vmId must be a GUID');
  });
});
