/**
 * The `action` job of .github/workflows/ci.yml, run here step by step as a hosted runner runs it:
 * the emulator started in the background by the job's own script, then `uses: ./` (the committed
 * dist/index.js with action.yml's defaults) in dry-run, then the job's own check.
 *
 * What cannot run here, and what stands in for it: actions/checkout (the test runs in the
 * checked-out tree), actions/setup-node (Node 24 from `npm ci` is first on PATH, the version
 * .node-version names) and `npm ci` (already done; reinstalling would rewrite node_modules under
 * the other tests). The test names exactly these, so a new step that cannot run here fails it.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, describe, expect, test } from '@jest/globals';
import { runJob, type JobRun, type WorkflowStep } from '../emulator/github/job-runner.js';

const ROOT = new URL('../../', import.meta.url).pathname;

const CANNOT_RUN_HERE: [(s: WorkflowStep) => boolean, string][] = [
  [s => s.uses?.startsWith('actions/checkout@') ?? false, 'the test runs in the checked-out tree'],
  [s => s.uses?.startsWith('actions/setup-node@') ?? false, 'Node 24 (npm ci installed it) is first on PATH'],
  [
    s => s.run?.trim().startsWith('npm ci') ?? false,
    'node_modules is installed; a reinstall would disturb other tests'
  ]
];

function getJson(url: string, ca: string): Promise<unknown> {
  return new Promise((done, fail) => {
    request(url, { ca }, res => {
      let body = '';
      res.on('data', c => (body += c));
      res.on('end', () => done(JSON.parse(body)));
    })
      .on('error', fail)
      .end();
  });
}

describe('.github/workflows/ci.yml, job "action"', () => {
  let job: JobRun | undefined;
  afterAll(() => job?.stop());

  test('runs the action from this commit in dry-run against the emulator: finds worker-1, starts nothing', async () => {
    job = await runJob({
      root: ROOT,
      workflowFile: '.github/workflows/ci.yml',
      job: 'action',
      event: { name: 'pull_request', payload: { action: 'synchronize', number: 1 } },
      skip: step => CANNOT_RUN_HERE.find(([matches]) => matches(step))?.[1]
    });
    const logs = job.steps.map(s => `--- ${s.name} (${s.outcome})\n${s.log}`).join('\n');

    expect(
      job.steps.filter(s => s.skippedBecause && !s.skippedBecause.startsWith('if:')).map(s => s.name)
    ).toEqual(['Checkout', 'Set up Node.js', 'Install dependencies']);
    const ran = job.steps.filter(s => !s.skippedBecause);
    expect({ steps: ran.map(s => [s.name, s.outcome]), logs }).toEqual({
      steps: [
        ['Start the emulator', 'success'],
        ['Run the action from this commit', 'success'],
        ['Check what the dry run found', 'success']
      ],
      logs: expect.any(String)
    });

    const restart = job.steps.find(s => s.id === 'restart')!;
    expect(JSON.parse(restart.outputs.started!)).toEqual([]);
    const result = JSON.parse(restart.outputs.result!) as {
      dryRun: boolean;
      vms: { name: string; outcome: string }[];
    };
    expect(result.dryRun).toBe(true);
    expect(Object.fromEntries(result.vms.map(v => [v.name, v.outcome]))).toEqual({
      'worker-1': 'skipped',
      'dev-box': 'user-stopped'
    });
    expect(job.summary).toContain('(dry run)');
    // The runner consumes `::add-mask::` and never shows it; nothing else may show the secret.
    const visible = restart.log
      .split('\n')
      .filter(l => !l.startsWith('::add-mask::'))
      .join('\n');
    expect(visible).not.toContain('emulated-secret');

    // The emulator the job started is still up: it agrees nothing was started.
    const ca = readFileSync(job.env.NODE_EXTRA_CA_CERTS!, 'utf8');
    const state = (await getJson(`${job.env.EMULATOR_URL}/_emulator/state`, ca)) as {
      vms: { name: string; powerState: string; startsAccepted: number }[];
    };
    expect(state.vms.find(v => v.name === 'worker-1')).toMatchObject({
      powerState: 'deallocated',
      startsAccepted: 0
    });
    expect(state.vms.every(v => v.startsAccepted === 0)).toBe(true);
  }, 180_000);
});
