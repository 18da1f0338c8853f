/** What a run does, decided from the event that started it and the inputs. */
import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
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
  /**
   * Also take the VMs that other dispatches of the wave reported, read from this repository's
   * repository_dispatch runs created within this window (coalesce-dispatches).
   */
  coalesceWindowMs?: number;
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
  // Whatever started this run — a dispatch, the schedule that cancelled the pending dispatch run,
  // a person — it may take the wave's reports; a revert never starts anything from them.
  const coalesceWindowMs = settings.coalesceDispatchesMs > 0 ? settings.coalesceDispatchesMs : undefined;
  // A revert interrupts workloads: it runs only when the owner asked for this mode, and does nothing else.
  if (settings.mode === 'revert') return { event, sweep: false, targets: [], revert: true, retryForMs };
  if (event === 'repository_dispatch') {
    const validation = validatePayload(eventPayload.client_payload);
    return {
      event,
      sweep: settings.sweepOnDispatch,
      targets: settings.vms,
      ...(validation.ok ? { dispatch: validation.payload } : { payloadErrors: validation.errors }),
      retryForMs,
      coalesceWindowMs
    };
  }
  // schedule, workflow_dispatch and anything else: the named VMs if there are any, else a sweep.
  const named = settings.vms.length > 0;
  return {
    event,
    sweep: !named,
    targets: settings.vms,
    retryForMs,
    coalesceWindowMs: named ? undefined : coalesceWindowMs
  };
}

/** The event GitHub delivered (GITHUB_EVENT_PATH); an unreadable one is said and read as empty. */
export function readEvent(path = process.env.GITHUB_EVENT_PATH): Record<string, unknown> {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    core.warning(
      `Could not read the event payload at GITHUB_EVENT_PATH: ${error instanceof Error ? error.message : String(error)}`
    );
    return {};
  }
}

/** One line that says what the run is about to do, and why a dispatch payload was refused. */
export function logPlan(plan: Plan, settings: Settings): void {
  core.info(
    `Event ${plan.event}: ${
      [
        plan.dispatch ? `dispatched VM ${plan.dispatch.vmResourceId}` : '',
        plan.coalesceWindowMs ? 'the wave reported by other dispatches' : '',
        plan.targets.length ? `${plan.targets.length} named VM(s)` : '',
        plan.sweep ? 'sweep' : '',
        plan.revert ? 'revert to preferred sizes' : ''
      ]
        .filter(Boolean)
        .join(' + ') || 'nothing to do'
    }; scope: ${settings.subscriptions.length ? settings.subscriptions.join(', ') : 'every readable subscription'}; tag ${settings.tag.name}=${settings.tag.value}${settings.dryRun ? '; dry run' : ''}.`
  );
  for (const error of plan.payloadErrors ?? []) core.error(`Dispatch payload refused: ${error}`);
}
