/**
 * The job summary as a status page: the counts and the step's result, then what needs a person
 * grouped by what one person can act on (groups.ts) with the fix first, then what came back, how
 * long it was down and how it came back, then the rest folded away. Per-VM rows sit under
 * <details>, each list within a byte budget of its own, so the summary's size does not grow with
 * the fleet: every VM is in the result file.
 */
import { formatDuration } from '../plan/duration.js';
import { fixFor } from './fixes.js';
import { examples, groupResults, type Group } from './groups.js';
import {
  breakableCode,
  cell,
  clip,
  linked,
  plural,
  row,
  shortSubscription,
  tableHead,
  utcMinute,
  utcSecond,
  Writer
} from './markdown.js';
import { OUTCOMES, OUTPUT_GROUPS, type Outcome, type VmResult } from './outcomes.js';
import type { RunReport } from './run-report.js';
import { backwardTimes } from './time-order.js';

/** Outcomes that may need a person, in the order the summary ranks them. */
export const NEEDS_A_PERSON: readonly Outcome[] = [
  'failed',
  'started-unhealthy',
  'quota-exceeded',
  'price-above-max',
  'capacity-unavailable',
  'not-deallocated-in-time',
  'awaiting-evidence'
];
const STARTED: readonly Outcome[] = OUTPUT_GROUPS.started;

/**
 * The summary's own ceiling, far under GitHub's 1 MiB: a page a person can read, whatever the
 * fleet. Each list below takes at most its share.
 */
export const SUMMARY_TARGET_BYTES = 192 * 1024;
const BUDGET = {
  moreGroups: 12 * 1024,
  azureSaid: 24 * 1024,
  problemRows: 56 * 1024,
  startedRows: 48 * 1024,
  restGroups: 8 * 1024,
  restRows: 24 * 1024,
  permissionGaps: 8 * 1024
};
/** Groups shown in the first table; the others are folded under it. */
const GROUPS_SHOWN = 8;
/** The default of `start-without-evidence-after`, for a report that does not say. */
const DEFAULT_EVIDENCE_BOUND_MS = 15 * 60_000;

/** When the report was made: the end of the run. */
function reportTime(report: RunReport): number {
  const began = Date.parse(report.startedAt ?? '');
  return Number.isFinite(began) ? began + report.durationMs : Date.now();
}

/**
 * Whether a VM needs a person. Waiting for Azure's evidence is routine (a later run decides) until
 * it has lasted longer than the no-evidence bound.
 */
export function needsAttention(r: VmResult, report: RunReport): boolean {
  if (!NEEDS_A_PERSON.includes(r.outcome)) return false;
  if (r.outcome !== 'awaiting-evidence') return true;
  const down = Date.parse(r.deallocatedAt ?? '');
  const bound = report.evidenceBoundMs ?? DEFAULT_EVIDENCE_BOUND_MS;
  return Number.isFinite(down) && reportTime(report) - down > bound;
}

