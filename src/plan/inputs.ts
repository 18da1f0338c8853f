/**
 * The action's inputs: their names (the one list, checked against action.yml by a test), how each
 * is read and validated, and the typed settings the rest of the action works from.
 * Nothing here touches the network, so a bad input fails the run before any request.
 */
import * as core from '@actions/core';
import { CLOUD_NAMES, CLOUDS, spotNotOffered, type Cloud, type CloudName } from '../azure/clouds.js';
import { formatDuration, parseDuration } from './duration.js';
import {
  INSTANCE_ID_PATTERN,
  isGuid,
  parseVmResourceId,
  RESOURCE_GROUP_PATTERN,
  VM_NAME_PATTERN,
  type VmRef
} from '../azure/resource-id.js';
import { quote } from './payload.js';

export const Inputs = {
  ClientId: 'client-id',
  TenantId: 'tenant-id',
  ClientSecret: 'client-secret',
  Audience: 'audience',
  Environment: 'environment',
  ResourceManagerEndpoint: 'resource-manager-endpoint',
  AuthorityHost: 'authority-host',
  Subscriptions: 'subscriptions',
  ResourceGroups: 'resource-groups',
  Tag: 'tag',
  Vms: 'vms',
  MaxConcurrency: 'max-concurrency',
  WaitForDeallocation: 'wait-for-deallocation',
  RetryFor: 'retry-for',
  RetryInterval: 'retry-interval',
  PollInterval: 'poll-interval',
  RequestTimeout: 'request-timeout',
  SkipUserStopped: 'skip-user-stopped',
  TakeOverTryRestore: 'take-over-try-restore',
  StartWithoutEvidenceAfter: 'start-without-evidence-after',
  SweepOnDispatch: 'sweep-on-dispatch',
  DryRun: 'dry-run',
  FailOn: 'fail-on',
  Mode: 'mode',
  FallbackSizes: 'fallback-sizes',
  FallbackOrder: 'fallback-order',
  RaiseMaxPrice: 'raise-max-price',
  CoalesceDispatches: 'coalesce-dispatches',
  GithubToken: 'github-token',
  VerifyHealth: 'verify-health',
  HealthTimeout: 'health-timeout'
} as const;

export const MODES = ['restart', 'revert'] as const;
export type RunMode = (typeof MODES)[number];
export const FALLBACK_ORDERS = ['listed', 'eviction-rate'] as const;
export type FallbackOrder = (typeof FALLBACK_ORDERS)[number];
/** How far the action may raise a VM's max price to start it: not at all, to the current price, or up to a cap. */
export type RaiseMaxPrice = { kind: 'no' } | { kind: 'to-current' } | { kind: 'cap'; usd: number };
/**
 * What "back" means after a start: running (none), the guest agent Ready (guest-agent), or the
 * Application Health extension's state healthy (application-health). Read from the instance view.
 */
export const VERIFY_HEALTH = ['none', 'guest-agent', 'application-health'] as const;
export type VerifyHealth = (typeof VERIFY_HEALTH)[number];
/** Azure VM size names: Standard_D4as_v5, Basic_A1 (letters, digits, _ and -). */
export const VM_SIZE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{1,63}$/;

