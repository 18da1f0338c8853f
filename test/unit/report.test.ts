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
import { OUTPUT_GROUPS } from '../../src/report/outcomes.js';
import {
  annotate,
  buildOutputs,
  OUTPUT_BUDGET_UTF16_BYTES,
  shouldFail,
  writeResultFile,
  type RunReport
} from '../../src/report/report.js';
import {
  buildSummary,
  cameBack,
  downtimeMs,
  downtimeStats,
  needsAttention,
  SUMMARY_TARGET_BYTES
} from '../../src/report/summary.js';
import { logProgress } from '../../src/report/progress.js';
import { syntheticReport } from '../helpers/synthetic-report.js';
import { captureStdout } from '../helpers/capture-stdout.js';

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
    vm('vm-ok-1', 'already-running', { detail: 'running: nothing to do' }),
    started('vm-fast', '10:00:00', '10:00:05', '10:00:45', {
      because: 'VirtualMachinePreempted at 2026-11-22T10:00:00Z (Platform Initiated)'
    }),
    vm('vm-quota', 'quota-exceeded', {
      errorCode: 'OperationNotAllowed',
      location: 'eastus',
      detail:
        'OperationNotAllowed: Operation could not be completed as it results in exceeding approved Low Priority Cores quota. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/%7B%22SubscriptionId%22:%22x%22%7D.'
    }),
    vm('vm-wait', 'awaiting-evidence', { deallocatedAt: '2026-11-22T10:10:00Z' }),
    vm('vm-wait-long', 'awaiting-evidence', { deallocatedAt: '2026-11-22T09:00:00Z' }),
    started('vm-slow', '10:00:00', '10:03:00', '10:04:10', {
      attempts: 3,
      because: 'VirtualMachinePreempted at …'
    }),
    vm('vm-cap', 'capacity-unavailable', {
      errorCode: 'AllocationFailed',
      attempts: 4,
      location: 'westeurope'
    }),
    vm('vm-cap-2', 'capacity-unavailable', { errorCode: 'AllocationFailed', location: 'westeurope' }),
    vm('vm-cap-3', 'capacity-unavailable', { errorCode: 'AllocationFailed', location: 'eastus' }),
    vm('vm-mine', 'user-stopped', {
      detail: 'deallocated by a person or script: VirtualMachineDeallocationInitiated at …'
    }),
    vm('vm-broken', 'failed', { errorCode: 'InternalError', detail: 'InternalError: failed detail' }),
    vm('vm-price', 'price-above-max', {
      currentPrice: 0.12,
      errorCode: 'SpotPriceGreaterThanProvidedMaxPrice'
    }),
    started('vm-bound', '10:00:00', '10:01:00', '10:01:40', {
      evictedAt: undefined,
      because:
        'it has no Resource Health annotation, 16 min after the deallocation; annotations can go missing, so it is treated as evicted'
    }),
    vm('vm-fallback', 'started-fallback', {
      usedSize: 'Standard_D2as_v5',
      preferredSize: 'Standard_D2s_v5',
      evictedAt: '2026-11-22T10:00:00Z',
      startAcceptedAt: '2026-11-22T10:01:00Z',
      runningAt: '2026-11-22T10:01:30Z',
      because: 'VirtualMachinePreempted at …'
    })
  ];
  const run = report(results, {
    startedAt: '2026-11-22T09:59:00Z',
    durationMs: 21 * 60_000,
    evidenceBoundMs: 15 * 60_000,
    failOn: 'error',
    failure: '2 VM(s) could not be started (failed, quota-exceeded). See the job summary.'
  });
  const text = buildSummary(run, STEP_SUMMARY_MAX_BYTES, '/tmp/x/result.json');
  const at = (needle: string) => {
    const i = text.indexOf(needle);
    if (i < 0) throw new Error(`the summary lacks ${JSON.stringify(needle)}:\n${text}`);
    return i;
  };
  const rowOf = (name: string) => text.split('\n').find(l => l.startsWith(`| ${name} |`))!;

  test('opens with the counts and the step’s result', () => {
    const firstLines = text.split('\n').slice(0, 6).join('\n');
    expect(firstLines).toContain('3 started');
    expect(firstLines).toContain('1 failed');
    expect(firstLines).toContain('1 started-fallback');
    expect(firstLines).toContain(
      'The step **failed** (`fail-on: error`): 2 VM(s) could not be started (failed, quota-exceeded).'
    );
    expect(at('1 failed')).toBeLessThan(at('### Needs attention'));
  });

  test('groups what needs a person by outcome, reason, size and region, largest group first, with the fix', () => {
    expect(text).toContain('### Needs attention: 7 VMs in 6 groups');
    const table = text.slice(at('### Needs attention'), at('<details>'));
    const groups = table.split('\n').filter(l => /^\| \d/.test(l));
    expect(groups.map(l => l.split(' | ').slice(0, 2).join(' | '))).toEqual([
      '| 2 | capacity-unavailable<br>AllocationFailed',
      '| 1 | failed<br>InternalError',
      '| 1 | quota-exceeded<br>OperationNotAllowed',
      '| 1 | price-above-max<br>Spot<wbr>Price<wbr>Greater<wbr>Than<wbr>Provided<wbr>Max<wbr>Price',
      '| 1 | capacity-unavailable<br>AllocationFailed',
      '| 1 | awaiting-evidence<br>no evidence yet'
    ]);
    expect(groups[0]).toContain('Standard_D2s_v5 · westeurope');
    expect(groups[0]).toContain('No Spot capacity');
    expect(groups[0]).toContain('vm-cap<br>vm-cap-2');
    expect(groups[2]).toContain('eastus · sub\u00a000000000…');
    expect(groups[3]).toContain('Spot price 0.12 USD/h is above their max price');
  });

  test('waiting for Azure’s evidence is routine until it lasts longer than the bound', () => {
    expect(rowOf('vm-wait-long')).toBeDefined();
    expect(at('| vm-wait-long |')).toBeLessThan(at('### Started'));
    expect(at('| vm-wait |')).toBeGreaterThan(at('<details><summary>The rest'));
    expect(needsAttention(results[3]!, run)).toBe(false);
    expect(needsAttention(results[4]!, run)).toBe(true);
  });

  test('Azure’s own text once per group, folded, its long links short', () => {
    const said = text.slice(at('What Azure said'), at('</details>'));
    expect(said).toContain('[aka.ms/ProdportalCRP/#bl…](https://aka.ms/ProdportalCRP/#blade/');
    expect(said).not.toMatch(/\]\([^)]*\s/);
    expect(text.match(/Low Priority Cores quota/g)).toHaveLength(1);
  });

  test('then the started VMs: downtime, longest first, and how each came back', () => {
    expect(text).toContain('### Started: 4 VMs — down for 1 min 30 s at the median');
    expect(rowOf('vm-slow')).toBe(
      '| vm-slow | rg-1 | Standard_D2s_v5 | 2026-11-22 10:00:00 | 10:04:10 | 4 min 10 s | evicted: VirtualMachinePreempted · attempt 3 |'
    );
    expect(rowOf('vm-fast')).toContain('| 45 s |');
    expect(rowOf('vm-fallback')).toContain('on fallback Standard_D2as_v5 (prefers Standard_D2s_v5)');
    expect(rowOf('vm-bound')).toContain('no evidence in time: started by the bound');
    expect(at('| vm-slow |')).toBeLessThan(at('| vm-fallback |'));
    expect(at('| vm-fallback |')).toBeLessThan(at('| vm-fast |'));
    expect(text).toContain(
      "How they came back: 3 on Azure's evidence (Resource Health); 1 without evidence, by the no-evidence bound; 1 after more than one attempt; 1 on a fallback size."
    );
  });

  test('then the rest, grouped and folded away', () => {
    const details = text.slice(at('<details><summary>The rest'));
    expect(details).toContain('The rest: 3 VMs (1 already-running, 1 user-stopped, 1 awaiting-evidence)');
    expect(details).toContain('| 1 | user-stopped | VirtualMachineDeallocationInitiated | vm-mine |');
    expect(details).toContain('| vm-ok-1 |');
    expect(details).not.toContain('vm-broken');
  });

  test('no mermaid timeline without a dispatch, and no warning when times run forward', () => {
    expect(text).not.toContain('```mermaid');
    expect(text).not.toContain('Times run backwards');
  });

  test('text from Azure cannot break the table or inject HTML', () => {
    const evil = buildSummary(
      report([vm('vm-x', 'failed', { detail: 'a | b <script>alert(1)</script>\nnext' })]),
      STEP_SUMMARY_MAX_BYTES
    );
    expect(evil).toContain('a \\| b &#60;script&#62;alert(1)&#60;/script&#62; next');
    expect(evil).not.toContain('<script>');
  });

  test('a report whose times run backwards says so, and leaves those downtimes out', () => {
    const skewed = buildSummary(
      report([started('vm-skew', '10:01:00', '10:00:05', '10:00:45')]),
      STEP_SUMMARY_MAX_BYTES
    );
    expect(skewed).toContain(
      '**Times run backwards** for 1 VM (vm-skew: start accepted 55 s before the eviction)'
    );
    expect(skewed).toContain('### Started: 1 VM\n');
    expect(skewed.split('\n').find(l => l.startsWith('| vm-skew |'))).toContain('| — |');
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
      '0 s : Preempt seen by the agent',
      '+2.0 s : dispatch received, run started',
      '+31 s : deallocated',
      '+33 s : start accepted',
      '+1 min 12 s : running',
      ''
    ]);
  });

  test('the timeline is in the order things happened: a deallocation before a busy agent saw the Preempt comes first', () => {
    const dispatched = vm('vm-late', 'started', {
      source: 'dispatch',
      evictedAt: '2026-11-22T10:00:00.000Z',
      deallocatedAt: '2026-11-22T09:59:59.500Z',
      startAcceptedAt: '2026-11-22T10:00:04.000Z',
      runningAt: '2026-11-22T10:00:10.000Z'
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
    expect(
      block
        ?.split('\n')
        .map(l => l.trim())
        .slice(2, 7)
    ).toEqual([
      '−500 ms : deallocated',
      '0 s : Preempt seen by the agent',
      '+2.0 s : dispatch received, run started',
      '+4.0 s : start accepted',
      '+10 s : running'
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

  test('the median is the middle value, or the mean of the middle two', () => {
    expect(downtimeStats([10, 20])).toEqual({ median: 15, p90: 20, max: 20 });
    expect(downtimeStats([30, 10, 20])).toEqual({ median: 20, p90: 30, max: 30 });
    expect(downtimeStats([])).toBeUndefined();
  });

  test('how a VM came back, for a revert and a raised max price', () => {
    expect(
      cameBack(
        vm('r', 'reverted', { preferredSize: 'Standard_D4s_v5', detail: 'back on its preferred size' })
      )
    ).toBe('moved back to Standard_D4s_v5 · back on its preferred size');
    expect(
      cameBack(
        vm('p', 'started', {
          evictedAt: 'x',
          because: 'VirtualMachinePreempted',
          oldMaxPrice: 0.05,
          newMaxPrice: 0.09
        })
      )
    ).toBe('evicted: VirtualMachinePreempted · max price 0.05 → 0.09 USD/h');
  });
});

describe('the job summary at any fleet size', () => {
  test.each([10_000, 100_000])('%d VMs: under 256 KiB, the counts whole, every group named', n => {
    const big = syntheticReport(n);
    const text = buildSummary(big, STEP_SUMMARY_MAX_BYTES - 4096, '/tmp/x/result.json');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SUMMARY_TARGET_BYTES);
    expect(SUMMARY_TARGET_BYTES).toBeLessThan(256 * 1024);
    const capacity = big.results.filter(r => r.outcome === 'capacity-unavailable').length;
    expect(text).toContain(`${capacity.toLocaleString('en-US')} capacity-unavailable`);
    expect(text).toMatch(/### Needs attention: [\d,]+ VMs in 5 groups/);
    expect(text).toMatch(/_… and [\d,]+ more VMs, not listed here: every VM is in the result file/);
    const startedRows = text
      .split('\n')
      .filter(l => /^\| vm-\d+ \| rg-\d \| Standard_D4s_v5 \| 2026/.test(l));
    const started = big.results.filter(r => r.outcome === 'started').length;
    if (startedRows.length < started) expect(text).toMatch(/_… and [\d,]+ more started VMs, not listed here/);
    else expect(startedRows).toHaveLength(started);
    expect(text.trimEnd().endsWith('</details>')).toBe(true);
  });

  test('a tiny budget still yields a valid page with the counts', () => {
    const small = buildSummary(syntheticReport(10_000), 20_000);
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(20_000);
    expect(small).toContain('2,850 capacity-unavailable');
    expect(small.trimEnd().endsWith('</details>')).toBe(true);
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
    // No list that has VMs is cut to nothing, and each says how long it really is.
    expect(listedStarted).toBeGreaterThan(0);
    expect(listedSkipped).toBeGreaterThan(0);
    expect(outputs).toMatchObject({
      'started-count': '3267',
      'failed-count': '200',
      'skipped-count': '6533',
      'capacity-unavailable-count': '0',
      'needs-attention': '200',
      complete: 'false'
    });
  });

  test('each array’s count output is its whole length, and counts agree with it', () => {
    const r = report([
      vm('a', 'failed'),
      vm('b', 'quota-exceeded'),
      vm('c', 'started-fallback'),
      vm('d', 'awaiting-evidence'),
      vm('e', 'capacity-unavailable')
    ]);
    const { outputs } = buildOutputs(r, '/tmp/r/result.json');
    const counts = JSON.parse(outputs.counts!);
    for (const list of ['started', 'failed', 'capacity-unavailable', 'skipped']) {
      expect(Number(outputs[`${list}-count`])).toBe(JSON.parse(outputs[list]!).length);
      // The array holds the outcomes its description names, and counts has each of them.
      const outcomes = OUTPUT_GROUPS[list as keyof typeof OUTPUT_GROUPS];
      expect(outcomes.reduce((n, o) => n + counts[o], 0)).toBe(Number(outputs[`${list}-count`]));
    }
    expect(outputs['failed-count']).toBe('2');
    // awaiting-evidence, for minutes, is routine: not counted as needing a person.
    expect(outputs['needs-attention']).toBe('3');
    expect(outputs.complete).toBe('true');
  });

  test('at most 10 annotations, one per group, the last saying how many groups it left out', () => {
    const { written, release } = captureStdout();
    try {
      annotate(
        report(
          Array.from({ length: 2000 }, (_, i) =>
            vm(`vm-${i}`, i % 2 ? 'capacity-unavailable' : 'failed', {
              errorCode: i % 2 ? 'SkuNotAvailable' : 'InternalError',
              location: `region-${i % 30}`
            })
          )
        )
      );
    } finally {
      release();
    }
    const annotations = written
      .join('')
      .split('\n')
      .filter(l => /^::(error|warning)/.test(l));
    expect(annotations).toHaveLength(10);
    expect(annotations[9]).toMatch(/^::warning title=\d+ more group\(s\) need attention::/);
    expect(annotations[0]).toMatch(/title=\d+ VM\(s\) /);
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

describe('progress while VMs are worked on', () => {
  test('a line names the VMs in progress and for how long; nothing when none is', async () => {
    const { written, release } = captureStdout();
    const inProgress = new Map<string, number>();
    const stop = logProgress(inProgress, () => 100_000, 5);
    try {
      await new Promise(r => setTimeout(r, 50));
      expect(written.join('')).toBe('');
      inProgress.set('worker-1', 60_000);
      while (!written.join('').includes('Still working')) await new Promise(r => setTimeout(r, 5));
    } finally {
      stop();
      release();
    }
    expect(written.join('')).toContain('Still working on 1 VM(s): worker-1 (40 s).');
  });
});

describe('verify-health in the report', () => {
  const results = [
    started('vm-checked', '10:00:00', '10:01:00', '10:02:00', {
      healthyAt: '2026-11-22T10:03:30Z',
      because: 'VirtualMachinePreempted at …'
    }),
    started('vm-plain', '10:00:00', '10:01:00', '10:01:40'),
    vm('vm-sick', 'started-unhealthy', {
      detail: 'started; running, but not healthy (guest-agent) within 10m: guest agent: Not Ready',
      health: { check: 'guest-agent', state: 'timed-out', said: 'guest agent: Not Ready', reads: 3 }
    })
  ];
  const text = buildSummary(report(results), STEP_SUMMARY_MAX_BYTES);

  test('time to healthy: said how it came back, and the downtime counts to it where it was measured', () => {
    const rowOf = (name: string) => text.split('\n').find(l => l.startsWith(`| ${name} |`))!;
    expect(rowOf('vm-checked')).toBe(
      '| vm-checked | rg-1 | Standard_D2s_v5 | 2026-11-22 10:00:00 | 10:02:00 | 3 min 30 s | evicted: VirtualMachinePreempted · healthy 1 min 30 s after running |'
    );
    expect(downtimeMs(results[0]!)).toBe(210_000);
    expect(downtimeMs(results[1]!)).toBe(100_000);
  });

  test('started-unhealthy needs a person, with what Azure said, and fails the step on errors', () => {
    expect(text).toMatch(/\| 1 \| started-unhealthy<br>timed-out \|/);
    expect(text.indexOf('started-unhealthy<br>')).toBeLessThan(text.indexOf('### Started'));
    expect(text).toContain('guest agent: Not Ready');
    expect(shouldFail(report(results), 'error')).toBe(
      '1 VM(s) started but did not become healthy. See the job summary.'
    );
  });
});
