/** Compute's scale-set throttling policies in the emulator, with Microsoft's documented numbers. */
import { describe, expect, test } from '@jest/globals';
import { ScaledClock } from '../emulator/clock.js';
import { Throttles } from '../emulator/azure/throttle.js';

/** A clock that does not move: no bucket refills while the test counts. */
const frozen = () => Object.assign(new ScaledClock(1), { now: () => 1_700_000_000_000 });

function countUntilRefused(take: () => { ok: boolean }): number {
  let n = 0;
  while (take().ok) if (++n > 100_000) throw new Error('never refused');
  return n;
}

describe('scale-set policies (Microsoft Learn, "Compute throttling limits")', () => {
  test('"Update VMSS": 1500 start calls per subscription and region, whatever the scale set', () => {
    const t = new Throttles(frozen());
    expect(countUntilRefused(() => t.scaleSetUpdate('sub', 'eastus'))).toBe(1500);
    expect(t.scaleSetUpdate('sub', 'eastus')).toMatchObject({
      ok: false,
      policy: 'UpdateVMSSSubscription',
      allowed: 1500
    });
    // Another region has its own bucket; the per-resource limit does not apply to start.
    expect(t.scaleSetUpdate('sub', 'westus').ok).toBe(true);
  });

  test('"Low Cost Get VMSS": 36 GETs per scale set', () => {
    const t = new Throttles(frozen());
    expect(countUntilRefused(() => t.scaleSetRead('sub', 'eastus', 'ss-a'))).toBe(36);
    expect(t.scaleSetRead('sub', 'eastus', 'ss-a')).toMatchObject({
      ok: false,
      policy: 'LowCostGetVMSSResource'
    });
    expect(t.scaleSetRead('sub', 'eastus', 'ss-b').ok).toBe(true);
  });

  test('"Get VMSS VMs": 36 per instance, 6000 per subscription and region', () => {
    const perInstance = new Throttles(frozen());
    expect(countUntilRefused(() => perInstance.scaleSetVmRead('sub', 'eastus', 'i-0'))).toBe(36);
    const perSubscription = new Throttles(frozen());
    for (let i = 0; i < 200; i++)
      for (let k = 0; k < 30; k++)
        expect(perSubscription.scaleSetVmRead('sub', 'eastus', `i-${i}`).ok).toBe(true);
    expect(perSubscription.scaleSetVmRead('sub', 'eastus', 'fresh')).toMatchObject({
      ok: false,
      policy: 'GetVMSSVMsSubscription',
      allowed: 6000
    });
  });

  test('the buckets refill at the documented rate: 12 a minute per instance', () => {
    let now = 1_700_000_000_000;
    const clock = Object.assign(new ScaledClock(1), { now: () => now });
    const t = new Throttles(clock);
    countUntilRefused(() => t.scaleSetVmRead('sub', 'eastus', 'i-0'));
    now += 60_000;
    expect(countUntilRefused(() => t.scaleSetVmRead('sub', 'eastus', 'i-0'))).toBe(12);
  });
});