export function buildSummary(report: RunReport, maxBytes: number, resultFile?: string): string {
  const out = new Writer(Math.min(maxBytes, SUMMARY_TARGET_BYTES));
  const now = reportTime(report);
  const where = resultFile ? 'the result file (output `result-file`)' : 'the `result` output';
  const notListed = (n: number, what: string) =>
    `\n_… and ${plural(n, `more ${what}`, `more ${what}`)}, not listed here: every VM is in ${where}._\n`;
  const backwards = backwardTimes(report);
  const backwardVms = new Set(backwards.map(b => b.vm));

  // The counts, the step's result, and whether the report's times can be trusted.
  out.must(`## Azure Spot restart — ${report.event}${report.dryRun ? ' (dry run)' : ''}\n\n`);
  out.must(
    `**${countLine(report.results) || 'No VM needed a restart.'}** — ${plural(report.discovery.candidates, 'candidate')} from ${plural(report.discovery.requests, 'Resource Graph request')} in ${formatDuration(report.durationMs)}.\n\n`
  );
  out.must(`${stepResult(report)}\n`);
  if (backwards.length) {
    const first = backwards[0]!;
    out.must(
      `\n> [!WARNING]\n> **Times run backwards** for ${plural(backwardVms.size, 'VM')} (${cell(first.vm)}: ${first.what}): this runner's clock and Azure's disagree, so their downtimes are left out.\n`
    );
  }
  if (report.discovery.warnings?.length) {
    out.must('\n### What Resource Graph left out (warning)\n\n');
    for (const w of report.discovery.warnings) out.must(`- ${cell(w)}\n`);
  }
  if (report.payloadErrors.length) {
    out.must('\n### Dispatch payload refused\n\n');
    for (const e of report.payloadErrors.slice(0, 10)) out.must(`- ${cell(clip(e, 300))}\n`);
  }

  // 1. What needs a person, one row per group, the fix first.
  const attention = report.results.filter(r => needsAttention(r, report));
  const groups = groupResults(attention, NEEDS_A_PERSON);
  const context = { evidenceBoundMs: report.evidenceBoundMs ?? DEFAULT_EVIDENCE_BOUND_MS };
  const waiting = report.results.filter(r => r.outcome === 'awaiting-evidence' && !needsAttention(r, report));
  if (!groups.length && waiting.length)
    out.must(
      `\nNothing needs a person. ${plural(waiting.length, 'VM waits', 'VMs wait')} for Azure's evidence of why ${waiting.length === 1 ? 'it' : 'they'} went down: a later run decides.\n`
    );
  if (groups.length) {
    out.must(
      `\n### Needs attention: ${plural(attention.length, 'VM')} in ${plural(groups.length, 'group')}\n\n`
    );
    const head = tableHead(['VMs', 'Problem', 'Where, since', 'What to do', 'For example'], [0]);
    // Short lines, broken where a reader expects them, keep each group to about two lines.
    const groupRow = (g: Group) => {
      const { names, more } = examples(g, 2);
      return row([
        g.vms.length.toLocaleString('en-US'),
        `${g.outcome}<br>${breakableCode(cell(g.reason))}`,
        `${where3(g)}<br>${g.since === undefined ? 'since —' : `since ${utcMinute(g.since, now)}`}`,
        fixFor(g, context),
        `${names.map(n => cell(clip(n, 40))).join('<br>')}${more ? ` +${more.toLocaleString('en-US')}` : ''}`
      ]);
    };
    out.must(head);
    for (const g of groups.slice(0, GROUPS_SHOWN)) out.must(groupRow(g));
    const moreGroups = groups.slice(GROUPS_SHOWN);
    if (moreGroups.length) {
      out.must(
        `\n<details><summary>${plural(moreGroups.length, 'more group')} (${plural(
          moreGroups.reduce((n, g) => n + g.vms.length, 0),
          'VM'
        )})</summary>\n\n${head}`
      );
      const listed = out.rows(moreGroups, groupRow, BUDGET.moreGroups);
      if (listed < moreGroups.length) out.must(notListed(moreGroups.length - listed, 'groups'));
      out.must('\n</details>\n');
    }
    if (report.permissionGaps.length) {
      out.must('\n**Permissions the roles seem to lack** (a warning: only a refused start fails):\n\n');
      const gaps = report.permissionGaps;
      const listed = out.rows(
        gaps,
        g => `- ${cell(g.scope)}: ${g.missing.map(cell).join(', ')}\n`,
        BUDGET.permissionGaps
      );
      if (listed < gaps.length) out.must(`\n_… and ${gaps.length - listed} more resource groups._\n`);
    }
    // Azure's own words, once per group rather than once per VM.
    out.must(`\n<details><summary>What Azure said, per group</summary>\n\n`);
    const said = out.rows(
      groups,
      g => {
        const example = g.vms[0]!;
        const subscription = g.subscription ? ` in subscription \`${g.subscription}\`` : '';
        return `${groups.indexOf(g) + 1}. **${g.outcome}: ${cell(g.reason)}**${subscription} (${cell(example.name)}, ${plural(example.attempts, 'attempt')}): ${linked(clip(example.detail, 600))}\n`;
      },
      BUDGET.azureSaid
    );
    if (said < groups.length) out.must(notListed(groups.length - said, 'groups'));
    out.must('\n</details>\n');
    // Every VM that needs a person, one per row, as far as the budget goes.
    out.must(
      `\n<details><summary>The ${plural(attention.length, 'VM')} that need attention, one per row</summary>\n\n${tableHead(['VM', 'Group', 'Resource group', 'Subscription', 'Size', 'Tries'], [1, 5])}`
    );
    const groupOf = new Map<VmResult, number>();
    groups.forEach((g, i) => g.vms.forEach(v => groupOf.set(v, i + 1)));
    const rows = groups.flatMap(g => g.vms);
    const listed = out.rows(
      rows,
      r =>
        row([
          cell(r.name),
          String(groupOf.get(r)),
          cell(r.resourceGroup),
          shortSubscription(r.subscriptionId),
          cell(r.vmSize ?? '—'),
          String(r.attempts)
        ]),
      BUDGET.problemRows
    );
    if (listed < rows.length) out.must(notListed(rows.length - listed, 'VMs'));
    out.must('\n</details>\n');
  }

  // 2. What came back, how long it was down, and how it came back.
  const started = report.results.filter(r => STARTED.includes(r.outcome));
  if (started.length) {
    const downtimes = started.flatMap(r => {
      const ms = backwardVms.has(r.name) ? undefined : downtimeMs(r);
      return ms === undefined ? [] : [ms];
    });
    out.must(`\n### Started: ${plural(started.length, 'VM')}${downtimeLine(downtimes)}\n\n`);
    out.must(howTheyCameBack(started));
    const timeline = dispatchTimeline(report);
    if (timeline) out.must(timeline);
    const rows = [...started].sort(
      (a, b) => (downtimeMs(b) ?? -1) - (downtimeMs(a) ?? -1) || a.name.localeCompare(b.name)
    );
    const folded = rows.length > 10;
    out.must(
      `${folded ? `\n<details><summary>The ${plural(rows.length, 'started VM')}, longest down first</summary>\n` : ''}\nDown for: from the eviction to healthy where verify-health checked it, else to running. Times in UTC.\n\n${tableHead(['VM', 'Resource group', 'Size', 'Evicted', 'Running', 'Down for', 'How it came back'])}`
    );
    const listed = out.rows(
      rows,
      r => {
        const down = backwardVms.has(r.name) ? undefined : downtimeMs(r);
        const evicted = Date.parse(r.evictedAt ?? '');
        const running = Date.parse(r.runningAt ?? r.startAcceptedAt ?? '');
        return row([
          cell(r.name),
          cell(r.resourceGroup),
          cell(r.usedSize ?? r.vmSize ?? '—'),
          Number.isFinite(evicted) ? utcSecond(evicted, true) : '—',
          Number.isFinite(running) ? utcSecond(running) : '—',
          down === undefined ? '—' : formatDuration(down),
          cell(cameBack(r))
        ]);
      },
      BUDGET.startedRows
    );
    if (listed < rows.length) out.must(notListed(rows.length - listed, 'started VMs'));
    if (folded) out.must('\n</details>\n');
  }

  // 3. Everything else, grouped, then folded rows.
  const rest = report.results.filter(r => !STARTED.includes(r.outcome) && !needsAttention(r, report));
  if (rest.length) {
    const restGroups = groupResults(rest, OUTCOMES);
    out.must(
      `\n<details><summary>The rest: ${plural(rest.length, 'VM')} (${countLine(rest, ', ')})</summary>\n\n${tableHead(['VMs', 'Outcome', 'Why', 'For example'], [0])}`
    );
    const listedGroups = out.rows(
      restGroups,
      g => {
        const { names, more } = examples(g);
        return row([
          g.vms.length.toLocaleString('en-US'),
          g.outcome,
          cell(g.reason),
          `${names.map(n => cell(clip(n, 40))).join(', ')}${more ? ` +${more.toLocaleString('en-US')}` : ''}`
        ]);
      },
      BUDGET.restGroups
    );
    if (listedGroups < restGroups.length) out.must(notListed(restGroups.length - listedGroups, 'groups'));
    out.must(`\n${tableHead(['VM', 'Resource group', 'Subscription', 'Outcome', 'Detail'])}`);
    const rows = restGroups.flatMap(g => g.vms);
    const listed = out.rows(
      rows,
      r =>
        row([
          cell(r.name),
          cell(r.resourceGroup),
          shortSubscription(r.subscriptionId),
          r.outcome,
          linked(clip(r.detail, 200))
        ]),
      BUDGET.restRows,
      64
    );
    if (listed < rows.length) out.must(notListed(rows.length - listed, 'VMs'));
    out.must('\n</details>\n');
  }
  return out.text();
}

