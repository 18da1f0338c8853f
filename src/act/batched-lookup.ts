/**
 * Look-ups of VMs by ID, gathered into one Resource Graph query. A dispatched VM is read when the
 * run takes it and again once it is down; in a wave that is hundreds of VMs within a minute, and
 * Resource Graph allows a user 15 queries per 5 seconds for the whole run. Requests made within
 * `windowMs` of each other share one query (up to 1 000 IDs, one page); each caller gets its rows.
 */
import { vmKey } from '../azure/resource-id.js';
import type { Clock } from '../azure/retry.js';
import type { VmRecord } from '../discover/discovery.js';
import type { Lookup } from '../discover/lookup.js';

const MAX_IDS = 1000;

interface Pending {
  ids: Set<string>;
  done: Promise<Map<string, VmRecord>>;
}

export function batchedLookup(lookup: Lookup, clock: Clock, windowMs: number): Lookup {
  const pending = new Map<boolean, Pending>();
  return async filter => {
    const ids = filter.ids;
    if (filter.candidatesOnly || !ids?.length || filter.names?.length || filter.resourceGroups?.length)
      return lookup(filter);
    let batch = pending.get(filter.withAnnotations);
    if (!batch || batch.ids.size + ids.length > MAX_IDS) {
      const fresh: Pending = {
        ids: new Set(),
        done: clock.sleep(windowMs).then(async () => {
          if (pending.get(filter.withAnnotations) === fresh) pending.delete(filter.withAnnotations);
          const rows = await lookup({
            candidatesOnly: false,
            ids: [...fresh.ids],
            withAnnotations: filter.withAnnotations
          });
          return new Map(rows.map(r => [vmKey(r.id), r]));
        })
      };
      pending.set(filter.withAnnotations, fresh);
      batch = fresh;
    }
    for (const id of ids) batch.ids.add(id);
    const rows = await batch.done;
    return ids.flatMap(id => rows.get(vmKey(id)) ?? []);
  };
}
