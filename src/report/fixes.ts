/**
 * What a person can do about each group of VMs, in one sentence that names the lever: the fix
 * comes before Azure's own text, which the summary keeps folded below the groups.
 */
import { formatDuration } from '../plan/duration.js';
import type { Group } from './groups.js';

const FALLBACK = 'fallback sizes (tag `SpotRestarterFallbackSizes`)';

/** One or two short sentences: the lever first. Details are in "What Azure said". */
export function fixFor(g: Group, context: { evidenceBoundMs?: number } = {}): string {
  const price = g.vms.find(v => v.currentPrice !== undefined)?.currentPrice;
  switch (g.outcome) {
    case 'capacity-unavailable':
      return g.reason === 'SkuNotAvailable'
        ? `Size not offered here now: list ${FALLBACK}. Later runs retry.`
        : `No Spot capacity: later runs retry; ${FALLBACK} bring them back sooner.`;
    case 'price-above-max':
      return `Spot price${price !== undefined ? ` ${price} USD/h` : ''} is above their max price: raise it, or input \`raise-max-price\`.`;
    case 'quota-exceeded':
      return 'Spot vCPU quota used up: request more (portal › Quotas › Compute) or free vCPUs.';
    case 'started-unhealthy':
      return 'Running, but not healthy in time: look at the VM (boot diagnostics, its health probe). A later run does not start it again.';
    case 'not-deallocated-in-time':
      return 'Eviction withdrawn or slow: a later sweep starts them if they go down.';
    case 'awaiting-evidence':
      return `No reason from Azure${context.evidenceBoundMs ? ` for over ${formatDuration(context.evidenceBoundMs)}` : ''}: check their Resource Health.`;
    case 'failed':
      if (/^(AuthorizationFailed|(HTTP )?403)$/.test(g.reason))
        return 'The identity may not start them: assign the restarter role (README › Permissions).';
      if (g.reason === 'TooManyRequests')
        return 'Throttled past this run’s time: the next run retries. Fewer tools polling them helps.';
      return 'Azure refused the start: see what Azure said below. The next run retries.';
    default:
      return '';
  }
}
