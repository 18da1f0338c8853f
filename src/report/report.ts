/** Outputs, the job summary and annotations: what a person (or a later step) sees of a run. */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import {
  ANNOTATIONS_PER_STEP,
  JOB_OUTPUTS_MAX_UTF16_BYTES,
  STEP_SUMMARY_MAX_BYTES,
  utf16Bytes
} from './github-limits.js';
import type { FailOn } from '../plan/inputs.js';
import { OUTCOMES, OUTPUT_GROUPS, type Outcome, type VmResult } from './outcomes.js';
import { fixFor } from './fixes.js';
import { examples, groupResults } from './groups.js';
import { clip } from './markdown.js';
import { buildSummary, NEEDS_A_PERSON, needsAttention } from './summary.js';
import type { RunReport } from './run-report.js';

export type { RunReport };

export const Outputs = {
  Started: 'started',
  Failed: 'failed',
  CapacityUnavailable: 'capacity-unavailable',
  Skipped: 'skipped',
  StartedCount: 'started-count',
  FailedCount: 'failed-count',
  CapacityUnavailableCount: 'capacity-unavailable-count',
  SkippedCount: 'skipped-count',
  Counts: 'counts',
  NeedsAttention: 'needs-attention',
  Complete: 'complete',
  Result: 'result',
  ResultFile: 'result-file'
} as const;

/** The array outputs; each has a `<name>-count` twin with its whole length, cut or not. */
const LISTS = ['failed', 'capacity-unavailable', 'started', 'skipped'] as const;
const COUNT_OF: Record<(typeof LISTS)[number], string> = {
  failed: Outputs.FailedCount,
  'capacity-unavailable': Outputs.CapacityUnavailableCount,
  started: Outputs.StartedCount,
  skipped: Outputs.SkippedCount
};

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

/**
 * Writes the complete result to a file, then the outputs within GitHub's size limit; returns how
 * many annotations it made (one, when it had to cut).
 */
export function writeOutputs(report: RunReport): number {
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
  return cut.length ? 1 : 0;
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
  // Numbers a later step can test in `if:` without parsing JSON, always whole.
  const fixed: Record<string, string> = {
    [Outputs.Counts]: JSON.stringify(counts),
    [Outputs.NeedsAttention]: String(report.results.filter(r => needsAttention(r, report)).length),
    ...Object.fromEntries(LISTS.map(name => [COUNT_OF[name], String(lists[name].length)])),
    [Outputs.ResultFile]: resultFile
  };
  const full = {
    ...fixed,
    [Outputs.Complete]: 'true',
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
  const room =
    budget - size(fixed) - utf16Bytes(Outputs.Complete) - utf16Bytes('false') - resultBase - problemsShare;
  const outputs: Record<string, string> = { ...fixed, [Outputs.Complete]: 'false' };
  // Every list gets a fair share of the room, so none that has VMs is ever cut to `[]`: a short
  // list takes what it needs and leaves the rest to the longer ones.
  const shares = fairShares(
    LISTS.map(name => utf16Bytes(name) + utf16Bytes(JSON.stringify(lists[name]))),
    room
  );
  LISTS.forEach((name, i) => {
    const ids = lists[name];
    const { json, n } = fitArray(
      ids.map(id => JSON.stringify(id)),
      shares[i]! - utf16Bytes(name)
    );
    outputs[name] = json;
    if (n < ids.length) cutNotes[name] = { listed: n, total: ids.length };
  });
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

/** Splits `room` between wants: each gets what it wants, or an equal share of what is left. */
export function fairShares(wants: number[], room: number): number[] {
  const shares = wants.map(() => 0);
  let left = Math.max(0, room);
  const order = wants.map((w, i) => [w, i] as const).sort((a, b) => a[0] - b[0]);
  order.forEach(([want, i], k) => {
    shares[i] = Math.min(want, Math.floor(left / (order.length - k)));
    left -= shares[i]!;
  });
  return shares;
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

const FAILURE_OUTCOMES: Outcome[] = [
  'failed',
  'quota-exceeded',
  'not-deallocated-in-time',
  'started-unhealthy'
];
const CAPACITY_OUTCOMES: Outcome[] = ['capacity-unavailable', 'price-above-max'];

/**
 * At most ANNOTATIONS_PER_STEP annotations, one per group of VMs that need a person (the summary's
 * groups, largest first) after any refused payload: GitHub shows no more than that per step, so a
 * last one says how many groups it did not show.
 */
export function annotate(report: RunReport, alreadyMade = 0): void {
  const limit = Math.max(1, ANNOTATIONS_PER_STEP - alreadyMade);
  const notes: { level: 'error' | 'warning'; title: string; text: string }[] = report.payloadErrors.map(
    e => ({
      level: 'error',
      title: 'Dispatch payload refused',
      text: e
    })
  );
  const groups = groupResults(
    report.results.filter(r => needsAttention(r, report)),
    NEEDS_A_PERSON
  );
  const room = limit - Math.min(notes.length, limit - 1);
  const shown = groups.length > room ? groups.slice(0, room - 1) : groups;
  for (const g of shown) {
    const { names, more } = examples(g, 3);
    const where = [g.size, g.region, g.subscription && `subscription ${g.subscription}`]
      .filter(Boolean)
      .join(', ');
    notes.push({
      level: FAILURE_OUTCOMES.includes(g.outcome) ? 'error' : 'warning',
      title: `${g.vms.length} VM(s) ${g.outcome}: ${g.reason}`,
      text: `${where ? `${where}: ` : ''}${fixFor(g, { evidenceBoundMs: report.evidenceBoundMs })} For example ${names.join(', ')}${more ? ` and ${more} more` : ''}. ${clip(g.vms[0]!.detail, 300)}`
    });
  }
  const hidden = groups.slice(shown.length);
  if (hidden.length)
    notes.push({
      level: 'warning',
      title: `${hidden.length} more group(s) need attention`,
      text: `${hidden.reduce((n, g) => n + g.vms.length, 0)} more VM(s) in ${hidden.length} group(s): see the job summary and the result file.`
    });
  for (const n of notes.slice(0, limit))
    (n.level === 'error' ? core.error : core.warning)(n.text, { title: n.title });
}

/**
 * Which VM outcomes make the step fail, per `fail-on`. A refused payload counts as an error. A
 * permission gap does not: only a real 403 fails, as the VM's own outcome.
 */
export function shouldFail(report: RunReport, failOn: FailOn): string | undefined {
  if (failOn === 'never') return undefined;
  const failing = failOn === 'capacity' ? [...FAILURE_OUTCOMES, ...CAPACITY_OUTCOMES] : FAILURE_OUTCOMES;
  const bad = report.results.filter(r => failing.includes(r.outcome) && r.outcome !== 'started-unhealthy');
  const unhealthy = report.results.filter(
    r => failing.includes(r.outcome) && r.outcome === 'started-unhealthy'
  );
  const parts: string[] = [];
  if (bad.length)
    parts.push(
      `${bad.length} VM(s) could not be started (${[...new Set(bad.map(r => r.outcome))].join(', ')})`
    );
  if (unhealthy.length) parts.push(`${unhealthy.length} VM(s) started but did not become healthy`);
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
    annotate(report, writeOutputs(report));
    await writeSummary(report);
  } finally {
    core.endGroup();
  }
}
