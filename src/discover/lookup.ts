/**
 * Finding the VMs a run is about: Resource Graph's rows, with the annotation history of the
 * deallocated ones whose current annotation no longer explains why they are down.
 */
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import type { Clock } from '../azure/retry.js';
import { attachHistory } from './annotation-history.js';
import { DOWN_STATES, lookupVms, type DiscoveryStats, type VmFilter, type VmRecord } from './discovery.js';

export type Lookup = (filter: VmFilter) => Promise<VmRecord[]>;

export function lookupIn(
  graph: ResourceGraphClient,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): Lookup {
  return async filter => {
    const vms = await lookupVms(graph, filter, subscriptions, clock, stats);
    // A resize or a max-price change replaced the annotation that explains a deallocation: read the history.
    if (filter.withAnnotations)
      await attachHistory(
        graph,
        vms.filter(v => DOWN_STATES.includes(v.powerState)),
        subscriptions,
        clock,
        stats
      );
    return vms;
  };
}
