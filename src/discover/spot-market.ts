/**
 * The Spot market as Resource Graph shows it: the current Spot price per size, OS and region, and
 * the recent eviction rate per size and region, from the `SpotResources` table (Microsoft Learn,
 * "Use Azure Spot Virtual Machines", Azure Resource Graph: 90 days of price history under type
 * `microsoft.compute/skuspotpricehistory/ostype/location`, `properties.spotPrices[0].priceUSD`
 * the latest; the eviction rate band of the last 28 days under
 * `microsoft.compute/skuspotevictionrate/location`, `properties.evictionRate`).
 *
 * One query covers every size and region a run has in play: the sweep loads them all at once
 * before any start, and a VM asks only for what is not loaded or loading yet.
 */
import * as core from '@actions/core';
import { kqlList } from '../azure/kql.js';
import type { VmRecord } from './discovery.js';
import { describeAzureError } from '../azure/errors.js';
import { sizeListOf } from './size-list.js';

export type RunQuery = (query: string) => Promise<Record<string, unknown>[]>;

export interface SizeInRegion {
  location: string;
  size: string;
}

export function buildSpotQuery(pairs: SizeInRegion[]): string {
  const locations = [...new Set(pairs.map(p => p.location.toLowerCase()))].sort();
  const sizes = [...new Set(pairs.map(p => p.size.toLowerCase()))].sort();
  return [
    'spotresources',
    "| where type =~ 'microsoft.compute/skuspotpricehistory/ostype/location' or type =~ 'microsoft.compute/skuspotevictionrate/location'",
    `| where location in~ ${kqlList(locations)}`,
    `| where sku.name in~ ${kqlList(sizes)}`,
    '| project id, type, location, skuName = tostring(sku.name), osType = tostring(properties.osType),' +
      ' priceUSD = todouble(properties.spotPrices[0].priceUSD), evictionRate = tostring(properties.evictionRate)',
    '| order by id asc'
  ].join('\n');
}

const key = (location: string, size: string) => `${location}|${size}`.toLowerCase();

export class SpotMarket {
  private readonly prices = new Map<string, number>();
  private readonly rates = new Map<string, string>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Queries sent, for the report and the tests. */
  queries = 0;

  constructor(private readonly query: RunQuery) {}

  /** Loads what is not loaded yet in one query; a failed query leaves the prices unknown (said once). */
  async load(pairs: SizeInRegion[]): Promise<void> {
    const missing = pairs.filter(p => !this.loading.has(key(p.location, p.size)));
    if (missing.length) {
      this.queries++;
      core.info(
        `Spot prices: one SpotResources query for ${new Set(missing.map(p => p.size.toLowerCase())).size} size(s) in ${new Set(missing.map(p => p.location.toLowerCase())).size} region(s).`
      );
      const loaded = this.query(buildSpotQuery(missing)).then(
        rows => this.absorb(rows),
        error =>
          core.warning(
            `SpotResources could not be read (${describeAzureError(error).message.slice(0, 200)}): current Spot prices are unknown in this run.`
          )
      );
      for (const p of missing) this.loading.set(key(p.location, p.size), loaded);
    }
    await Promise.all(pairs.map(p => this.loading.get(key(p.location, p.size))));
  }

  /** The current Spot price in USD per hour, undefined when SpotResources has none. */
  price(location: string, size: string, osType = 'Linux'): number | undefined {
    return this.prices.get(`${key(location, size)}|${osType.toLowerCase()}`);
  }

  evictionRate(location: string, size: string): string | undefined {
    return this.rates.get(key(location, size));
  }

  private absorb(rows: Record<string, unknown>[]): void {
    for (const row of rows) {
      const type = String(row.type ?? '').toLowerCase();
      const k = key(String(row.location ?? ''), String(row.skuName ?? ''));
      if (
        type === 'microsoft.compute/skuspotpricehistory/ostype/location' &&
        typeof row.priceUSD === 'number'
      )
        this.prices.set(`${k}|${String(row.osType ?? '').toLowerCase()}`, row.priceUSD);
      else if (type === 'microsoft.compute/skuspotevictionrate/location' && row.evictionRate)
        this.rates.set(k, String(row.evictionRate));
    }
  }
}

/** The sizes and regions a run may need prices for: a VM's own size when it has a max price, and every size of its list. */
export function sizesInPlay(vms: VmRecord[], fleetWide: Record<string, string[]>): SizeInRegion[] {
  return vms.flatMap(vm => {
    const list = sizeListOf(vm, fleetWide);
    const sizes = list && !('invalid' in list) ? [vm.vmSize, list.preferred, ...list.fallbacks] : [];
    if (vm.maxPrice !== null && vm.maxPrice !== -1) sizes.push(vm.vmSize);
    return sizes.map(size => ({ location: vm.location, size }));
  });
}
