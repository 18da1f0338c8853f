/**
 * Finding the VMs a run is about: Resource Graph's rows, the current annotation of the Uniform
 * instances (read apart: their query has no join to spare), and the annotation history of the
 * deallocated ones whose current annotation is not a person's stop.
 */
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import type { Clock } from '../azure/retry.js';
import { attachHistory } from './annotation-history.js';
import { attachCurrentAnnotations } from './current-annotations.js';
import { DOWN_STATES, lookupVms, type DiscoveryStats, type VmFilter, type VmRecord } from './discovery.js';

export type Lookup = (filter: VmFilter) => Promise<VmRecord[]>;

export function lookupIn(
  graph: ResourceGraphClient,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): Lookup {
  const history = historyIn(graph, subscriptions, clock, stats);
  return async filter => {
    const vms = await lookupVms(graph, filter, subscriptions, clock, stats);
    if (!filter.withAnnotations) return vms;
    // A sweep judges only the VMs that are down; a VM named or dispatched is judged whatever ARG's lagging power state says.
    const named = Boolean(filter.ids?.length || filter.names?.length);
    const judged = vms.filter(v => named || DOWN_STATES.includes(v.powerState));
    await attachCurrentAnnotations(
      graph,
      judged.filter(v => v.kind === 'vmss-uniform'),
      subscriptions,
      clock,
      stats
    );
    // The order of the VM's annotations decides who took it down, unless the current one is a person's stop.
    if (!filter.historyLater) await history(vms);
    return vms;
  };
}

/** Reads the annotation history of VMs a lookup left it out for (`historyLater`). */
export type History = (vms: VmRecord[]) => Promise<void>;

export function historyIn(
  graph: ResourceGraphClient,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): History {
  return vms =>
    attachHistory(
      graph,
      vms.filter(v => DOWN_STATES.includes(v.powerState)),
      subscriptions,
      clock,
      stats
    );
}

/** How the phases above read the fleet: VMs by filter, and the history a lookup left for later. */
export interface FleetReader {
  lookup: Lookup;
  history: History;
}

export function fleetReader(
  graph: ResourceGraphClient,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): FleetReader {
  return {
    lookup: lookupIn(graph, subscriptions, clock, stats),
    history: historyIn(graph, subscriptions, clock, stats)
  };
}
