/**
 * One run of the action, top to bottom: inputs → plan → discover → judge → act → report. Each
 * phase lives in its own folder (docs/architecture.md); this is the only place that fails the step.
 */
import * as core from '@actions/core';
import type { TokenCredential } from '@azure/identity';
import { realClock, type Clock } from './azure/retry.js';
import { logPacing, openSession, type AzureSession } from './azure/session.js';
import type { GetIdToken } from './azure/sign-in.js';
import { dispatchFeed } from './discover/dispatched-runs.js';
import type { DiscoveryStats } from './discover/discovery.js';
import { fleetReader } from './discover/lookup.js';
import { featureActionsFor } from './act/feature-permissions.js';
import { restarter } from './act/restarter.js';
import { runPlan } from './act/run-plan.js';
import { readSettings, type GetInput } from './plan/inputs.js';
import { logPlan, planRun, readEvent } from './plan/trigger.js';
import { explainFailure } from './report/explain-failure.js';
import { logProgress } from './report/progress.js';
import { publish, shouldFail } from './report/report.js';
import type { RunReport } from './report/run-report.js';

export interface RunDeps {
  getInput: GetInput;
  clock: Clock;
  getIdToken?: GetIdToken;
  /** Tests may hand in a credential; normally it comes from the inputs. */
  credential?: TokenCredential;
}

export async function run(deps: Partial<RunDeps> = {}): Promise<RunReport | undefined> {
  const clock = deps.clock ?? realClock;
  const began = clock.now();
  let session: AzureSession | undefined;
  try {
    const settings = await core.group('Inputs', async () => readSettings(deps.getInput));
    const plan = planRun(process.env.GITHUB_EVENT_NAME ?? 'workflow_dispatch', readEvent(), settings);
    logPlan(plan, settings);

    session = await openSession(settings, clock, featureActionsFor(settings, plan.revert === true), deps);
    const stats: DiscoveryStats = { requests: 0, pages: 0, quotaWaits: 0, warnings: [] };
    const fleet = fleetReader(session.graph, settings.subscriptions, clock, stats);

    core.startGroup('Discover and restart');
    const feed = plan.coalesceWindowMs
      ? dispatchFeed({
          token: settings.githubToken!,
          repository: process.env.GITHUB_REPOSITORY ?? '',
          windowMs: plan.coalesceWindowMs,
          now: () => clock.now(),
          warn: message => core.warning(message)
        })
      : undefined;
    const starts = restarter(session, settings, plan, clock, stats);
    const stopProgress = logProgress(starts.inProgress, () => clock.now());
    const { results, candidates } = await runPlan(plan, settings, session, fleet, starts, feed).finally(
      stopProgress
    );
    logPacing(session);
    core.endGroup();

    const report: RunReport = {
      event: plan.event,
      dryRun: settings.dryRun,
      results: results.sort((a, b) => a.id.localeCompare(b.id)),
      payloadErrors: plan.payloadErrors ?? [],
      permissionGaps: await session.permissions.gaps(),
      discovery: { ...stats, candidates },
      durationMs: clock.now() - began,
      startedAt: new Date(began).toISOString(),
      dispatch: plan.dispatch && {
        vmResourceId: plan.dispatch.vmResourceId,
        detectedAt: plan.dispatch.detectedAt
      },
      evidenceBoundMs: settings.startWithoutEvidenceAfterMs,
      failOn: settings.failOn
    };
    // The summary says the step's result, so it is decided before the report is written.
    report.failure = shouldFail(report, settings.failOn);
    await publish(report);
    if (report.failure) core.setFailed(report.failure);
    return report;
  } catch (error) {
    // What the permission check found may explain the failure: let it speak first.
    await session?.permissions.gaps();
    core.setFailed(explainFailure(error));
    return undefined;
  }
}
