/**
 * Whether Azure's own Try & restore will bring an evicted scale-set instance back, so that the
 * action leaves it alone. Microsoft Learn, "Azure Spot Virtual Machines for Virtual Machine Scale
 * Sets": Try & restore "attempts to restore Azure Spot Virtual Machines evicted due to capacity";
 * "Try & restore is disabled in scale sets that use Autoscale"; and the compute specification's
 * `SpotRestorePolicy.restoreTimeout` is the "time duration after which the platform will not try to
 * restore the VMSS SPOT instances" (an ISO 8601 duration). The spec's `enabled` also names "pricing
 * constraints": an instance whose max price is below the current Spot price is not coming back.
 *
 * Not published, and so decided here: the timeout is counted from the eviction (the
 * `VirtualMachinePreempted` annotation); when that time is not known the platform is trusted. A
 * price eviction whose price has fallen since looks like a capacity one: nothing Azure shows
 * tells them apart.
 */
import type { VmRecord } from '../discover/discovery.js';

export interface TryRestoreFacts {
  now: number;
  /** The current Spot price of the instance's size and region, when known. */
  spotPrice?: number;
}

export type TryRestoreVerdict = { applies: true; detail: string } | { applies: false; why: string };

export function tryRestore(vm: VmRecord, facts: TryRestoreFacts): TryRestoreVerdict | undefined {
  const ss = vm.scaleSet;
  if (!ss?.tryRestore) return undefined;
  if (ss.autoscale)
    return {
      applies: false,
      why: `its scale set ${ss.name} uses autoscale, which turns Try & restore off`
    };
  if (
    vm.maxPrice !== null &&
    vm.maxPrice !== -1 &&
    facts.spotPrice !== undefined &&
    facts.spotPrice > vm.maxPrice
  )
    return {
      applies: false,
      why: `the Spot price (${facts.spotPrice} USD/h) is above the scale set's max price (${vm.maxPrice}): Try & restore restores capacity evictions within the price`
    };
  const timeoutMs = isoDurationMs(ss.restoreTimeout);
  const evictedAt =
    vm.annotationName.toLowerCase() === 'virtualmachinepreempted' ? Date.parse(vm.annotationAt) : Number.NaN;
  if (timeoutMs !== undefined && !Number.isNaN(evictedAt) && facts.now - evictedAt >= timeoutMs)
    return {
      applies: false,
      why: `evicted longer ago than its scale set's restore timeout (${ss.restoreTimeout}): the platform has stopped trying`
    };
  return {
    applies: true,
    detail: `its scale set ${ss.name} has Try & restore: Azure restores its instances when capacity returns${ss.restoreTimeout ? `, for ${ss.restoreTimeout} after the eviction` : ''} (take-over-try-restore: true starts them anyway; an identity that cannot read autoscale settings does not see autoscale, which turns Try & restore off)`
  };
}

/** `PT1H`, `P1DT30M`, `PT90S` → ms; anything else is unknown. */
export function isoDurationMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text.trim());
  if (!m || !(m[1] || m[2] || m[3] || m[4])) return undefined;
  return (
    (Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) *
    1000
  );
}