export const FAIL_ON = ['error', 'capacity', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export interface Tag {
  name: string;
  value: string;
}

/** A `vms` entry: a full resource ID, or `resource-group/name` looked up in the subscriptions in scope. */
export type VmTarget = { kind: 'id'; ref: VmRef } | { kind: 'name'; resourceGroup: string; name: string };

export interface Settings {
  clientId?: string;
  tenantId?: string;
  clientSecret?: string;
  audience: string;
  environment: CloudName;
  cloud: Cloud;
  /** True when the authority was overridden (Azure Stack, a local emulator): skip instance discovery. */
  customAuthority: boolean;
  subscriptions: string[];
  resourceGroups: string[];
  tag: Tag;
  vms: VmTarget[];
  maxConcurrency: number;
  waitForDeallocationMs: number;
  /** Undefined means the trigger's default (see trigger.ts). */
  retryForMs?: number;
  retryIntervalMs: number;
  /** How often a start's long-running operation is polled. */
  pollIntervalMs: number;
  /** An Azure request that has not answered by then is given up and retried. */
  requestTimeoutMs: number;
  skipUserStopped: boolean;
  /** Start instances of scale sets that have Try & restore, which Azure restores itself. */
  takeOverTryRestore: boolean;
  /** A deallocation with no Resource Health evidence at all this long after it is treated as an eviction. */
  startWithoutEvidenceAfterMs: number;
  sweepOnDispatch: boolean;
  dryRun: boolean;
  failOn: FailOn;
  /** `restart` (the default) starts evicted VMs; `revert` brings VMs on a fallback size back to their preferred one. */
  mode: RunMode;
  /** Fleet-wide fallbacks per preferred size (lower-case key); a VM's own tag wins. */
  fallbackSizes: Record<string, string[]>;
  fallbackOrder: FallbackOrder;
  raiseMaxPrice: RaiseMaxPrice;
  /**
   * Take the whole wave: also the VMs named by this repository's repository_dispatch runs created
   * within this long (cancelled ones included). 0: only the run's own dispatch.
   */
  coalesceDispatchesMs: number;
  /** Reads the repository's workflow runs (coalesce-dispatches); needs `actions: read`. */
  githubToken?: string;
  verifyHealth: VerifyHealth;
  /** How long a started VM may take to become healthy (verify-health), from the moment it runs. */
  healthTimeoutMs: number;
}

export class InputError extends Error {
  constructor(
    readonly input: string,
    problem: string
  ) {
    super(`Input '${input}' ${problem}`);
    this.name = 'InputError';
  }
}

export type GetInput = (name: string) => string;

const DEFAULT_TAG = 'AttemptRestartAfterEviction=true';
const TAG_NAME_FORBIDDEN = /[<>%&\\?/]/;

/** Reads and validates every input; throws an InputError naming the first bad one. */
export function readSettings(getInput: GetInput = name => core.getInput(name)): Settings {
  const text = (name: string) => getInput(name).trim();

  const clientId = optionalGuid(Inputs.ClientId, text(Inputs.ClientId));
  const tenantId = optionalTenant(text(Inputs.TenantId));
  const clientSecret = getInput(Inputs.ClientSecret) || undefined;
  if (clientSecret) core.setSecret(clientSecret);
  if (clientId && !tenantId) throw new InputError(Inputs.TenantId, 'is required when client-id is set');
  if (clientSecret && !clientId)
    throw new InputError(Inputs.ClientId, 'is required when client-secret is set');

  const environmentText = text(Inputs.Environment).toLowerCase() || 'azurecloud';
  if (!(CLOUD_NAMES as string[]).includes(environmentText)) {
    throw new InputError(
      Inputs.Environment,
      `is ${quote(environmentText)}; expected one of ${CLOUD_NAMES.join(', ')}`
    );
  }
  const environment = environmentText as CloudName;
  const githubToken = getInput(Inputs.GithubToken).trim() || undefined;
  if (githubToken) core.setSecret(githubToken);
  const coalesceDispatchesMs = duration(Inputs.CoalesceDispatches, text(Inputs.CoalesceDispatches)) ?? 0;
  if (coalesceDispatchesMs > 0 && !githubToken)
    throw new InputError(
      Inputs.GithubToken,
      'is empty; coalesce-dispatches reads the workflow runs of this repository with it: pass ${{ github.token }} and give the job permissions: actions: read'
    );
  const notOffered = spotNotOffered(environment);
  if (notOffered) core.warning(notOffered, { title: 'No Spot VMs in this cloud' });
  const resourceManager = optionalUrl(Inputs.ResourceManagerEndpoint, text(Inputs.ResourceManagerEndpoint));
  const authorityHost = optionalUrl(Inputs.AuthorityHost, text(Inputs.AuthorityHost));

  return {
    clientId,
    tenantId,
    clientSecret,
    audience: text(Inputs.Audience) || 'api://AzureADTokenExchange',
    environment,
    cloud: {
      resourceManager: resourceManager ?? CLOUDS[environment].resourceManager,
      authorityHost: authorityHost ?? CLOUDS[environment].authorityHost
    },
    customAuthority: authorityHost !== undefined,
    subscriptions: list(text(Inputs.Subscriptions)).map(s => {
      if (!isGuid(s))
        throw new InputError(
          Inputs.Subscriptions,
          `has ${quote(s)}; expected subscription IDs (GUIDs) separated by commas or new lines`
        );
      return s.toLowerCase();
    }),
    resourceGroups: list(text(Inputs.ResourceGroups)).map(g => {
      if (!RESOURCE_GROUP_PATTERN.test(g))
        throw new InputError(
          Inputs.ResourceGroups,
          `has ${quote(g)}; expected resource group names (1–90 letters, digits, _ ( ) - .)`
        );
      return g;
    }),
    tag: parseTag(text(Inputs.Tag) || DEFAULT_TAG),
    vms: list(text(Inputs.Vms)).map(parseVmTarget),
    maxConcurrency: integer(Inputs.MaxConcurrency, text(Inputs.MaxConcurrency), 100, 1, 500),
    waitForDeallocationMs:
      duration(Inputs.WaitForDeallocation, text(Inputs.WaitForDeallocation)) ?? 5 * 60_000,
    retryForMs: duration(Inputs.RetryFor, text(Inputs.RetryFor)),
    retryIntervalMs: duration(Inputs.RetryInterval, text(Inputs.RetryInterval), 100) ?? 30_000,
    pollIntervalMs: duration(Inputs.PollInterval, text(Inputs.PollInterval), 100) ?? 5_000,
    requestTimeoutMs: duration(Inputs.RequestTimeout, text(Inputs.RequestTimeout), 100) ?? 60_000,
    skipUserStopped: boolean(Inputs.SkipUserStopped, text(Inputs.SkipUserStopped), true),
    takeOverTryRestore: boolean(Inputs.TakeOverTryRestore, text(Inputs.TakeOverTryRestore), false),
    startWithoutEvidenceAfterMs:
      duration(Inputs.StartWithoutEvidenceAfter, text(Inputs.StartWithoutEvidenceAfter), 5 * 60_000) ??
      15 * 60_000,
    sweepOnDispatch: boolean(Inputs.SweepOnDispatch, text(Inputs.SweepOnDispatch), true),
    dryRun: boolean(Inputs.DryRun, text(Inputs.DryRun), false),
    failOn: oneOf(Inputs.FailOn, text(Inputs.FailOn) || 'error', FAIL_ON),
    mode: oneOf(Inputs.Mode, text(Inputs.Mode) || 'restart', MODES),
    fallbackSizes: parseFallbackSizes(getInput(Inputs.FallbackSizes)),
    fallbackOrder: oneOf(Inputs.FallbackOrder, text(Inputs.FallbackOrder) || 'listed', FALLBACK_ORDERS),
    raiseMaxPrice: parseRaiseMaxPrice(text(Inputs.RaiseMaxPrice)),
    coalesceDispatchesMs,
    githubToken,
    verifyHealth: oneOf(Inputs.VerifyHealth, text(Inputs.VerifyHealth) || 'none', VERIFY_HEALTH),
    healthTimeoutMs: duration(Inputs.HealthTimeout, text(Inputs.HealthTimeout), 1000) ?? 10 * 60_000
  };
}

/** `Standard_D4s_v5=Standard_D4as_v5,Standard_D4s_v4`, one preferred size a line (or `;` between them). */
function parseFallbackSizes(value: string): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  const expected = 'expected lines such as Standard_D4s_v5=Standard_D4as_v5,Standard_D4s_v4';
  for (const line of value
    .split(/[\n;]/)
    .map(l => l.trim())
    .filter(Boolean)) {
    const eq = line.indexOf('=');
    const preferred = line.slice(0, Math.max(eq, 0)).trim();
    const fallbacks = line
      .slice(eq + 1)
      .split(',')
      .map(s => s.trim())
      .filter(Boolean);
    if (eq < 0 || !VM_SIZE_PATTERN.test(preferred) || fallbacks.length === 0)
      throw new InputError(Inputs.FallbackSizes, `has ${quote(line)}; ${expected}`);
    const bad = fallbacks.find(s => !VM_SIZE_PATTERN.test(s));
    if (bad) throw new InputError(Inputs.FallbackSizes, `has the size ${quote(bad)}; ${expected}`);
    if (map[preferred.toLowerCase()])
      throw new InputError(Inputs.FallbackSizes, `lists ${quote(preferred)} twice; give each size one line`);
    map[preferred.toLowerCase()] = fallbacks;
  }
  return map;
}

