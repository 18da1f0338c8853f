/**
 * Price first: a start whose max price is below the current Spot price fails with
 * SpotPriceGreaterThanProvidedMaxPrice (Microsoft Learn, "Azure Spot Virtual Machines" error
 * codes), so the price is read before the start (from SpotResources, loaded once for the run) and
 * such a VM is reported without a start call. With `raise-max-price`, the max price of the
 * deallocated VM is raised — to the current price, or to the owner's cap — and it is started.
 */
import type { VmRecord } from '../discover/discovery.js';
import { describeAzureError } from '../azure/errors.js';
import type { FeatureSwitch } from './feature-permissions.js';
import type { RaiseMaxPrice } from '../plan/inputs.js';
import { setMaxPrice } from './resize.js';
import { updateBudgets, type UpdateBudgets } from './start-operation.js';
import { readPowerState, type VmReadDeps } from '../discover/power-state.js';
import type { SpotMarket } from '../discover/spot-market.js';

export interface PriceDeps {
  market: SpotMarket;
  raiseMaxPrice: RaiseMaxPrice;
  features: FeatureSwitch;
}

export type PriceCheck =
  | { go: true; raised?: { from: number; to: number } }
  | { go: false; detail: string; currentPrice: number; maxPrice: number };

export async function checkPrice(
  vm: VmRecord,
  deps: PriceDeps,
  restart: VmReadDeps & { pollIntervalMs: number } & Partial<UpdateBudgets>,
  deadline: number
): Promise<PriceCheck> {
  const maxPrice = vm.maxPrice;
  if (maxPrice === null || maxPrice === -1) return { go: true };
  await deps.market.load([{ location: vm.location, size: vm.vmSize }]);
  const price = deps.market.price(vm.location, vm.vmSize, vm.osType);
  // No price known: the start itself will tell.
  if (price === undefined || price <= maxPrice) return { go: true };
  const stay = (why: string): PriceCheck => ({
    go: false,
    detail: `the current Spot price ${price} USD is above its max price ${maxPrice} USD: not started (${why})`,
    currentPrice: price,
    maxPrice
  });
  const raise = deps.raiseMaxPrice;
  // A Uniform instance's max price is its scale set's model (virtualMachineProfile.billingProfile),
  // shared by every instance: raising it is the owner's call for the whole scale set.
  if (vm.kind === 'vmss-uniform')
    return stay(
      `a Uniform instance's max price is its scale set's virtualMachineProfile.billingProfile.maxPrice: raise the max price of scale set ${vm.scaleSet?.name ?? '(unknown)'}`
    );
  if (raise.kind === 'no') return stay('raise-max-price can raise it');
  const to = raise.kind === 'cap' ? floorToFiveDecimals(raise.usd) : aboveByTheLeastStep(price);
  if (raise.kind === 'cap' && !(to > price))
    return stay(`the raise-max-price cap of ${raise.usd} USD is not above it`);
  if (!deps.features.isOn('raise-max-price')) return stay(deps.features.why('raise-max-price')!);
  const state = await readPowerState(vm, restart, deadline);
  if (state.code !== 'PowerState/deallocated' || state.updating)
    return stay(
      `its max price is changed only while deallocated, and it is ${state.code.replace('PowerState/', '')}`
    );
  try {
    await setMaxPrice(vm, to, {
      clock: restart.clock,
      client: restart.compute(vm.subscriptionId),
      pollIntervalMs: restart.pollIntervalMs,
      deadline,
      updates: updateBudgets(restart)
    });
  } catch (error) {
    const info = describeAzureError(error);
    if (info.status !== 403) throw error;
    deps.features.turnOff('raise-max-price', info.message);
    return stay(deps.features.why('raise-max-price')!);
  }
  vm.maxPrice = to;
  return { go: true, raised: { from: maxPrice, to } };
}

/**
 * Azure takes a max price "using up to 5 decimal places" ("Use Azure Spot Virtual Machines") and an
 * update succeeds "only if the maxPrice is greater than the current Azure Spot price" (BillingProfile
 * in the Compute spec; Learn's table says ">=", the spec's stricter word is kept): the least price
 * with five decimals strictly above the current one.
 */
export function aboveByTheLeastStep(price: number): number {
  return (Math.floor(price * 1e5 + 1e-6) + 1) / 1e5;
}

/** An owner's cap, cut to the five decimals Azure takes (never above what the owner allowed). */
function floorToFiveDecimals(usd: number): number {
  return Math.floor(usd * 1e5 + 1e-6) / 1e5;
}
