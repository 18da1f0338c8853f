/**
 * Job summaries as GitHub shows them: rendered from GitHub-flavoured markdown with GitHub's
 * stylesheet and Mermaid, in headless Chromium, in a window 1000 px wide whose first 800 px are
 * the first screen. One summary of a fleet with every kind of problem (the emulator's runner runs
 * the bundle; the README shows its screenshot), one of a 10 000-VM sweep (a result built without
 * Azure). The demo's summaries are
 * rendered by test/e2e/demo.test.ts. Screenshots go to .tmp/screenshots/, or to docs/screenshots/ with `npm run screenshots`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { STEP_SUMMARY_MAX_BYTES } from '../../src/report/github-limits.js';
import { buildSummary } from '../../src/report/summary.js';
import { problemFleet } from '../emulator/fleets/problem-fleet.js';
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

  test('a fleet where most evicted VMs need a person', async () => {
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
    // One group per problem a person can fix: each capacity shortage by size and region, the
    // quota and the permissions by subscription, the price; the two VMs that went down minutes
    // ago wait for Azure's evidence, which is routine, not a problem.
    expect(render.problemGroups.map(g => g.text.split(' ').slice(0, 3).join(' '))).toEqual([
      '7 capacity-unavailable AllocationFailed',
      '3 capacity-unavailable SkuNotAvailable',
      '2 failed AuthorizationFailed',
      '2 quota-exceeded OperationNotAllowed',
      '2 price-above-max SpotPriceGreaterThanProvidedMaxPrice'
    ]);
    expect(summary).toContain('The step **failed** (`fail-on: error`)');
    expectReadable(render);
  });

  test('a 10 000-VM sweep', async () => {
    const summary = buildSummary(syntheticReport(10_000), STEP_SUMMARY_MAX_BYTES - 4096, 'result.json');
    expect(Buffer.byteLength(summary)).toBeLessThan(256 * 1024);
    const render = await renderer.render(summary, {
      screenshot: join(SCREENSHOTS, 'summary-10000-vms.png'),
      title: '10 000 VMs'
    });
    expect(render.problemGroups.length).toBeGreaterThan(0);
    expectReadable(render);
  });
});
