/**
 * Which sizes a VM may take when its own has no Spot capacity, in which order, and which of them
 * are worth a try now. Pure: the facts (sizes offered, restrictions, prices, eviction rates) are
 * read elsewhere and handed in.
 *
 * The owner's list is the opt-in: a VM without one is never resized. Its preferred size is the one
 * recorded in PREFERRED_TAG before its first resize, or, before that, its size.
 */
import type { VmRecord } from './discovery.js';
import type { FallbackOrder } from './inputs.js';
import { VM_SIZE_PATTERN } from './inputs.js';

export const FALLBACK_TAG = 'SpotRestarterFallbackSizes';
export const PREFERRED_TAG = 'SpotRestarterPreferredSize';

export interface SizeList {
  preferred: string;
  /** The owner's fallbacks, in the owner's order; never the preferred size. */
  fallbacks: string[];
  source: 'tag' | 'input';
}

/** Tag names are case-insensitive in Azure. */
export function tagValue(tags: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(tags).find(([k]) => k.toLowerCase() === wanted)?.[1];
}

/**
 * The VM's list: its tag, else the fleet-wide input for its preferred size. Undefined: no list (the
 * VM is never resized). `invalid`: the tag is unreadable, said so, and the VM is not resized either.
 */
export function sizeListOf(
  vm: Pick<VmRecord, 'tags' | 'vmSize'>,
  fleetWide: Record<string, string[]>
): SizeList | { invalid: string } | undefined {
  const preferred = tagValue(vm.tags, PREFERRED_TAG)?.trim() || vm.vmSize;
  if (!preferred) return undefined;
  const tag = tagValue(vm.tags, FALLBACK_TAG);
  let listed: string[] | undefined;
  let source: SizeList['source'] = 'tag';
  if (tag !== undefined) {
    listed = tag
      .split(/[,;\s]+/)
      .map(s => s.trim())
      .filter(Boolean);
    const bad = listed.find(s => !VM_SIZE_PATTERN.test(s));
    if (bad || listed.length === 0)
      return {
        invalid: `tag ${FALLBACK_TAG} is '${tag.slice(0, 100)}'; expected sizes separated by commas, such as Standard_D4as_v5,Standard_D4s_v4`
      };
  } else {
    listed = fleetWide[preferred.toLowerCase()];
    source = 'input';
  }
  if (!listed) return undefined;
  const seen = new Set([preferred.toLowerCase()]);
  const fallbacks = listed.filter(s => !seen.has(s.toLowerCase()) && seen.add(s.toLowerCase()));
  return fallbacks.length ? { preferred, fallbacks, source } : undefined;
}

/** Whether `size` is one the owner accepts for this VM: its preferred size or one of its fallbacks. */
export function isAcceptable(list: SizeList, size: string): boolean {
  return [list.preferred, ...list.fallbacks].some(s => s.toLowerCase() === size.toLowerCase());
}

/** What Azure says about sizes in the VM's region (keys lower case); a missing map means "not known". */
export interface SizeFacts {
  /** `virtualMachines/{vm}/vmSizes`: the sizes the VM can be resized to. */
  offered?: Set<string>;
  /** Resource SKUs restrictions for the subscription in the VM's region and zone: size → why. */
  restricted: Map<string, string>;
  /** Current Spot price (USD/hour) for the VM's OS in its region. */
  prices: Map<string, number>;
  /** SpotResources eviction rate band, e.g. `0-5`, `20+`. */
  evictionRates: Map<string, string>;
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
