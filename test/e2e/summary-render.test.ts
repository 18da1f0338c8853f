/**
 * Job summaries as GitHub shows them: rendered from GitHub-flavoured markdown with GitHub's
 * stylesheet and Mermaid, in headless Chromium, in a window 1000 px wide whose first 800 px are
 * the first screen. One summary of a fleet with every kind of problem (the emulator's runner runs
 * the bundle), one of a 10 000-VM sweep (a result built without Azure). The demo's summaries are
 * rendered by test/e2e/demo.test.ts. Screenshots of the last run go to docs/screenshots/.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { STEP_SUMMARY_MAX_BYTES } from '../../src/report/github-limits.js';
import { buildSummary } from '../../src/report/summary.js';
import { problemFleet } from '../emulator/problem-fleet.js';
import { syntheticReport } from '../helpers/synthetic-report.js';
import { expectReadable, SCREENSHOTS } from '../render/expect-readable.js';
import { CHROMIUM_MISSING, findChromium, SummaryRenderer } from '../render/render-summary.js';
import { emulator, TEST_WORKFLOWS } from './harness.js';

const chromium = findChromium();
if (!chromium) console.warn(CHROMIUM_MISSING);
const whenChromium = chromium ? describe : describe.skip;

whenChromium('job summaries as GitHub renders them, 1000 px wide', () => {
  let renderer: SummaryRenderer;
  beforeAll(async () => {
    renderer = await SummaryRenderer.open(chromium);
  });
  afterAll(async () => {
    await renderer?.close();
  });

  test.failing('a fleet where most evicted VMs need a person', async () => {
    const emu = await emulator(problemFleet({ RETRY_FOR: '0' }), { workflowsDir: TEST_WORKFLOWS });
    let summary: string;
    try {
      const [run] = await emu.schedule('restart-with-vars.yml');
      summary = run!.summary;
    } finally {
      await emu.stop();
    }
    const render = await renderer.render(summary, {
      screenshot: join(SCREENSHOTS, 'summary-problems.png'),
      title: 'problems'
    });
    expect(render.problemGroups.length).toBeGreaterThan(0);
    expectReadable(render);
  });

  test.failing('a 10 000-VM sweep', async () => {
    const summary = buildSummary(syntheticReport(10_000), STEP_SUMMARY_MAX_BYTES - 4096, 'result.json');
    const render = await renderer.render(summary, {
      screenshot: join(SCREENSHOTS, 'summary-10000-vms.png'),
      title: '10 000 VMs'
    });
    expect(render.problemGroups.length).toBeGreaterThan(0);
    expectReadable(render);
  });
});