function parseRaiseMaxPrice(value: string): RaiseMaxPrice {
  const lower = value.toLowerCase();
  if (!lower || lower === 'no' || lower === 'false') return { kind: 'no' };
  if (lower === 'to-current') return { kind: 'to-current' };
  const usd = /^\$?(\d+(?:\.\d+)?)$/.exec(lower);
  if (usd && Number(usd[1]) > 0 && Number(usd[1]) <= 1000) return { kind: 'cap', usd: Number(usd[1]) };
  throw new InputError(
    Inputs.RaiseMaxPrice,
    `is ${quote(value)}; expected no, to-current, or a cap in US dollars per hour such as 0.05`
  );
}

/** Lists are separated by commas or new lines; blanks are ignored. */
function list(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(s => s.trim())
    .filter(s => s.length > 0);
}

function optionalGuid(input: string, value: string): string | undefined {
  if (!value) return undefined;
  if (!isGuid(value))
    throw new InputError(
      input,
      `is ${quote(value)}; expected a GUID such as 00000000-0000-0000-0000-000000000000`
    );
  return value;
}

function optionalTenant(value: string): string | undefined {
  if (!value) return undefined;
  if (isGuid(value) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(value)) return value;
  throw new InputError(
    Inputs.TenantId,
    `is ${quote(value)}; expected a tenant GUID or a domain such as contoso.onmicrosoft.com`
  );
}

