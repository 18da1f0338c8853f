/**
 * What an Azure error means for us: the one place that maps ARM error codes and statuses to an
 * outcome of a VM, or to "try again".
 */
import { HELD_RETRY_AFTER } from './long-retry-after.js';

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

/**
 * Codes that decide an outcome wherever they sit in an error. Azure wraps them: a failed start
 * operation reads `ResourceOperationFailure` ("The resource operation completed with terminal
 * provisioning state 'Failed'.") with `AllocationFailed` in `details[]` (as in Azure/azure-cli#2401
 * and MicrosoftDocs/azure-docs#41402 for a zonal one); Compute's `ApiError`
 * (specification/compute/resource-manager/Microsoft.Compute/common-types/v1/common.json) has
 * `details[]` and an `innererror`; the Azure REST API guidelines nest `innererror.code` (which
 * core-lro follows); Compute's 429 is `OperationNotAllowed` with `TooManyRequests` in its details
 * ("Troubleshooting throttling errors in Azure", Compute); and a detail's message can itself be a
 * JSON error body.
 */
const DECISIVE_CODES = [...CAPACITY_CODES, PRICE_CODE, 'TooManyRequests', 'OperationNotAllowed'];

interface ErrorNode {
  code?: unknown;
  message?: unknown;
  details?: unknown;
  innererror?: unknown;
  exceptiontype?: unknown;
  errordetail?: unknown;
  error?: unknown;
}

/** The deepest decisive code in an error tree (the first one at that depth), with its message. */
export function innermostKnownError(tree: unknown): { code: string; message: string } | undefined {
  let best: { code: string; message: string; depth: number } | undefined;
  const visit = (node: unknown, depth: number): void => {
    if (depth > 12) return;
    if (typeof node === 'string') {
      const embedded = parseJsonObject(node);
      if (embedded) visit(embedded, depth + 1);
      return;
    }
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item, depth);
      return;
    }
    const n = node as ErrorNode;
    if (n.error) visit(n.error, depth);
    let code = decisiveCode(n.code) ?? decisiveCode(n.exceptiontype);
    const message =
      typeof n.message === 'string' ? n.message : typeof n.errordetail === 'string' ? n.errordetail : '';
    // OperationNotAllowed decides only as a cores quota; otherwise it is a wrapper (Compute's 429, a busy VM).
    if (code === 'OperationNotAllowed' && !/quota/i.test(message)) code = undefined;
    if (code && (!best || depth > best.depth)) best = { code, message, depth };
    visit(n.details, depth + 1);
    visit(n.innererror, depth + 1);
    visit(n.message, depth);
    visit(n.errordetail, depth);
  };
  visit(tree, 0);
  return best && { code: best.code, message: best.message };
}

/** The inner code, with the outer code and message kept in the text. */
export function withOuter(
  inner: { code: string; message: string },
  outer: { code?: string; message?: string }
): { code: string; message: string } {
  return {
    code: inner.code,
    message: `${inner.message}${outer.code ? ` (in ${outer.code}: ${outer.message ?? ''})` : ''}`
  };
}

/** A decisive code as such, or as a .NET exception type (`…ZonalAllocationFailedException`). */
function decisiveCode(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value
    .split('.')
    .pop()!
    .replace(/Exception$/, '');
  return DECISIVE_CODES.find(c => c.toLowerCase() === name.toLowerCase());
}

function parseJsonObject(text: string): object | undefined {
  const start = text.indexOf('{');
  if (start < 0 || !text.includes('"code"')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text.slice(start));
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads status, code, message and Retry-After from whatever the SDK threw. The code is the
 * innermost decisive one (capacity, price, quota, throttling), so a nested `AllocationFailed` is
 * capacity and not a `failed` VM; the outer code stays in the message.
 */
export function describeAzureError(error: unknown): AzureErrorInfo {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & {
    statusCode?: number;
    code?: string;
    details?: unknown;
    response?: { headers?: { get(name: string): string | undefined }; bodyAsText?: string };
  };
  const lro = LRO_FAILURE.exec(e.message);
  const info: AzureErrorInfo = lro
    ? { code: lro[1], message: lro[2]!.trim() }
    : { status: e.statusCode, code: e.code, message: e.message };
  const inner = lro ? innermostKnownError(lro[2]) : innermostKnownError([e.details, e.response?.bodyAsText]);
  if (inner && inner.code !== info.code) Object.assign(info, withOuter(inner, info));
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
  if (info.status === 409 && !isQuota(info) && !isCapacityOrPrice(info) && !fixedRefusal(info)) return true;
  if (
    info.code === 'TooManyRequests' ||
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

/**
 * Refusals of one size that no retry changes, by the published words: Azure sends the Spot error
 * keys' messages under `OperationNotAllowed` with 409 ("Error messages for Azure Spot Virtual
 * Machines and scale sets"; Azure/azure-cli#13974), so the message decides, and the key is
 * accepted as a code too. Returns why, in a few words, or undefined.
 */
const FIXED_REFUSALS: { code?: string; message: RegExp; why: string }[] = [
  {
    code: 'AzureSpotIsNotSupportedForThisVMSize',
    message: /Spot Virtual Machine is not supported for this VM size/i,
    why: 'the size is not offered for Spot'
  },
  {
    message: /changing from resource disk to non-resource disk VM size and vice-versa is not allowed/i,
    why: 'a resize across the temp-disk boundary (local temp disk or none) is not allowed'
  },
  {
    message: /is not available in the current hardware cluster/i,
    why: "the size is not available on the VM's current hardware cluster"
  },
  {
    code: 'MaxPriceValueInvalid',
    message: /Invalid max price value/i,
    why: 'the max price is not a value Azure takes (-1, or above zero with up to five decimals)'
  }
];

export function fixedRefusal(info: AzureErrorInfo): string | undefined {
  return FIXED_REFUSALS.find(
    r => (r.code !== undefined && info.code === r.code) || r.message.test(info.message)
  )?.why;
}

/**
 * What a Spot quota refusal means, in Microsoft's words ("Use Azure Spot Virtual Machines": "Azure
 * Spot Virtual Machines will have a separate quota pool. Spot quota will be shared between VMs and
 * scale-set instances." "The deallocated VMs will count against your quota"); the pool is the
 * region's "Total Regional Spot vCPUs" (`lowPriorityCores`), not a family's.
 */
export const SPOT_QUOTA_WORDS =
  "over the region's Spot vCPU quota (Total Regional Spot vCPUs: one pool shared by Spot VMs and scale-set instances, deallocated Spot VMs included)";

export function isQuota(info: AzureErrorInfo): boolean {
  return info.code === 'OperationNotAllowed' && /quota/i.test(info.message);
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
