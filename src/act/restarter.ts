/**
 * The run's one way to start a VM, wired from the Azure session and the settings: start slots per
 * subscription, Compute's budgets, and the opt-in features (fallback sizes, price first) whose
 * reads are shared by the whole run.
 */
import type { AzureSession } from '../azure/session.js';
import type { Clock } from '../azure/retry.js';
import { queryRows, type DiscoveryStats } from '../discover/discovery.js';
import { SizeFactsReader } from '../discover/size-facts.js';
import { SpotMarket } from '../discover/spot-market.js';
import type { Start } from '../judge/targets.js';
import type { Settings } from '../plan/inputs.js';
import type { Plan } from '../plan/trigger.js';
import { CapacityGates } from './capacity-gate.js';
import { FeatureSwitch } from './feature-permissions.js';
import { restartVm, type RestartDeps } from './restart.js';
import { ScaleSetStarter, startSlots } from './start-operation.js';
import { RunningWatch } from './running-watch.js';

export interface Restarter {
  start: Start;
  deps: RestartDeps & { fallback: NonNullable<RestartDeps['fallback']> };
  /** Spot prices and eviction rates, loaded once for every size the run may start or fall back to. */
  market: SpotMarket;
  /** The VMs being worked on now, and since when: for the log's progress lines. */
  inProgress: Map<string, number>;
}

export function restarter(
  session: AzureSession,
  settings: Settings,
  plan: Plan,
  clock: Clock,
  stats: DiscoveryStats
): Restarter {
  const features = new FeatureSwitch();
  const market = new SpotMarket(query =>
    queryRows(session.graph, query, settings.subscriptions, clock, stats)
  );
  const { vmReads } = session.computeBudgets;
  const deps: Restarter['deps'] = {
    clock,
    compute: session.compute,
    limit: startSlots(settings.maxConcurrency),
    dryRun: settings.dryRun,
    retryForMs: plan.retryForMs,
    retryIntervalMs: settings.retryIntervalMs,
    pollIntervalMs: settings.pollIntervalMs,
    inFlight: new Map(),
    waitForDeallocationMs: settings.waitForDeallocationMs,
    gates: new CapacityGates(clock, settings.retryIntervalMs),
    ...session.computeBudgets,
    scaleSets: new ScaleSetStarter(() => deps),
    watch: new RunningWatch({ clock, compute: session.compute }, settings.pollIntervalMs),
    fallback: {
      fallbackSizes: settings.fallbackSizes,
      fallbackOrder: settings.fallbackOrder,
      features,
      sizeFacts: new SizeFactsReader(session.compute, clock, market, vmReads),
      armEndpoint: settings.cloud.resourceManager
    },
    price: { market, raiseMaxPrice: settings.raiseMaxPrice, features },
    health:
      settings.verifyHealth === 'none'
        ? undefined
        : { check: settings.verifyHealth, timeoutMs: settings.healthTimeoutMs }
  };
  const inProgress = new Map<string, number>();
  const start: Start = (vm, source, mode, decide) => {
    void session.permissions.check([vm]);
    inProgress.set(vm.name, clock.now());
    return restartVm(vm, source, mode, deps, decide).finally(() => inProgress.delete(vm.name));
  };
  return { start, deps, market, inProgress };
}
