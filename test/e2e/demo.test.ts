/**
 * The README's first command keeps its promise: every eligible VM running, every decoy untouched,
 * nothing left behind but the job summaries it points to, and those read well as GitHub shows them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { SavedSummary } from '../emulator/scenarios/demo-summaries.js';
import { TOOL_CACHES } from '../emulator/scratch.js';
import { expectReadable, SCREENSHOTS } from '../render/expect-readable.js';
import { CHROMIUM_MISSING, findChromium, SummaryRenderer } from '../render/render-summary.js';

const chromium = findChromium();
const home = mkdtempSync(join(tmpdir(), 'demo-test-'));
// The demo's temporary directory is this one, so that whatever it leaves behind can be seen.
const demoTmp = join(home, 'tmp');
const out = join(home, 'summaries');
mkdirSync(demoTmp);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let demo: any;

beforeAll(() => {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'test/emulator/scenarios/demo.ts', '--json', '--out', out],
    { encoding: 'utf8', timeout: 180_000, env: { ...process.env, TMPDIR: demoTmp } }
  );
  expect(result.status).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  demo = JSON.parse(lines[0]!);
}, 200_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('npm run demo -- --json', () => {
  test('prints one JSON object: the fast path and the sweep bring every eligible VM back, no decoy touched', () => {
    expect(demo.eligible.length).toBeGreaterThanOrEqual(20);
    expect(demo.started).toEqual(expect.arrayContaining(demo.eligible));
    expect(demo.started).toHaveLength(demo.eligible.length);
    // Standalone VMs and the Uniform scale set's instances come back alike.
    expect(new Set(demo.eligible.map((v: { kind: string }) => v.kind))).toEqual(
      new Set(['vm', 'vmss-uniform'])
    );
    expect(demo.decoys).toBeGreaterThan(0);
    expect(demo.decoys_touched).toBe(0);
    expect(demo.started_twice).toBe(0);
    expect(demo.runs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          workflow: 'restart-on-eviction.yml',
          event: 'repository_dispatch',
          exitCode: 0
        }),
        expect.objectContaining({ workflow: 'restart-on-schedule.yml', event: 'schedule', exitCode: 0 })
      ])
    );
    // Act 3: back on a fallback size, then home again.
    expect(demo.fallback).toEqual({
      vm: 'batch-7',
      preferred: 'Standard_D4s_v5',
      used: 'Standard_D4as_v5',
      reverted: true
    });
    // The fast path: each agent's dispatch came before the eviction, the start after it.
    expect(demo.loop.length).toBeGreaterThan(0);
    for (const step of demo.loop) {
      expect(step.dispatched).toBeLessThan(step.deallocated);
      expect(step.startAccepted).toBeGreaterThanOrEqual(step.deallocated);
      expect(step.running).toBeGreaterThan(step.startAccepted);
      // verify-health: guest-agent in the example workflow: healthy after running, in the table and per VM.
      expect(step.healthy).toBeGreaterThan(step.running);
      expect(demo.vms.find((v: { name: string }) => v.name === step.vm).healthy).toBe(step.healthy);
      expect(step.runExitCode).toBe(0);
    }
  });

  test('leaves nothing behind but the job summaries, and says where each is', () => {
    // Only the caches tsx and npm share between runs may stay in the temporary directory.
    expect(readdirSync(demoTmp).filter(name => !TOOL_CACHES.test(name))).toEqual([]);
    const saved = demo.summaries as SavedSummary[];
    // Act 1: one summary per dispatch run that ran — GitHub cancelled the others as pending in the
    // busy concurrency group, and the run in progress took their VMs.
    const ran = (demo.runs as { event: string; conclusion: string }[]).filter(
      r => r.event === 'repository_dispatch' && r.conclusion !== 'cancelled'
    );
    expect(saved.map(s => s.act)).toEqual([...ran.map(() => 1), 2, 2, 3, 3]);
    expect(readdirSync(out).sort()).toEqual(
      saved.flatMap(s => [s.markdown, s.html].map(p => p.slice(out.length + 1))).sort()
    );
    for (const s of saved) {
      expect(readFileSync(s.markdown, 'utf8')).toMatch(/^## Azure Spot restart/);
      expect(readFileSync(s.html, 'utf8')).toContain('<article class="markdown-body"');
    }
    for (const run of demo.runs)
      if (run.conclusion !== 'cancelled') expect(existsSync(run.summary)).toBe(true);
  });
});

(chromium ? describe : describe.skip)('the demo’s job summaries as GitHub renders them, 1000 px wide', () => {
  if (!chromium) console.warn(CHROMIUM_MISSING);
  let renderer: SummaryRenderer;
  beforeAll(async () => {
    renderer = await SummaryRenderer.open(chromium);
  });
  afterAll(async () => {
    await renderer?.close();
  });

  test('every run’s summary: diagrams parse, tables fit, the first screen holds the counts and the problems', async () => {
    const shots: Record<string, string> = {
      'act1-run1-restart-on-eviction': 'summary-demo-fast-path.png',
      'act2-run6-restart-on-schedule': 'summary-demo-sweep.png'
    };
    for (const s of demo.summaries as SavedSummary[]) {
      const stem = s.markdown.slice(out.length + 1).replace(/\.md$/, '');
      const markdown = readFileSync(s.markdown, 'utf8');
      // One clock: Azure's times and the action's agree, so no VM starts before it was evicted.
      expect(markdown).not.toContain('Times run backwards');
      const render = await renderer.render(markdown, {
        title: stem,
        screenshot: shots[stem] ? join(SCREENSHOTS, shots[stem]) : undefined
      });
      expectReadable(render);
    }
  });
});
