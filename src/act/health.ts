/**
 * Back means serving (verify-health): after a start, the VM's instance view is read until the
 * check says healthy, Azure says unhealthy, the VM is down again, or health-timeout has passed
 * since it ran. Reads are paced like the start's own polls (the more VMs being followed in a
 * subscription, the slower each is read) and taken from Compute's per-VM read budget, keeping a
 * few reads in reserve. The wait never runs past health-timeout after the VM's own deadline, so a
 * run with a check ends at most health-timeout later than one without.
 */
import { formatDuration } from '../plan/duration.js';
import { describeAzureError } from '../azure/errors.js';
import { DeadlineError } from '../azure/retry.js';
import type { VmRecord } from '../discover/discovery.js';
import type { VmReadDeps } from '../discover/power-state.js';
import { readHealthView } from '../discover/vm-health.js';
import { judgeHealth, type HealthCheck, type HealthVerdict } from '../judge/health.js';
import type { HealthState, VmResult } from '../report/outcomes.js';
import { pollInterval, type StartDeps } from './start-operation.js';

export interface HealthDeps {
  check: HealthCheck;
  timeoutMs: number;
}

/** Reads of the VM's budget the health polls leave for anything else that must read it. */
const READ_RESERVE = 3;

/** The started VM's result, with `healthyAt` and `health`; `started-unhealthy` if it did not become healthy. */
export async function verifyHealth(
  vm: VmRecord,
  started: VmResult,
  deps: VmReadDeps & Pick<StartDeps, 'pollIntervalMs' | 'inFlight'> & { health?: HealthDeps },
  vmDeadline: number
): Promise<VmResult> {
  const health = deps.health;
  if (!health || (started.outcome !== 'started' && started.outcome !== 'started-fallback')) return started;
  const { clock } = deps;
  const began = clock.now();
  const ranAt = started.runningAt ? Date.parse(started.runningAt) : began;
  const ends = Math.min(ranAt + health.timeoutMs, vmDeadline + health.timeoutMs);
  // A status Azure wrote before the VM was deallocated (else: before the start was accepted) speaks
  // of the VM before the eviction, not of this start.
  const before = started.deallocatedAt ?? started.startAcceptedAt;
  const since = before ? Date.parse(before) : undefined;
  const sub = vm.subscriptionId;
  let last: HealthVerdict = { state: 'waiting', said: 'its instance view was not read in time' };
  let reads = 0;
  const result = (state: HealthState, extra: Partial<VmResult> = {}): VmResult => ({
    ...started,
    durationMs: started.durationMs + (clock.now() - began),
    health: { check: health.check, state, said: last.said, reads },
    ...extra
  });
  const unhealthy = (state: HealthState, why: string) =>
    result(state, { outcome: 'started-unhealthy', detail: `${started.detail}; ${why}: ${last.said}` });

  deps.inFlight.set(sub, (deps.inFlight.get(sub) ?? 0) + 1);
  try {
    for (;;) {
      try {
        const view = await readHealthView(vm, deps, ends, READ_RESERVE);
        reads++;
        last = judgeHealth(view, health.check, since, vm.kind === 'vmss-uniform' || vm.kind === 'vmss-flex');
      } catch (error) {
        if (error instanceof DeadlineError) break;
        const info = describeAzureError(error);
        last = {
          state: 'waiting',
          said: `its instance view could not be read (${info.code ?? info.status ?? 'error'}: ${info.message})`
        };
        return unhealthy('unreadable', `health (${health.check}) not verified`);
      }
      if (last.state === 'healthy') {
        const at = clock.now();
        return result('healthy', {
          healthyAt: new Date(at).toISOString(),
          detail: `${started.detail}; healthy (${health.check}) ${formatDuration(Math.max(0, at - ranAt))} after it ran`
        });
      }
      if (last.state === 'unhealthy')
        return unhealthy('unhealthy', `running, but Azure reports it unhealthy`);
      if (last.state === 'down') return unhealthy('down', 'not healthy');
      const pause = pollInterval(deps.pollIntervalMs, deps.inFlight.get(sub) ?? 1);
      if (clock.now() + pause > ends) break;
      await clock.sleep(pause);
    }
  } finally {
    deps.inFlight.set(sub, (deps.inFlight.get(sub) ?? 1) - 1);
  }
  return unhealthy(
    'timed-out',
    `running, but not healthy (${health.check}) within ${formatDuration(Math.max(0, ends - ranAt))}`
  );
}
