/**
 * Which sizes a VM may take when its own has no Spot capacity, in which order, and which of them
 * are worth a try now. Pure: the facts (sizes offered, restrictions, prices, eviction rates) are
 * read elsewhere and handed in.
 */
import type { SizeFacts, SizeList } from '../discover/size-list.js';
import type { FallbackOrder } from '../plan/inputs.js';

/** Whether `size` is one the owner accepts for this VM: its preferred size or one of its fallbacks. */
export function isAcceptable(list: SizeList, size: string): boolean {
  return [list.preferred, ...list.fallbacks].some(s => s.toLowerCase() === size.toLowerCase());
}

export type Candidate = { size: string; ok: true } | { size: string; ok: false; reason: string };

/**
 * The sizes to try after `current` failed for capacity, in order, each either worth a try or passed
 * over with the reason. The preferred size comes first (going home is always the best outcome);
 * the fallbacks follow in the owner's order, or with `eviction-rate` the lowest band first (ties
 * keep the owner's order). Sizes already tried in this run are left out.
 */
export function rankCandidates(
  list: SizeList,
  current: string,
  tried: Set<string>,
  facts: SizeFacts,
  maxPrice: number | null,
  order: FallbackOrder
): Candidate[] {
  const rank = (s: string) => bandFloor(facts.evictionRates.get(s.toLowerCase()));
  const fallbacks =
    order === 'eviction-rate'
      ? list.fallbacks
          .map((size, i) => ({ size, i }))
          .sort((a, b) => rank(a.size) - rank(b.size) || a.i - b.i)
          .map(x => x.size)
      : list.fallbacks;
  return [list.preferred, ...fallbacks]
    .filter(s => s.toLowerCase() !== current.toLowerCase() && !tried.has(s.toLowerCase()))
    .map(size => judgeSize(size, facts, maxPrice));
}

function judgeSize(size: string, facts: SizeFacts, maxPrice: number | null): Candidate {
  const key = size.toLowerCase();
  if (facts.offered && !facts.offered.has(key))
    return { size, ok: false, reason: 'not offered to this VM in its region (vmSizes)' };
  if (facts.notSpot?.has(key))
    return {
      size,
      ok: false,
      reason: 'the size is not offered for Spot (Resource SKUs: LowPriorityCapable False)'
    };
  const restriction = facts.restricted.get(key);
  if (restriction) return { size, ok: false, reason: `restricted for the subscription: ${restriction}` };
  if (maxPrice !== null && maxPrice !== -1) {
    const price = facts.prices.get(key);
    if (price === undefined)
      return {
        size,
        ok: false,
        reason: 'no current Spot price in SpotResources to check the max price against'
      };
    if (price > maxPrice)
      return { size, ok: false, reason: `Spot price ${price} USD is above the max price ${maxPrice} USD` };
  }
  return { size, ok: true };
}

/** `0-5` → 0, `20+` → 20; unknown bands sort last. */
function bandFloor(band: string | undefined): number {
  const m = /^(\d+)/.exec(band ?? '');
  return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
}
