/**
 * The dispatch payload, version 1: the one contract between the agent (which builds it) and the
 * action (which validates it). It has no dependencies so the agent can bundle it as it is.
 *
 * The payload is a hint, never an authority: the action re-reads the VM from Azure before acting.
 */
import { GUID_PATTERN, MAX_RESOURCE_ID_LENGTH, VM_RESOURCE_ID_PATTERN } from '../azure/resource-id.js';

export const PAYLOAD_SCHEMA = 'azure-spot-restarter/v1';
export const DEFAULT_EVENT_TYPE = 'spot-vm-preempted';
/** IMDS Scheduled Events event types. */
export const IMDS_EVENT_TYPES = ['Freeze', 'Reboot', 'Redeploy', 'Preempt', 'Terminate'] as const;
export const EVICTION_POLICIES = ['Deallocate', 'Delete'] as const;
/** GitHub: `client_payload` may have at most 10 top-level properties. */
export const MAX_TOP_LEVEL_PROPERTIES = 10;
/** GitHub: `client_payload` must be smaller than 64 KB. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface DispatchPayload {
  schema: typeof PAYLOAD_SCHEMA;
  vmResourceId: string;
  vmId: string;
  eventId: string;
  eventType: (typeof IMDS_EVENT_TYPES)[number];
  notBefore?: string;
  detectedAt: string;
  evictionPolicy?: (typeof EVICTION_POLICIES)[number];
  agentVersion?: string;
}

type Rule = { required: boolean; check: (value: string) => string | undefined };

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const SEMVER = /^\d{1,5}\.\d{1,5}\.\d{1,5}(-[0-9A-Za-z.-]{1,40})?$/;

const oneOf = (allowed: readonly string[]) => (v: string) =>
  allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`;
const matches = (pattern: RegExp, expected: string, maxLength: number) => (v: string) =>
  v.length > maxLength
    ? `is ${v.length} characters long; at most ${maxLength} are allowed`
    : pattern.test(v)
      ? undefined
      : `must be ${expected}`;
const isoDate = (v: string) =>
  ISO_8601.test(v) && !Number.isNaN(Date.parse(v))
    ? undefined
    : 'must be an ISO-8601 date-time such as 2026-04-11T22:26:58Z';

/** One rule per field: every field not listed here is refused. */
const FIELDS: Record<keyof DispatchPayload, Rule> = {
  schema: { required: true, check: oneOf([PAYLOAD_SCHEMA]) },
  vmResourceId: {
    required: true,
    check: matches(
      VM_RESOURCE_ID_PATTERN,
      'a VM resource ID: /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name> (or …/virtualMachineScaleSets/<name>/virtualMachines/<instance id>)',
      MAX_RESOURCE_ID_LENGTH
    )
  },
  vmId: { required: true, check: matches(GUID_PATTERN, 'a GUID (the IMDS vmId)', 36) },
  eventId: { required: true, check: matches(GUID_PATTERN, 'a GUID (the IMDS EventId)', 36) },
  eventType: { required: true, check: oneOf(IMDS_EVENT_TYPES) },
  notBefore: { required: false, check: isoDate },
  detectedAt: { required: true, check: isoDate },
  evictionPolicy: { required: false, check: oneOf(EVICTION_POLICIES) },
  agentVersion: { required: false, check: matches(SEMVER, 'a version such as 1.2.0', 64) }
};

export type PayloadValidation = { ok: true; payload: DispatchPayload } | { ok: false; errors: string[] };

/** Checks an untrusted `client_payload`; every problem is named by its field. */
export function validatePayload(input: unknown): PayloadValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [`client_payload must be a JSON object, got ${describeType(input)}`] };
  }
  const errors: string[] = [];
  const record = input as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > MAX_TOP_LEVEL_PROPERTIES) {
    errors.push(
      `client_payload has ${keys.length} top-level properties; at most ${MAX_TOP_LEVEL_PROPERTIES} are allowed`
    );
  }
  for (const key of keys) {
    if (!Object.hasOwn(FIELDS, key))
      errors.push(`client_payload.${printable(key)} is not a field of ${PAYLOAD_SCHEMA}`);
  }
  for (const [field, rule] of Object.entries(FIELDS) as [keyof DispatchPayload, Rule][]) {
    const value = record[field];
    if (value === undefined || value === null) {
      if (rule.required) errors.push(`client_payload.${field} is required`);
      continue;
    }
    if (typeof value !== 'string') {
      errors.push(`client_payload.${field} must be a string, got ${describeType(value)}`);
      continue;
    }
    const problem = rule.check(value);
    if (problem) errors.push(`client_payload.${field} ${problem} (got ${quote(value)})`);
  }
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, payload: record as unknown as DispatchPayload };
}

/** Builds a payload and checks it with the same rules the action applies. */
export function buildPayload(fields: Omit<DispatchPayload, 'schema'>): DispatchPayload {
  const payload: Record<string, unknown> = { schema: PAYLOAD_SCHEMA };
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined && value !== '') payload[key] = value;
  const result = validatePayload(payload);
  if (!result.ok) throw new Error(`invalid dispatch payload: ${result.errors.join('; ')}`);
  return result.payload;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Quotes untrusted text for a log line: short, one line, no control characters. */
export function quote(value: string, max = 80): string {
  const shown = printable(value.length > max ? `${value.slice(0, max)}…` : value);
  return `"${shown}"${value.length > max ? ` (${value.length} characters)` : ''}`;
}

function printable(value: string): string {
  return value.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  );
}
