/**
 * What Azure says about the sizes a VM could take, read once per VM (its `vmSizes`) and once per
 * subscription and region (Resource SKUs, `$filter=location eq '…'`): the facts fallback-sizes.ts
 * decides from. `virtualMachines/{vm}/vmSizes` lists what the VM can be resized to; the Resource
 * SKUs API says which sizes are restricted for the subscription in a region or zone
 * (specification/compute/resource-manager/Microsoft.Compute/Skus/stable/2021-07-01/skus.json:
 * ResourceSkuRestrictions type Location|Zone, restrictionInfo, reasonCode).
 */
import type { VmRecord } from './discovery.js';
import type { SizeFacts } from './size-list.js';
import type { ResourceBudget } from '../azure/resource-budget.js';
import type { ComputeFor } from '../azure/clients.js';
import { withTransientRetry, type Clock } from '../azure/retry.js';
import type { SpotMarket } from './spot-market.js';

export class SizeFactsReader {
  private readonly restrictions = new Map<string, Promise<Map<string, Restriction[]>>>();

  constructor(
    private readonly compute: ComputeFor,
    private readonly clock: Clock,
    private readonly market: SpotMarket,
    private readonly vmReads: ResourceBudget
  ) {}

  async factsFor(vm: VmRecord, sizes: string[], deadline: number): Promise<SizeFacts> {
    const [offered, restricted] = await Promise.all([
      this.offered(vm, deadline),
      this.restrictedIn(vm.subscriptionId, vm.location)
    ]);
    await this.market.load(sizes.map(size => ({ location: vm.location, size })));
    const prices = new Map<string, number>();
    const evictionRates = new Map<string, string>();
    const why = new Map<string, string>();
    for (const size of sizes) {
      const key = size.toLowerCase();
      const price = this.market.price(vm.location, size, vm.osType);
      if (price !== undefined) prices.set(key, price);
      const rate = this.market.evictionRate(vm.location, size);
      if (rate) evictionRates.set(key, rate);
      const reason = (restricted.get(key) ?? []).find(
        r => r.zones === undefined || (vm.zone !== undefined && r.zones.includes(vm.zone))
      );
      if (reason) why.set(key, reason.text);
    }
    return { offered, restricted: why, prices, evictionRates };
  }

  private async offered(vm: VmRecord, deadline: number): Promise<Set<string>> {
    await this.vmReads.take(vm.id.toLowerCase(), { deadline, what: `${vm.name}: its available sizes` });
    return withTransientRetry(
      this.clock,
      `${vm.name}: available sizes`,
      async () => {
        const names = new Set<string>();
        for await (const size of this.compute(vm.subscriptionId).virtualMachines.listAvailableSizes(
          vm.resourceGroup,
          vm.name
        ))
          if (size.name) names.add(size.name.toLowerCase());
        return names;
      },
      undefined,
      deadline
    );
  }

  private restrictedIn(subscriptionId: string, location: string): Promise<Map<string, Restriction[]>> {
    const key = `${subscriptionId}|${location}`.toLowerCase();
    let found = this.restrictions.get(key);
    if (!found) {
      found = withTransientRetry(this.clock, `Resource SKUs in ${location}`, async () => {
        const map = new Map<string, Restriction[]>();
        for await (const sku of this.compute(subscriptionId).resourceSkus.list({
          filter: `location eq '${location}'`
        })) {
          if (sku.resourceType !== 'virtualMachines' || !sku.name) continue;
          const here = (sku.restrictions ?? []).filter(r =>
            (r.restrictionInfo?.locations ?? r.values ?? []).some(
              l => l.toLowerCase() === location.toLowerCase()
            )
          );
          if (here.length)
            map.set(
              sku.name.toLowerCase(),
              here.map(r => ({
                zones: r.type === 'Zone' ? (r.restrictionInfo?.zones ?? []) : undefined,
                text: `${r.reasonCode ?? 'restricted'} (${r.type === 'Zone' ? `zones ${(r.restrictionInfo?.zones ?? []).join(', ')}` : location})`
              }))
            );
        }
        return map;
      });
      this.restrictions.set(key, found);
      // A refused read is not cached: the caller reports it, and another VM may ask again.
      found.catch(() => this.restrictions.delete(key));
    }
    return found;
  }
}

interface Restriction {
  /** Zone restriction: only these zones; undefined: the whole region. */
  zones?: string[];
  text: string;
}
