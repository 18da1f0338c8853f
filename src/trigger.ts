/** What a run does, decided from the event that started it and the inputs. */
import { validatePayload, type DispatchPayload } from './payload.js';
import type { Settings, VmTarget } from './inputs.js';

export interface Plan {
  event: string;
  /** Sweep every VM in scope. */
  sweep: boolean;
  /** VMs named by the `vms` input. */
  targets: VmTarget[];
  /** A valid dispatch payload: the VM it names is checked and, if eligible, started after eviction. */
  dispatch?: DispatchPayload;
  /** Why the dispatch payload was refused; nothing is started from it. */
  payloadErrors?: string[];
  retryForMs: number;
  /** `mode: revert`: bring VMs on a fallback size back to their preferred size; nothing else. */
  revert?: boolean;
}

/**
 * How long capacity failures are retried within one run, when retry-for is not set. A dispatched
 * run exists for one VM that was just evicted, so it waits longest; a scheduled one is followed
 * by the next schedule anyway.
 */
export const DEFAULT_RETRY_FOR_MS: Record<string, number> = {
  repository_dispatch: 15 * 60_000,
  workflow_dispatch: 5 * 60_000,
  schedule: 2 * 60_000
};

export function planRun(event: string, eventPayload: Record<string, unknown>, settings: Settings): Plan {
  const retryForMs = settings.retryForMs ?? DEFAULT_RETRY_FOR_MS[event] ?? 2 * 60_000;
  // A revert interrupts workloads: it runs only when the owner asked for this mode, and does nothing else.
  if (settings.mode === 'revert') return { event, sweep: false, targets: [], revert: true, retryForMs };
  if (event === 'repository_dispatch') {
    const validation = validatePayload(eventPayload.client_payload);
    return {
      event,
      sweep: settings.sweepOnDispatch,
      targets: settings.vms,
      ...(validation.ok ? { dispatch: validation.payload } : { payloadErrors: validation.errors }),
      retryForMs
    };
  }
  // schedule, workflow_dispatch and anything else: the named VMs if there are any, else a sweep.
  return { event, sweep: settings.vms.length === 0, targets: settings.vms, retryForMs };
}
