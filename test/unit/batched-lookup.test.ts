/**
 * Look-ups by ID made close together share one Resource Graph query; each caller gets its own rows.
 */
import { describe, expect, test } from '@jest/globals';
import { batchedLookup } from '../../src/act/batched-lookup.js';
import type { VmFilter, VmRecord } from '../../src/discover/discovery.js';
import { virtualClock } from '../helpers/virtual-clock.js';

const id = (n: number) =>
  `/subscriptions/00000001-5107-4e5f-9d3a-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-${n}`;

describe('batched lookup', () => {
  test('requests within the window go out as one query; others pass through', async () => {
    const clock = virtualClock();
    const queries: VmFilter[] = [];
    const lookup = async (filter: VmFilter) => {
      queries.push(filter);
      // Resource Graph answers in its own case and order, and leaves out what it did not find.
      return (filter.ids ?? [])
        .filter(i => !i.endsWith('-404'))
        .map(i => ({ id: i.toUpperCase() }) as VmRecord);
    };
    const batched = batchedLookup(lookup, clock, 100);
    const a = batched({ candidatesOnly: false, ids: [id(1)], withAnnotations: true });
    const b = batched({ candidatesOnly: false, ids: [id(2), id(404)], withAnnotations: true });
    const other = batched({ candidatesOnly: false, ids: [id(3)], withAnnotations: false });
    const sweep = batched({ candidatesOnly: true, withAnnotations: true });
    await clock.advance(100);
    expect((await a).map(r => r.id)).toEqual([id(1).toUpperCase()]);
    expect((await b).map(r => r.id)).toEqual([id(2).toUpperCase()]);
    expect((await other).map(r => r.id)).toEqual([id(3).toUpperCase()]);
    await sweep;
    expect(queries).toEqual([
      { candidatesOnly: true, withAnnotations: true },
      { candidatesOnly: false, ids: [id(1), id(2), id(404)], withAnnotations: true },
      { candidatesOnly: false, ids: [id(3)], withAnnotations: false }
    ]);
    // The next request after the window is a new query.
    const later = batched({ candidatesOnly: false, ids: [id(4)], withAnnotations: true });
    await clock.advance(100);
    await later;
    expect(queries).toHaveLength(4);
  });
});
