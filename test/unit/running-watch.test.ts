/**
 * The bulk confirmation of started VMs: one listing of a subscription per interval, whatever the
 * number of VMs waiting, no more than a page a second, and each VM told what the first listing
 * after its question showed.
 */
import { describe, expect, test } from '@jest/globals';
import { RunningWatch } from '../../src/act/running-watch.js';
import { realClock } from '../../src/azure/retry.js';

function fakeCompute(states: Map<string, string>) {
  const calls: number[] = [];
  const compute = () =>
    ({
      virtualMachines: {
        listAll: () => {
          calls.push(Date.now());
          const all = async function* () {
            for (const [id, power] of states)
              yield {
                id,
                instanceView: {
                  statuses: [
                    {
                      code:
                        power === 'starting' ? 'ProvisioningState/updating' : 'ProvisioningState/succeeded'
                    },
                    { code: `PowerState/${power}` }
                  ]
                }
              };
          };
          return {
            byPage: async function* () {
              yield [] as unknown[];
              const page = [];
              for await (const vm of all()) page.push(vm);
              yield page;
            }
          };
        }
      }
    }) as never;
  return { compute, calls };
}

describe('RunningWatch', () => {
  test('one listing for many VMs asking again and again, and a page a second at most', async () => {
    const states = new Map(Array.from({ length: 300 }, (_, i) => [`/vm/${i}`, 'starting']));
    const { compute, calls } = fakeCompute(states);
    const watch = new RunningWatch({ clock: realClock, compute }, 50);
    const began = Date.now();
    setTimeout(() => {
      for (const id of states.keys()) states.set(id, 'running');
    }, 400);
    await Promise.all(
      [...states.keys()].map(async id => {
        for (;;) {
          const seen = await watch.next({ id, subscriptionId: 'sub' });
          if (seen === 'running') return;
          expect(seen).toBe('on its way');
        }
      })
    );
    // The first listing (two pages) found them starting; the next waited 2 s, not 50 ms, and found them running.
    expect(calls).toHaveLength(2);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - began).toBeGreaterThanOrEqual(2000);
  });
});
