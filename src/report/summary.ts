/**
 * The job summary as a status page: the counts, then what needs a person, then what came back and
 * how long it was down, then the rest folded away. It is built to a byte budget, because GitHub
 * refuses a step summary over 1 MiB whole (src/github-limits.ts): past the budget a section lists
 * what fits and says how many it left out.
 */
import { formatDuration } from '../plan/duration.js';
import { OUTCOMES, OUTPUT_GROUPS, type Outcome, type VmResult } from './outcomes.js';
import type { RunReport } from './run-report.js';

/** Outcomes a person should look at, in the order the summary lists them. */
export const NEEDS_A_PERSON: readonly Outcome[] = [
  'failed',
  'quota-exceeded',
  'price-above-max',
  'capacity-unavailable',
  'not-deallocated-in-time',
  'awaiting-evidence'
];
const STARTED: readonly Outcome[] = OUTPUT_GROUPS.started;
const THE_REST: readonly Outcome[] = OUTCOMES.filter(
  o => !NEEDS_A_PERSON.includes(o) && !STARTED.includes(o)
);

/** Room kept for each section still to come, so its heading and counts always fit. */
const SECTION_RESERVE_BYTES = 4096;

export function buildSummary(report: RunReport, maxBytes: number, resultFile?: string): string {
  const out = new Writer(maxBytes);
  const counts = new Map<Outcome, number>();
  for (const r of report.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const countLine = OUTCOMES.filter(o => counts.get(o))
    .map(o => `${counts.get(o)} ${o}`)
    .join(' · ');
  const where = resultFile ? `the result file (output \`result-file\`)` : 'the `result` output';
  const notListed = (n: number, what: string) =>
    `\n_… and ${n} more ${what}, not listed: this summary stays under GitHub's 1 MiB limit. Every VM is in ${where}._\n`;

  out.must(`## Azure Spot restart — ${report.event}${report.dryRun ? ' (dry run)' : ''}\n\n`);
  out.must(
    `**${countLine || 'No VM needed a restart.'}** — ${report.discovery.candidates} candidate(s) from ${report.discovery.requests} Resource Graph request(s) in ${formatDuration(report.durationMs)}.\n`
  );
  out.reserve(2 * SECTION_RESERVE_BYTES);
  if (report.permissionGaps.length) {
    out.must('\n### Permissions the roles seem to lack (warning)\n\n');
    const gaps = report.permissionGaps;
    const listed = out.rows(gaps, g => `- ${cell(g.scope)}: ${g.missing.map(cell).join(', ')}\n`);
    if (listed < gaps.length)
      out.must(`\n_… and ${gaps.length - listed} more resource groups, not listed._\n`);
  }
  if (report.discovery.warnings?.length) {
    out.must('\n### What Resource Graph left out (warning)\n\n');
    for (const w of report.discovery.warnings) out.must(`- ${cell(w)}\n`);
  }
  if (report.payloadErrors.length) {
    out.must('\n### Dispatch payload refused\n\n');
    for (const e of report.payloadErrors) out.must(`- ${cell(e)}\n`);
  }

  // 1. What needs a person, grouped by outcome.
  const problems = report.results.filter(r => NEEDS_A_PERSON.includes(r.outcome));
  if (problems.length) {
    out.must(`\n### Needs attention: ${problems.length} VM(s)\n`);
    for (const outcome of NEEDS_A_PERSON) {
      const rows = byName(problems.filter(r => r.outcome === outcome));
      if (!rows.length) continue;
      out.must(`\n#### ${outcome} (${rows.length})\n\n${byReason(rows)}`);
      out.must('| VM | Resource group | Subscription | Size | Why | Tries |\n|---|---|---|---|---|---|\n');
      const listed = out.rows(rows, r =>
        row([r.name, r.resourceGroup, r.subscriptionId, r.vmSize ?? '', why(r), String(r.attempts)])
      );
      if (listed < rows.length) out.must(notListed(rows.length - listed, outcome));
    }
  }

  // 2. What came back, and how long it was down.
  out.release(SECTION_RESERVE_BYTES);
  const started = report.results.filter(r => STARTED.includes(r.outcome));
  if (started.length) {
    const downtimes = started.flatMap(r => (downtimeMs(r) === undefined ? [] : [downtimeMs(r)!]));
    out.must(`\n### Started: ${started.length} VM(s)${downtimeLine(downtimes)}\n`);
    const timeline = dispatchTimeline(report);
    if (timeline) out.must(timeline);
    out.must(
      `\nDown for: from the eviction (Resource Health annotation, or the agent seeing the Preempt) to running; in brackets, how long after the eviction. Times in UTC, longest first.\n\n| VM | Resource group | Size | Evicted | Start accepted | Running | Down for |\n|---|---|---|---|---|---|---|\n`
    );
    const rows = [...started].sort(
      (a, b) => (downtimeMs(b) ?? -1) - (downtimeMs(a) ?? -1) || a.name.localeCompare(b.name)
    );
    const listed = out.rows(rows, r => {
      const down = downtimeMs(r);
      return row([
        r.name,
        r.resourceGroup,
        r.outcome === 'started-fallback'
          ? `${r.usedSize ?? r.vmSize ?? ''} (fallback; prefers ${r.preferredSize ?? '?'})`
          : (r.vmSize ?? ''),
        clock(r.evictedAt, true),
        since(r.evictedAt, r.startAcceptedAt),
        since(r.evictedAt, r.runningAt),
        down === undefined ? '—' : formatDuration(down)
      ]);
    });
    if (listed < rows.length) out.must(notListed(rows.length - listed, 'started VMs'));
  }

  // 3. Everything else, folded.
  out.release(SECTION_RESERVE_BYTES);
  const rest = report.results.filter(r => THE_REST.includes(r.outcome));
  if (rest.length) {
    const kinds = THE_REST.filter(o => counts.get(o))
      .map(o => `${counts.get(o)} ${o}`)
      .join(', ');
    out.must(
      `\n<details><summary>The rest: ${rest.length} VM(s) (${kinds})</summary>\n\n| VM | Resource group | Subscription | Outcome | Detail |\n|---|---|---|---|---|\n`
    );
    const rows = [...rest].sort(
      (a, b) => THE_REST.indexOf(a.outcome) - THE_REST.indexOf(b.outcome) || a.name.localeCompare(b.name)
    );
    const closing = '\n</details>\n';
    out.reserve(Buffer.byteLength(closing) + 512);
    const listed = out.rows(rows, r => row([r.name, r.resourceGroup, r.subscriptionId, r.outcome, r.detail]));
    out.release(Buffer.byteLength(closing) + 512);
    if (listed < rows.length) out.must(notListed(rows.length - listed, 'VMs'));
    out.must(closing);
  }
  return out.text();
}

/** From the eviction to running (or, when running was not seen, to the start being accepted). */
export function downtimeMs(r: VmResult): number | undefined {
  const end = r.runningAt ?? r.startAcceptedAt;
  if (!r.evictedAt || !end) return undefined;
  const ms = Date.parse(end) - Date.parse(r.evictedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function downtimeLine(downtimes: number[]): string {
  if (!downtimes.length) return '';
  const sorted = [...downtimes].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return ` — down for ${formatDuration(at(0.5))} at the median, ${formatDuration(at(0.9))} at p90, ${formatDuration(sorted[sorted.length - 1]!)} at most`;
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
    ['running', vm.runningAt]
  ];
  const lines = moments.flatMap(([what, at]) => {
    const t = at ? Date.parse(at) : NaN;
    if (!Number.isFinite(t)) return [];
    const offset = t - origin;
    return [
      `    ${offset === 0 ? '0s' : `${offset > 0 ? '+' : '−'}${formatDuration(Math.abs(offset))}`} : ${what}`
    ];
  });
  const name = vm.name.replace(/[^\w.-]/g, '_');
  return `\n\`\`\`mermaid\ntimeline\n    title ${name}, from the Preempt (${clock(dispatch.detectedAt, true).replace(/:/g, '.')} UTC) to running\n${lines.join('\n')}\n\`\`\`\n`;
}

/** Many VMs down for the same reason read better as one line first: "SkuNotAvailable in eastus × 1425". */
function byReason(rows: VmResult[]): string {
  if (rows.length < 5) return '';
  const reasons = new Map<string, number>();
  for (const r of rows) {
    const key = r.errorCode ?? (r.detail.length > 80 ? `${r.detail.slice(0, 77)}…` : r.detail);
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  const top = [...reasons].sort((a, b) => b[1] - a[1]);
  const shown = top.slice(0, 5).map(([reason, n]) => `${cell(reason)} × ${n}`);
  return `By reason: ${shown.join(' · ')}${top.length > 5 ? ` · ${top.length - 5} other reason(s)` : ''}\n\n`;
}

function why(r: VmResult): string {
  const price = r.currentPrice !== undefined ? ` (current price ${r.currentPrice})` : '';
  return `${r.errorCode && !r.detail.includes(r.errorCode) ? `${r.errorCode}: ` : ''}${r.detail}${price}`;
}

/** `HH:MM:SS (+45s)`: the moment, and how long after the eviction it came. */
function since(evictedAt: string | undefined, at: string | undefined): string {
  const ms = evictedAt && at ? Date.parse(at) - Date.parse(evictedAt) : NaN;
  return Number.isFinite(ms) && ms >= 0 ? `${clock(at)} (+${formatDuration(ms)})` : clock(at);
}

/** `HH:MM:SS`, with the date in front when asked (an eviction can be days old). */
function clock(iso: string | undefined, withDate = false): string {
  if (!iso) return '—';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '—';
  const text = t.toISOString();
  return withDate ? `${text.slice(0, 10)} ${text.slice(11, 19)}` : text.slice(11, 19);
}

function byName(rows: VmResult[]): VmResult[] {
  return [...rows].sort((a, b) => a.name.localeCompare(b.name));
}

function row(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |\n`;
}

/** Text from Azure or a payload, safe in a Markdown table cell. */
function cell(text: string): string {
  return text
    .replace(/[&<>]/g, c => `&#${c.charCodeAt(0)};`)
    .replace(/\|/g, '\\|')
    .replace(/\s+/g, ' ');
}

/** Appends text while the total stays under a byte limit, minus what later sections reserved. */
class Writer {
  private parts: string[] = [];
  private used = 0;
  private reserved = 0;
  constructor(private readonly limit: number) {}

  /** Fixed text (headings, counts): always written; the reserves are sized to leave room for it. */
  must(text: string): void {
    this.parts.push(text);
    this.used += Buffer.byteLength(text);
  }
  reserve(bytes: number): void {
    this.reserved += bytes;
  }
  release(bytes: number): void {
    this.reserved = Math.max(0, this.reserved - bytes);
  }
  /** Writes rows while they fit (keeping room for one "not listed" line); returns how many did. */
  rows<T>(items: T[], render: (item: T) => string): number {
    const room = this.limit - this.reserved - 512;
    let n = 0;
    for (const item of items) {
      const line = render(item);
      const bytes = Buffer.byteLength(line);
      if (this.used + bytes > room) break;
      this.parts.push(line);
      this.used += bytes;
      n++;
    }
    return n;
  }
  text(): string {
    return this.parts.join('');
  }
}