/** `6 started · 10 capacity-unavailable`, in the order of OUTCOMES. */
function countLine(results: readonly VmResult[], separator = ' · '): string {
  const counts = new Map<Outcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return OUTCOMES.filter(o => counts.get(o))
    .map(o => `${counts.get(o)!.toLocaleString('en-US')} ${o}`)
    .join(separator);
}

function stepResult(report: RunReport): string {
  const failOn = report.failOn ? ` (\`fail-on: ${report.failOn}\`)` : '';
  if (report.failure)
    return `The step **failed**${failOn}: ${cell(report.failure.replace(/\s*See the job summary\.$/, ''))}.`.replace(
      /\.\.$/,
      '.'
    );
  if (report.dryRun) return `The step succeeded: a dry run, nothing was started.`;
  return `The step succeeded${failOn}.`;
}

/** The group's size and region, and its subscription where that is what matters. */
function where3(g: Group): string {
  const parts = [g.size, g.region].filter((p): p is string => !!p).map(cell);
  // A no-break space keeps "sub" with its ID.
  if (g.subscription) parts.push(`sub\u00a0${cell(shortSubscription(g.subscription))}`);
  return parts.length ? parts.join(' · ') : '—';
}

/** From the eviction to healthy (verify-health), else to running, else to the start being accepted. */
export function downtimeMs(r: VmResult): number | undefined {
  const end = r.healthyAt ?? r.runningAt ?? r.startAcceptedAt;
  if (!r.evictedAt || !end) return undefined;
  const ms = Date.parse(end) - Date.parse(r.evictedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** The median (the mean of the middle two for an even count), p90 (nearest rank) and the longest. */
export function downtimeStats(downtimes: number[]): { median: number; p90: number; max: number } | undefined {
  if (!downtimes.length) return undefined;
  const s = [...downtimes].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, p90: s[Math.ceil(0.9 * s.length) - 1]!, max: s[s.length - 1]! };
}

function downtimeLine(downtimes: number[]): string {
  const stats = downtimeStats(downtimes);
  if (!stats) return '';
  if (downtimes.length === 1) return ` — down for ${formatDuration(stats.max)}`;
  return ` — down for ${formatDuration(stats.median)} at the median, ${formatDuration(stats.p90)} at p90, ${formatDuration(stats.max)} at most`;
}

type Evidence = 'annotation' | 'agent' | 'bound' | 'unknown';

function evidenceOf(r: VmResult): Evidence {
  if (r.evictedAt)
    return /^the agent/.test(r.because ?? '') || (!r.because && r.source === 'dispatch')
      ? 'agent'
      : 'annotation';
  return r.because ? 'bound' : 'unknown';
}

/** How one VM came back: on what evidence, after how many attempts, on which size, what a revert did. */
export function cameBack(r: VmResult): string {
  const parts: string[] = [];
  if (r.outcome === 'reverted') parts.push(`moved back to ${r.preferredSize ?? 'its preferred size'}`);
  else {
    const evidence = evidenceOf(r);
    const annotation = /\b(VirtualMachine[A-Za-z]+)\b/.exec(r.because ?? '')?.[1];
    if (evidence === 'annotation') parts.push(`evicted: ${annotation ?? 'Resource Health'}`);
    if (evidence === 'agent') parts.push('evicted: the agent saw Preempt');
    if (evidence === 'bound') parts.push('no evidence in time: started by the bound');
  }
  if (r.attempts > 1) parts.push(`attempt ${r.attempts}`);
  const healthy = Date.parse(r.healthyAt ?? '') - Date.parse(r.runningAt ?? '');
  if (Number.isFinite(healthy)) parts.push(`healthy ${formatDuration(Math.max(0, healthy))} after running`);
  if (r.outcome === 'started-fallback')
    parts.push(`on fallback ${r.usedSize ?? r.vmSize ?? '?'} (prefers ${r.preferredSize ?? '?'})`);
  if (r.outcome === 'reverted' && r.detail) parts.push(clip(r.detail, 80));
  if (r.newMaxPrice !== undefined) parts.push(`max price ${r.oldMaxPrice ?? '?'} → ${r.newMaxPrice} USD/h`);
  return parts.join(' · ') || '—';
}

/** One line over all the started VMs: the evidence, the retries, the sizes, the reverts. */
function howTheyCameBack(started: VmResult[]): string {
  const by = new Map<Evidence, number>();
  for (const r of started.filter(r => r.outcome !== 'reverted'))
    by.set(evidenceOf(r), (by.get(evidenceOf(r)) ?? 0) + 1);
  const parts: string[] = [];
  if (by.get('annotation')) parts.push(`${by.get('annotation')} on Azure's evidence (Resource Health)`);
  if (by.get('agent')) parts.push(`${by.get('agent')} on the agent's Preempt`);
  if (by.get('bound')) parts.push(`${by.get('bound')} without evidence, by the no-evidence bound`);
  const retried = started.filter(r => r.attempts > 1).length;
  if (retried) parts.push(`${retried} after more than one attempt`);
  const fallback = started.filter(r => r.outcome === 'started-fallback').length;
  if (fallback) parts.push(`${fallback} on a fallback size`);
  const reverted = started.filter(r => r.outcome === 'reverted').length;
  if (reverted) parts.push(`${reverted} moved back to the preferred size`);
  return parts.length ? `How they came back: ${parts.join('; ')}.\n` : '';
}

/**
 * For a dispatched run, the dispatched VM's way back as a Mermaid timeline (GitHub renders Mermaid
 * in job summaries). Mermaid's timeline splits on colons, so moments are offsets from the Preempt.
 */
function dispatchTimeline(report: RunReport): string | undefined {
  const dispatch = report.dispatch;
  if (!dispatch) return undefined;
  const vm = report.results.find(r => r.source === 'dispatch');
  const origin = Date.parse(dispatch.detectedAt);
  if (!vm || !Number.isFinite(origin)) return undefined;
  const moments: [string, string | undefined][] = [
    ['Preempt seen by the agent', dispatch.detectedAt],
    ['dispatch received, run started', report.startedAt],
    ['deallocated', vm.deallocatedAt],
    ['start accepted', vm.startAcceptedAt],
    ['running', vm.runningAt],
    ['healthy', vm.healthyAt]
  ];
  // In the order they happened: Azure may deallocate the VM before the run starts, or even before
  // a busy agent saw the Preempt.
  const lines = moments
    .flatMap(([what, at]) => {
      const t = at ? Date.parse(at) : NaN;
      return Number.isFinite(t) ? [{ what, offset: t - origin }] : [];
    })
    .sort((a, b) => a.offset - b.offset)
    .map(
      ({ what, offset }) =>
        `    ${offset === 0 ? '0 s' : `${offset > 0 ? '+' : ''}${formatDuration(offset)}`} : ${what}`
    );
  const name = vm.name.replace(/[^\w.-]/g, '_');
  return `\n\`\`\`mermaid\ntimeline\n    title ${name}, from the Preempt (${utcSecond(origin, true).replace(/:/g, '.')} UTC) to ${vm.healthyAt ? 'healthy' : 'running'}\n${lines.join('\n')}\n\`\`\`\n`;
}
