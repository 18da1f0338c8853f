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
  private readonly catalogs = new Map<string, Promise<Catalog>>();

  constructor(
    private readonly compute: ComputeFor,
    private readonly clock: Clock,
    private readonly market: SpotMarket,
    private readonly vmReads: ResourceBudget
  ) {}

  /** Facts for the fallback of a deallocated VM: what `vmSizes` offers it, and Resource SKUs' restrictions. */
  async factsFor(vm: VmRecord, sizes: string[], deadline: number): Promise<SizeFacts> {
    const [offered, catalog] = await Promise.all([
      this.offered(vm, deadline),
      this.catalogOf(vm.subscriptionId, vm.location)
    ]);
    return this.facts(vm, sizes, offered, catalog);
  }

  /**
   * Facts for a running VM (revert): what the region and the VM's zone offer for Spot, from
   * Resource SKUs alone. `vmSizes` of a running VM lists only what its hardware cluster can run
   * ("If your VM is still running and you don't see the size you want in the list, stopping the
   * virtual machine may reveal more sizes", Microsoft Learn, "Resize a virtual machine"), which
   * would hide the common move back across processor makes.
   */
  async factsFromSkus(vm: VmRecord, sizes: string[]): Promise<SizeFacts> {
    const catalog = await this.catalogOf(vm.subscriptionId, vm.location);
    const offered = new Set(
      [...catalog.offered]
        .filter(
          ([, sku]) => sku.spot && (vm.zone === undefined || !sku.zones.length || sku.zones.includes(vm.zone))
        )
        .map(([name]) => name)
    );
    return this.facts(vm, sizes, offered, catalog);
  }

  private async facts(
    vm: VmRecord,
    sizes: string[],
    offered: Set<string>,
    catalog: Catalog
  ): Promise<SizeFacts> {
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
      const reason = (catalog.restrictions.get(key) ?? []).find(
        r => r.zones === undefined || (vm.zone !== undefined && r.zones.includes(vm.zone))
      );
      if (reason) why.set(key, reason.text);
    }
    const notSpot = new Set([...catalog.offered].filter(([, sku]) => !sku.spot).map(([name]) => name));
    return { offered, restricted: why, prices, evictionRates, notSpot };
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

  /**
   * The region's VM sizes in Resource SKUs, read once per subscription and region: each size's
   * zones and Spot capability (`LowPriorityCapable`, skus.json example
   * ListAvailableResourceSkusForARegion.json), and its restrictions for the subscription.
   */
  private catalogOf(subscriptionId: string, location: string): Promise<Catalog> {
    const key = `${subscriptionId}|${location}`.toLowerCase();
    let found = this.catalogs.get(key);
    if (!found) {
      found = withTransientRetry(this.clock, `Resource SKUs in ${location}`, async () => {
        const catalog: Catalog = { restrictions: new Map(), offered: new Map() };
        for await (const sku of this.compute(subscriptionId).resourceSkus.list({
          filter: `location eq '${location}'`
        })) {
          if (sku.resourceType !== 'virtualMachines' || !sku.name) continue;
          const name = sku.name.toLowerCase();
          const info = (sku.locationInfo ?? []).find(
            l => l.location?.toLowerCase() === location.toLowerCase()
          );
          const spot = sku.capabilities?.find(c => c.name === 'LowPriorityCapable')?.value;
          catalog.offered.set(name, { zones: info?.zones ?? [], spot: spot?.toLowerCase() !== 'false' });
          const here = (sku.restrictions ?? []).filter(r =>
            (r.restrictionInfo?.locations ?? r.values ?? []).some(
              l => l.toLowerCase() === location.toLowerCase()
            )
          );
          if (here.length)
            catalog.restrictions.set(
              name,
              here.map(r => ({
                zones: r.type === 'Zone' ? (r.restrictionInfo?.zones ?? []) : undefined,
                text: `${r.reasonCode ?? 'restricted'} (${r.type === 'Zone' ? `zones ${(r.restrictionInfo?.zones ?? []).join(', ')}` : location})`
              }))
            );
        }
        return catalog;
      });
      this.catalogs.set(key, found);
      // A refused read is not cached: the caller reports it, and another VM may ask again.
      found.catch(() => this.catalogs.delete(key));
    }
    return found;
  }
}

interface Catalog {
  restrictions: Map<string, Restriction[]>;
  offered: Map<string, { zones: string[]; spot: boolean }>;
}

interface Restriction {
  /** Zone restriction: only these zones; undefined: the whole region. */
  zones?: string[];
  text: string;
}
