/**
 * What a start that Azure refused for good means for the VM: its outcome, and whether capacity
 * or price may still change within the run. The Azure error vocabulary below knows nothing of
 * our outcomes; this is where the two meet.
 */
import {
  CAPACITY_CODES,
  currentSpotPrice,
  isQuota,
  permissionAdvice,
  PRICE_CODE,
  SPOT_QUOTA_WORDS,
  type AzureErrorInfo
} from '../azure/errors.js';
import type { Outcome } from '../report/outcomes.js';

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
  if (isQuota(info))
    return { outcome: 'quota-exceeded', detail: `${SPOT_QUOTA_WORDS}: ${detail}`, capacityRetry: false };
  if (
    info.status === 404 ||
    info.code === 'ResourceNotFound' ||
    info.code === 'NotFound' ||
    // A scale-set start naming an instance autoscale deleted (start-operation.ts).
    (info.code === 'InvalidParameter' && /is not an active Virtual Machine Scale Set VM/i.test(info.message))
  ) {
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
