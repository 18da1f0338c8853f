/**
 * What an Azure error means for us: the one place that maps ARM error codes and statuses to an
 * outcome of a VM, or to "try again".
 */
import { HELD_RETRY_AFTER } from './long-retry-after.js';
import type { Outcome } from './outcomes.js';

export interface AzureErrorInfo {
  status?: number;
  code?: string;
  message: string;
  retryAfterMs?: number;
}

export const CAPACITY_CODES = [
  'SkuNotAvailable',
  'AllocationFailed',
  'ZonalAllocationFailed',
  'OverconstrainedAllocationRequest',
  'OverconstrainedZonalAllocationRequest'
];
export const PRICE_CODE = 'SpotPriceGreaterThanProvidedMaxPrice';
const NETWORK_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'REQUEST_SEND_ERROR',
  'ENOTFOUND'
];
/** The message core-lro gives a failed long-running operation: "… has failed. <code>. <message>". */
const LRO_FAILURE = /The long-running operation has failed\. ([A-Za-z0-9_.]+)\. ([\s\S]*)$/;

/** Reads status, code, message and Retry-After from whatever the SDK threw. */
export function describeAzureError(error: unknown): AzureErrorInfo {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & {
    statusCode?: number;
    code?: string;
    response?: { headers?: { get(name: string): string | undefined } };
  };
  const lro = LRO_FAILURE.exec(e.message);
  if (lro) return { code: lro[1], message: lro[2]!.trim() };
  const info: AzureErrorInfo = { status: e.statusCode, code: e.code, message: e.message };
  const held = e.response?.headers?.get(HELD_RETRY_AFTER);
  const retryAfter = e.response?.headers?.get('retry-after');
  if (held) info.retryAfterMs = Number(held);
  else if (retryAfter) info.retryAfterMs = parseRetryAfter(retryAfter);
  return info;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string, now = Date.now()): number | undefined {
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Throttling, server errors, dropped connections and "another operation is in progress": try again. */
export function isTransient(info: AzureErrorInfo): boolean {
  if (info.status === 429 || info.status === 408) return true;
  if (info.status !== undefined && info.status >= 500 && info.status !== 501 && info.status !== 505)
    return true;
  if (info.code && NETWORK_CODES.includes(info.code)) return true;
  if (
    info.status === undefined &&
    /socket hang up|ECONNRESET|network|timed? ?out|aborted/i.test(info.message)
  )
    return true;
  // 409 is also how capacity, price and quota refusals come back: only the rest means "busy, try again".
  if (info.status === 409 && !isQuota(info) && !isCapacityOrPrice(info)) return true;
  if (
    info.code === 'OperationPreempted' ||
    info.code === 'RetryableError' ||
    info.code === 'InternalExecutionError'
  )
    return true;
  return false;
}

function isCapacityOrPrice(info: AzureErrorInfo): boolean {
  return info.code !== undefined && (CAPACITY_CODES.includes(info.code) || info.code === PRICE_CODE);
}

function isQuota(info: AzureErrorInfo): boolean {
  return info.code === 'OperationNotAllowed' && /quota/i.test(info.message);
}

export interface StartFailure {
  outcome: Outcome;
  detail: string;
  /** Worth trying again later in this run (capacity or price may come back). */
  capacityRetry: boolean;
  currentPrice?: number;
}

/** Maps a start failure that is not transient to the VM's outcome. */
export function classifyStartFailure(info: AzureErrorInfo): StartFailure {
  const code = info.code ?? (info.status ? `HTTP ${info.status}` : 'Error');
  const detail = `${code}: ${info.message}`;
  if (info.code && CAPACITY_CODES.includes(info.code))
    return { outcome: 'capacity-unavailable', detail, capacityRetry: true };
  if (info.code === PRICE_CODE) {
    return {
      outcome: 'price-above-max',
      detail,
      capacityRetry: true,
      currentPrice: currentSpotPrice(info.message)
    };
  }
  if (isQuota(info)) return { outcome: 'quota-exceeded', detail, capacityRetry: false };
  if (info.status === 404 || info.code === 'ResourceNotFound' || info.code === 'NotFound') {
    return { outcome: 'deleted', detail: 'the VM no longer exists', capacityRetry: false };
  }
  if (info.status === 403 || info.code === 'AuthorizationFailed') {
    return {
      outcome: 'failed',
      detail: `${detail} ${permissionAdvice(info.message)}`.trim(),
      capacityRetry: false
    };
  }
  return { outcome: 'failed', detail, capacityRetry: false };
}

/**
 * Azure's price error reads "… the provided max price '0.01 USD' is lower than the current spot price
 * '0.0207 USD' …"; the current price is the second amount.
 */
export function currentSpotPrice(message: string): number | undefined {
  const match = /current spot price '?\$?([0-9]+(?:\.[0-9]+)?)/i.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** ARM's AuthorizationFailed message names the action; say which role permission grants it. */
export function permissionAdvice(message: string): string {
  const action = /action '([^']+)'/i.exec(message)?.[1];
  return action
    ? `The identity lacks the permission '${action}': add it to the role assigned to the identity (see the custom role in the README).`
    : 'The identity lacks a permission: see the custom role in the README.';
}
