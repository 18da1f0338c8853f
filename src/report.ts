/** Outputs, the job summary and annotations: what a person (or a later step) sees of a run. */
import * as core from '@actions/core';
import { OUTCOMES, OUTPUT_GROUPS, type Outcome, type VmResult } from './outcomes.js';
import type { FailOn } from './inputs.js';
import { formatDuration } from './duration.js';
import type { PermissionGap } from './permissions.js';

export interface RunReport {
  event: string;
  dryRun: boolean;
  results: VmResult[];
  payloadErrors: string[];
  /** What the identity's roles seem to lack, per resource group touched: warnings, never a failure. */
  permissionGaps: PermissionGap[];
  discovery: { requests: number; pages: number; quotaWaits: number; candidates: number };
  durationMs: number;
}

export const Outputs = {
  Started: 'started',
  Failed: 'failed',
  CapacityUnavailable: 'capacity-unavailable',
  Skipped: 'skipped',
  Counts: 'counts',
  Result: 'result'
} as const;

export function countOutcomes(results: VmResult[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map(o => [o, 0])) as Record<Outcome, number>;
  for (const r of results) counts[r.outcome]++;
  return counts;
}

export function writeOutputs(report: RunReport): void {
  for (const [output, outcomes] of Object.entries(OUTPUT_GROUPS)) {
    const ids = report.results.filter(r => outcomes.includes(r.outcome)).map(r => r.id);
    core.setOutput(output, JSON.stringify(ids));
    core.info(`${output} = ${JSON.stringify(ids)}`);
  }
  const counts = countOutcomes(report.results);
  core.setOutput(Outputs.Counts, JSON.stringify(counts));
  core.info(`counts = ${JSON.stringify(counts)}`);
  core.setOutput(
    Outputs.Result,
    JSON.stringify({
      event: report.event,
      dryRun: report.dryRun,
      counts,
      payloadErrors: report.payloadErrors,
      vms: report.results
    })
  );
}

const FAILURE_OUTCOMES: Outcome[] = ['failed', 'quota-exceeded', 'not-deallocated-in-time'];
const CAPACITY_OUTCOMES: Outcome[] = ['capacity-unavailable', 'price-above-max'];

export function annotate(report: RunReport): void {
  for (const error of report.payloadErrors) core.error(error, { title: 'Dispatch payload refused' });
  for (const r of report.results) {
    const title = `${r.name}: ${r.outcome}`;
    if (FAILURE_OUTCOMES.includes(r.outcome)) core.error(`${r.id}: ${r.detail}`, { title });
    else if (CAPACITY_OUTCOMES.includes(r.outcome)) core.warning(`${r.id}: ${r.detail}`, { title });
  }
}

/**
 * Which VM outcomes make the step fail, per `fail-on`. A refused payload counts as an error. A
 * permission gap does not: only a real 403 fails, as the VM's own outcome.
 */
export function shouldFail(report: RunReport, failOn: FailOn): string | undefined {
  if (failOn === 'never') return undefined;
  const failing = failOn === 'capacity' ? [...FAILURE_OUTCOMES, ...CAPACITY_OUTCOMES] : FAILURE_OUTCOMES;
  const bad = report.results.filter(r => failing.includes(r.outcome));
  const parts: string[] = [];
  if (bad.length)
    parts.push(
      `${bad.length} VM(s) could not be started (${[...new Set(bad.map(r => r.outcome))].join(', ')})`
    );
  if (report.payloadErrors.length) parts.push('the dispatch payload was refused');
  return parts.length ? `${parts.join('; ')}. See the job summary.` : undefined;
}

export async function writeSummary(report: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const counts = countOutcomes(report.results);
  const line = OUTCOMES.filter(o => counts[o] > 0)
    .map(o => `${counts[o]} ${o}`)
    .join(' · ');
  core.summary.addHeading(`Azure Spot restart — ${report.event}${report.dryRun ? ' (dry run)' : ''}`, 2);
  core.summary.addRaw(
    `${line || 'No VM needed a restart.'} — ${report.discovery.candidates} candidate(s) from ${report.discovery.requests} Resource Graph request(s) in ${formatDuration(report.durationMs)}.`,
    true
  );
  if (report.permissionGaps.length) {
    core.summary.addHeading('Permissions the roles seem to lack (warning)', 3);
    core.summary.addList(report.permissionGaps.map(g => escapeHtml(`${g.scope}: ${g.missing.join(', ')}`)));
  }
  if (report.payloadErrors.length) {
    core.summary.addHeading('Dispatch payload refused', 3);
    core.summary.addList(report.payloadErrors);
  }
  if (report.results.length) {
    core.summary.addTable([
      [
        { data: 'VM', header: true },
        { data: 'Resource group', header: true },
        { data: 'Subscription', header: true },
        { data: 'Size', header: true },
        { data: 'Outcome', header: true },
        { data: 'Detail', header: true },
        { data: 'Time', header: true }
      ],
      ...report.results.map(r => [
        escapeHtml(r.name),
        escapeHtml(r.resourceGroup),
        r.subscriptionId,
        escapeHtml(r.vmSize ?? ''),
        r.outcome,
        escapeHtml(r.detail + (r.currentPrice !== undefined ? ` (current price ${r.currentPrice})` : '')),
        formatDuration(r.durationMs)
      ])
    ]);
  }
  await core.summary.write();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}
