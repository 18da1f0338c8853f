/**
 * A VM's fallback size list, read from its tags or the fleet-wide input: the owner's opt-in to
 * resizing. A VM without one is never resized. Its preferred size is the one recorded in
 * PREFERRED_TAG before its first resize, or, before that, its size. Also the shape of what Azure
 * says about sizes in a region, which discovery reads and the judge ranks by.
 */
import type { VmRecord } from './discovery.js';
import { VM_SIZE_PATTERN } from '../plan/inputs.js';

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

/** What Azure says about sizes in the VM's region (keys lower case); a missing map means "not known". */
export interface SizeFacts {
  /** `virtualMachines/{vm}/vmSizes`: the sizes the VM can be resized to. */
  offered?: Set<string>;
  /** Resource SKUs restrictions for the subscription in the VM's region and zone: size → why. */
  restricted: Map<string, string>;
  /** Sizes Resource SKUs marks `LowPriorityCapable: False`: never a Spot VM's. */
  notSpot?: Set<string>;
  /** Current Spot price (USD/hour) for the VM's OS in its region. */
  prices: Map<string, number>;
  /** SpotResources eviction rate band, e.g. `0-5`, `20+`. */
  evictionRates: Map<string, string>;
}
