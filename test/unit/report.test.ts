/**
 * The report a person reads (the job summary) and the one a later step reads (outputs and the
 * result file): order, content, and GitHub's size limits at any fleet size.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import {
  JOB_OUTPUTS_MAX_UTF16_BYTES,
  STEP_SUMMARY_MAX_BYTES,
  utf16Bytes
} from '../../src/report/github-limits.js';
import type { Outcome, VmResult } from '../../src/report/outcomes.js';
import {
  buildOutputs,
  OUTPUT_BUDGET_UTF16_BYTES,
  writeResultFile,
  type RunReport
} from '../../src/report/report.js';
import { buildSummary, downtimeMs } from '../../src/report/summary.js';

const SUB = '00000000-0000-4000-8000-000000000001';

function vm(name: string, outcome: Outcome, extra: Partial<VmResult> = {}): VmResult {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/${name}`,
    name,
    resourceGroup: 'rg-1',
    subscriptionId: SUB,
    vmSize: 'Standard_D2s_v5',
    outcome,
    detail: `${outcome} detail`,
    source: 'sweep',
    attempts: 1,
    durationMs: 1000,
    ...extra
  };
}

function report(results: VmResult[], extra: Partial<RunReport> = {}): RunReport {
  return {
    event: 'schedule',
    dryRun: false,
    results,
    payloadErrors: [],
    permissionGaps: [],
    discovery: { requests: 1, pages: 1, quotaWaits: 0, candidates: results.length },
    durationMs: 65_000,
    ...extra
  };
}

const started = (name: string, evicted: string, accepted: string, running: string, extra = {}) =>
  vm(name, 'started', {
    evictedAt: `2026-11-22T${evicted}Z`,
    startAcceptedAt: `2026-11-22T${accepted}Z`,
    runningAt: `2026-11-22T${running}Z`,
    ...extra
  });

describe('the job summary', () => {
  const results = [
    vm('vm-ok-1', 'already-running'),
    started('vm-fast', '10:00:00', '10:00:05', '10:00:45'),
    vm('vm-quota', 'quota-exceeded', { errorCode: 'OperationNotAllowed', detail: 'cores quota' }),
    vm('vm-wait', 'awaiting-evidence'),
    started('vm-slow', '10:00:00', '10:03:00', '10:04:10'),
    vm('vm-cap', 'capacity-unavailable', { errorCode: 'AllocationFailed', attempts: 4 }),
    vm('vm-mine', 'user-stopped'),
    vm('vm-broken', 'failed', { errorCode: 'InternalError' }),
    vm('vm-price', 'price-above-max', { currentPrice: 0.12 }),
    vm('vm-fallback', 'started-fallback', {
      usedSize: 'Standard_D2as_v5',
      preferredSize: 'Standard_D2s_v5',
      evictedAt: '2026-11-22T10:00:00Z',
      startAcceptedAt: '2026-11-22T10:01:00Z',
      runningAt: '2026-11-22T10:01:30Z'
    })
  ];
  const text = buildSummary(report(results), STEP_SUMMARY_MAX_BYTES, '/tmp/x/result.json');
  const at = (needle: string) => {
    const i = text.indexOf(needle);
    if (i < 0) throw new Error(`the summary lacks ${JSON.stringify(needle)}:\n${text}`);
    return i;
  };

  test('opens with the counts', () => {
    const firstLines = text.split('\n').slice(0, 4).join('\n');
    expect(firstLines).toContain('2 started');
    expect(firstLines).toContain('1 failed');
    expect(firstLines).toContain('1 started-fallback');
    expect(at('1 failed')).toBeLessThan(at('### Needs attention'));
  });

  test('lists what needs a person first, grouped by outcome in a fixed order', () => {
    expect(text).toContain('### Needs attention: 5 VM(s)');
    const order = [
      '#### failed (1)',
      '#### quota-exceeded (1)',
      '#### price-above-max (1)',
      '#### capacity-unavailable (1)',
      '#### awaiting-evidence (1)'
    ].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(at('| vm-broken |')).toBeLessThan(at('#### quota-exceeded'));
    expect(text).toContain('InternalError: failed detail');
    expect(text).toContain('(current price 0.12)');
    expect(at('#### awaiting-evidence')).toBeLessThan(at('### Started'));
  });

  test('then the started VMs with their downtime, longest first', () => {
    expect(text).toContain('### Started: 3 VM(s)');
    const rowOf = (name: string) => text.split('\n').find(l => l.startsWith(`| ${name} |`))!;
    expect(rowOf('vm-slow')).toBe(
      '| vm-slow | rg-1 | Standard_D2s_v5 | 2026-11-22 10:00:00 | 10:03:00 (+3m) | 10:04:10 (+4m10s) | 4m10s |'
    );
    expect(rowOf('vm-fast')).toContain('| 45s |');
    expect(rowOf('vm-fallback')).toContain('Standard_D2as_v5 (fallback; prefers Standard_D2s_v5)');
    expect(at('| vm-slow |')).toBeLessThan(at('| vm-fallback |'));
    expect(at('| vm-fallback |')).toBeLessThan(at('| vm-fast |'));
    expect(text).toContain('down for 1m30s at the median');
    expect(text).toContain('4m10s at most');
  });

  test('then the rest, folded away', () => {
    expect(at('### Started')).toBeLessThan(at('<details>'));
    const details = text.slice(at('<details>'), at('</details>'));
    expect(details).toContain('The rest: 2 VM(s) (1 already-running, 1 user-stopped)');
    expect(details).toContain('| vm-ok-1 |');
    expect(details).toContain('| vm-mine |');
    expect(details).not.toContain('vm-broken');
  });

  test('no mermaid timeline without a dispatch', () => {
    expect(text).not.toContain('```mermaid');
  });

  test('text from Azure cannot break the table or inject HTML', () => {
    const evil = buildSummary(
      report([vm('vm-x', 'failed', { detail: 'a | b <script>alert(1)</script>\nnext' })]),
      STEP_SUMMARY_MAX_BYTES
    );
    expect(evil).toContain('a \\| b &#60;script&#62;alert(1)&#60;/script&#62; next');
    expect(evil).not.toContain('<script>');
  });

  test('a dispatched run draws the way back as a Mermaid timeline', () => {
    const dispatched = vm('vm-d', 'started', {
      source: 'dispatch',
      evictedAt: '2026-11-22T10:00:00.000Z',
      deallocatedAt: '2026-11-22T10:00:31.000Z',
      startAcceptedAt: '2026-11-22T10:00:32.500Z',
      runningAt: '2026-11-22T10:01:12.000Z'
    });
    const md = buildSummary(
      report([dispatched], {
        event: 'repository_dispatch',
        startedAt: '2026-11-22T10:00:02.000Z',
        dispatch: { vmResourceId: dispatched.id, detectedAt: '2026-11-22T10:00:00.000Z' }
      }),
      STEP_SUMMARY_MAX_BYTES
    );
    const block = /```mermaid\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block?.split('\n').map(l => l.trim())).toEqual([
      'timeline',
      'title vm-d, from the Preempt (2026-11-22 10.00.00 UTC) to running',
      '0s : Preempt seen by the agent',
      '+2.0s : dispatch received, run started',
      '+31s : deallocated',
      '+33s : start accepted',
      '+1m12s : running',
      ''
    ]);
  });

  test('downtime runs from the eviction to running, or to the start when running was not seen', () => {
    expect(downtimeMs(started('a', '10:00:00', '10:00:10', '10:01:00'))).toBe(60_000);
    expect(
      downtimeMs(
        vm('b', 'started', { evictedAt: '2026-11-22T10:00:00Z', startAcceptedAt: '2026-11-22T10:00:10Z' })
      )
    ).toBe(10_000);
    expect(downtimeMs(vm('c', 'started', { runningAt: '2026-11-22T10:00:10Z' }))).toBeUndefined();
  });
});

describe('the job summary past a size', () => {
  // 30 000 VMs with long details: several MiB if listed in full.
  const many = Array.from({ length: 30_000 }, (_, i) => {
    const name = `vm-${String(i).padStart(5, '0')}`;
    if (i % 10 === 0) return vm(name, 'capacity-unavailable', { detail: 'x'.repeat(200) });
    if (i % 3 === 0)
      return started(name, '10:00:00', '10:00:30', `10:0${1 + (i % 8)}:00`, { detail: 'started' });
    return vm(name, 'already-running', { detail: 'running: nothing to do' });
  });
  const text = buildSummary(report(many), STEP_SUMMARY_MAX_BYTES - 4096, '/tmp/x/result.json');

  test('stays under the budget, and so under GitHub’s 1 MiB', () => {
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(STEP_SUMMARY_MAX_BYTES - 4096);
  });

  test('keeps the counts and every section heading, and says what it left out', () => {
    expect(text).toContain('3000 capacity-unavailable');
    expect(text).toContain('### Needs attention: 3000 VM(s)');
    expect(text).toContain('### Started: ');
    expect(text).toContain('<details><summary>The rest: ');
    expect(text).toContain('</details>');
    expect(text).toMatch(/… and \d+ more started VMs, not listed/);
    expect(text).toContain('Every VM is in the result file (output `result-file`)');
  });

  test('problems are listed before anything else takes the room', () => {
    const problemRows = text.split('\n').filter(l => l.startsWith('| vm-') && l.includes('xxxxx'));
    expect(problemRows.length).toBe(3000);
    expect(text).toContain(`#### capacity-unavailable (3000)\n\nBy reason: ${'x'.repeat(77)}… × 3000\n`);
  });

  test('summarises the downtime of every started VM, listed or not', () => {
    expect(text).toMatch(/### Started: 9000 VM\(s\) — down for \S+ at the median, \S+ at p90, 8m at most/);
  });

  test('a tiny budget still yields a valid page with the counts', () => {
    const small = buildSummary(report(many), 20_000);
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(20_000);
    expect(small).toContain('3000 capacity-unavailable');
    expect(small).toContain('</details>');
  });
});

describe('outputs and the result file', () => {
  const saved = process.env.RUNNER_TEMP;
  afterEach(() => {
    process.env.RUNNER_TEMP = saved;
  });
  const total = (o: Record<string, string>) =>
    Object.entries(o).reduce((n, [k, v]) => n + utf16Bytes(k) + utf16Bytes(v), 0);

  test('a small run gets every output complete', () => {
    const r = report([vm('a', 'started'), vm('b', 'failed'), vm('c', 'skipped')]);
    const { outputs, cut } = buildOutputs(r, '/tmp/r/result.json');
    expect(cut).toEqual([]);
    expect(JSON.parse(outputs.started!)).toEqual([r.results[0]!.id]);
    expect(JSON.parse(outputs.failed!)).toEqual([r.results[1]!.id]);
    expect(outputs['result-file']).toBe('/tmp/r/result.json');
    const result = JSON.parse(outputs.result!);
    expect(result.complete).toBe(true);
    expect(result.vms).toHaveLength(3);
  });

  test('a 10 000-VM run stays within the budget, and the budget within GitHub’s limit', () => {
    expect(OUTPUT_BUDGET_UTF16_BYTES).toBeLessThan(JOB_OUTPUTS_MAX_UTF16_BYTES);
    const results = Array.from({ length: 10_000 }, (_, i) =>
      vm(`vm-${String(i).padStart(5, '0')}`, i % 50 === 0 ? 'failed' : i % 3 ? 'already-running' : 'started')
    );
    const { outputs, cut } = buildOutputs(report(results), '/tmp/r/result.json');
    expect(total(outputs)).toBeLessThanOrEqual(OUTPUT_BUDGET_UTF16_BYTES);
    expect(JSON.parse(outputs.counts!)).toMatchObject({
      failed: 200,
      started: 3267,
      'already-running': 6533
    });
    // What needs a person comes through whole; the long lists are cut and say so.
    expect(JSON.parse(outputs.failed!)).toHaveLength(200);
    const result = JSON.parse(outputs.result!);
    expect(result).toMatchObject({ complete: false, resultFile: '/tmp/r/result.json', omitted: 9800 });
    expect(result.vms.map((v: VmResult) => v.outcome)).toEqual(Array(200).fill('failed'));
    const listedStarted = JSON.parse(outputs.started!).length;
    const listedSkipped = JSON.parse(outputs.skipped!).length;
    expect(result.cut.skipped).toEqual({ listed: listedSkipped, total: 6533 });
    expect(listedStarted + listedSkipped).toBeLessThan(9800);
    expect(cut.join('; ')).toContain('skipped lists');
  });

  test('the result file holds every VM', () => {
    process.env.RUNNER_TEMP = mkdtempSync(join(tmpdir(), 'runner-temp-'));
    const results = Array.from({ length: 5000 }, (_, i) => vm(`vm-${i}`, i % 2 ? 'started' : 'failed'));
    const path = writeResultFile(report(results));
    expect(path.startsWith(process.env.RUNNER_TEMP)).toBe(true);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file.vms).toHaveLength(5000);
    expect(file.counts).toMatchObject({ started: 2500, failed: 2500 });
    expect(file.event).toBe('schedule');
  });
});