function optionalUrl(input: string, value: string): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(input, `is ${quote(value)}; expected an https:// URL`);
  }
  if (url.protocol !== 'https:')
    throw new InputError(
      input,
      `is ${quote(value)}; expected an https:// URL (tokens are never sent in clear text)`
    );
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function parseTag(value: string): Tag {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq).trim();
  const tagValue = eq < 0 ? '' : value.slice(eq + 1).trim();
  const expected = 'expected Name=Value, such as AttemptRestartAfterEviction=true';
  if (eq < 0 || !name || !tagValue) throw new InputError(Inputs.Tag, `is ${quote(value)}; ${expected}`);
  if (name.length > 512 || TAG_NAME_FORBIDDEN.test(name)) {
    throw new InputError(
      Inputs.Tag,
      `has the name ${quote(name)}; tag names have at most 512 characters and none of < > % & \\ ? /`
    );
  }
  if (tagValue.length > 256)
    throw new InputError(
      Inputs.Tag,
      `has a value of ${tagValue.length} characters; tag values have at most 256`
    );
  return { name, value: tagValue };
}

function parseVmTarget(entry: string): VmTarget {
  const expected =
    'expected a VM or scale-set instance resource ID (/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name>, or …/virtualMachineScaleSets/<scale set>/virtualMachines/<instance id>), <resource-group>/<name>, or <resource-group>/<scale set>/<instance id>';
  if (entry.startsWith('/')) {
    const ref = parseVmResourceId(entry);
    if (!ref) throw new InputError(Inputs.Vms, `has ${quote(entry)}; ${expected}`);
    return { kind: 'id', ref };
  }
  const parts = entry.split('/');
  if (parts.length === 2 && RESOURCE_GROUP_PATTERN.test(parts[0]!) && VM_NAME_PATTERN.test(parts[1]!)) {
    return { kind: 'name', resourceGroup: parts[0]!, name: parts[1]! };
  }
  // A Uniform instance is named `{scale set}_{instance id}` in Azure.
  if (
    parts.length === 3 &&
    RESOURCE_GROUP_PATTERN.test(parts[0]!) &&
    VM_NAME_PATTERN.test(parts[1]!) &&
    INSTANCE_ID_PATTERN.test(parts[2]!)
  ) {
    return { kind: 'name', resourceGroup: parts[0]!, name: `${parts[1]}_${parts[2]}` };
  }
  throw new InputError(Inputs.Vms, `has ${quote(entry)}; ${expected}`);
}

function integer(input: string, value: string, fallback: number, min: number, max: number): number {
  if (!value) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(input, `is ${quote(value)}; expected a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

function duration(input: string, value: string, minMs = 0): number | undefined {
  if (!value) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms < minMs || ms > 6 * 3_600_000) {
    throw new InputError(
      input,
      `is ${quote(value)}; expected a duration from ${formatDuration(minMs)} to 6h such as 90s, 10m or 1h30m`
    );
  }
  return ms;
}

function boolean(input: string, value: string, fallback: boolean): boolean {
  if (!value) return fallback;
  if (/^(true|yes|on)$/i.test(value)) return true;
  if (/^(false|no|off)$/i.test(value)) return false;
  throw new InputError(input, `is ${quote(value)}; expected true or false`);
}

function oneOf<T extends string>(input: string, value: string, allowed: readonly T[]): T {
  const lower = value.toLowerCase();
  if ((allowed as readonly string[]).includes(lower)) return lower as T;
  throw new InputError(input, `is ${quote(value)}; expected one of ${allowed.join(', ')}`);
}
