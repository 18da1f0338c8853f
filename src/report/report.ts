/** Outputs, the job summary and annotations: what a person (or a later step) sees of a run. */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { JOB_OUTPUTS_MAX_UTF16_BYTES, STEP_SUMMARY_MAX_BYTES, utf16Bytes } from './github-limits.js';
import type { FailOn } from '../plan/inputs.js';
import { OUTCOMES, OUTPUT_GROUPS, type Outcome, type VmResult } from './outcomes.js';
import { buildSummary, NEEDS_A_PERSON } from './summary.js';
import type { RunReport } from './run-report.js';

export type { RunReport };

export const Outputs = {
  Started: 'started',
  Failed: 'failed',
  CapacityUnavailable: 'capacity-unavailable',
  Skipped: 'skipped',
  Counts: 'counts',
  Result: 'result',
  ResultFile: 'result-file'
} as const;

/**
 * The share of GitHub's per-job output limit this step allows itself: the other steps of the job
 * keep a quarter for their own outputs.
 */
export const OUTPUT_BUDGET_UTF16_BYTES = Math.floor(JOB_OUTPUTS_MAX_UTF16_BYTES * 0.75);

/** The summary keeps this far below GitHub's 1 MiB, for the lines other tools append to it. */
const SUMMARY_MARGIN_BYTES = 4096;

export function countOutcomes(results: VmResult[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map(o => [o, 0])) as Record<Outcome, number>;
  for (const r of results) counts[r.outcome]++;
  return counts;
}

/** Writes the complete result to a file, then the outputs within GitHub's size limit. */
export function writeOutputs(report: RunReport): void {
  report.resultFile = writeResultFile(report);
  const { outputs, cut } = buildOutputs(report, report.resultFile);
  for (const [name, value] of Object.entries(outputs)) {
    core.setOutput(name, value);
    core.info(value.length <= 2000 ? `${name} = ${value}` : `${name} = (${value.length} characters)`);
  }
  if (cut.length)
    core.warning(
      `Cut to stay within GitHub's output limit (1 MB per job): ${cut.join('; ')}. The complete result is in ${report.resultFile} (output result-file): upload it as an artifact to keep it.`,
      { title: 'Outputs shortened' }
    );
}

/** The complete per-VM result, as JSON in RUNNER_TEMP, for a later step to upload as an artifact. */
export function writeResultFile(report: RunReport): string {
  const dir = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'azure-spot-restarter-'));
  const path = join(dir, 'result.json');
  const { resultFile: _, ...rest } = report;
  writeFileSync(
    path,
    JSON.stringify({ ...rest, counts: countOutcomes(report.results), vms: report.results })
  );
  return path;
}

/**
 * Every output, each complete when all of them fit in the budget. Otherwise (documented in
 * action.yml): `counts` and `result-file` stay complete; the ID lists are cut in the order
 * failed, capacity-unavailable, started, skipped to what fits; `result` becomes
 * `{complete: false, resultFile, counts, payloadErrors, vms: <the VMs that need a person, as many
 * as fit>, omitted, cut}`. Sizes are counted as GitHub counts them, in UTF-16.
 */
export function buildOutputs(
  report: RunReport,
  resultFile: string,
  budget = OUTPUT_BUDGET_UTF16_BYTES
): { outputs: Record<string, string>; cut: string[] } {
  const counts = countOutcomes(report.results);
  const lists = Object.fromEntries(
    Object.entries(OUTPUT_GROUPS).map(([name, outcomes]) => [
      name,
      report.results.filter(r => outcomes.includes(r.outcome)).map(r => r.id)
    ])
  ) as Record<keyof typeof OUTPUT_GROUPS, string[]>;
  const head = { event: report.event, dryRun: report.dryRun };
  const fixed = {
    [Outputs.Counts]: JSON.stringify(counts),
    [Outputs.ResultFile]: resultFile
  };
  const full = {
    ...fixed,
    ...Object.fromEntries(Object.entries(lists).map(([name, ids]) => [name, JSON.stringify(ids)])),
    [Outputs.Result]: JSON.stringify({
      ...head,
      complete: true,
      counts,
      payloadErrors: report.payloadErrors,
      vms: report.results
    })
  };
  if (size(full) <= budget) return { outputs: full, cut: [] };

  const problems = report.results.filter(r => NEEDS_A_PERSON.includes(r.outcome));
  const problemJson = problems.map(r => JSON.stringify(r));
  const cutNotes: Record<string, { listed: number; total: number }> = {};
  const shortResult = (vms: string[]) =>
    `${JSON.stringify({
      ...head,
      complete: false,
      resultFile,
      counts,
      payloadErrors: report.payloadErrors,
      omitted: report.results.length - vms.length,
      cut: cutNotes
    }).slice(0, -1)},"vms":[${vms.join(',')}]}`;
  // Room for the short result's own fields (and its notes on what was cut) before the lists.
  const resultBase = utf16Bytes(Outputs.Result) + utf16Bytes(shortResult([])) + 800;
  const problemsShare = Math.min(
    problemJson.reduce((n, j) => n + utf16Bytes(j) + 2, 0),
    Math.floor((budget - size(fixed)) / 4)
  );
  let room = budget - size(fixed) - resultBase - problemsShare;
  const outputs: Record<string, string> = { ...fixed };
  for (const name of ['failed', 'capacity-unavailable', 'started', 'skipped'] as const) {
    const ids = lists[name];
    const { json, n } = fitArray(
      ids.map(id => JSON.stringify(id)),
      room - utf16Bytes(name)
    );
    outputs[name] = json;
    room -= utf16Bytes(name) + utf16Bytes(json);
    if (n < ids.length) cutNotes[name] = { listed: n, total: ids.length };
  }
  // Now that the notes on what was cut are known, the VMs that need a person get what is left.
  const used = size(outputs) + utf16Bytes(Outputs.Result) + utf16Bytes(shortResult([]));
  const { n } = fitArray(problemJson, budget - used + utf16Bytes('[]'));
  outputs[Outputs.Result] = shortResult(problemJson.slice(0, n));
  const cut = [
    ...Object.entries(cutNotes).map(([name, c]) => `${name} lists ${c.listed} of ${c.total}`),
    `result lists ${n} of the ${problems.length} VM(s) that need a person and none of the other ${report.results.length - problems.length}`
  ];
  return { outputs, cut };
}

/** A JSON array of the first items (already JSON) that fit in `room` UTF-16 bytes. */
function fitArray(items: string[], room: number): { json: string; n: number } {
  let used = utf16Bytes('[]');
  let n = 0;
  for (const item of items) {
    const bytes = utf16Bytes(item) + (n ? 2 : 0);
    if (used + bytes > room) break;
    used += bytes;
    n++;
  }
  return { json: `[${items.slice(0, n).join(',')}]`, n };
}

function size(outputs: Record<string, string>): number {
  return Object.entries(outputs).reduce((n, [k, v]) => n + utf16Bytes(k) + utf16Bytes(v), 0);
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
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) return;
  // Earlier writes of this step count against the same 1 MiB.
  const already = existsSync(path) ? statSync(path).size : 0;
  const budget = STEP_SUMMARY_MAX_BYTES - already - SUMMARY_MARGIN_BYTES;
  await core.summary.addRaw(buildSummary(report, budget, report.resultFile)).write();
}

/** Everything a person or a later step sees of the run: outputs, annotations and the job summary. */
export async function publish(report: RunReport): Promise<void> {
  core.startGroup('Report');
  try {
    writeOutputs(report);
    annotate(report);
    await writeSummary(report);
  } finally {
    core.endGroup();
  }
}
