/**
 * workflows-examples/restart-with-notifications.yml: the action runs in the emulator's runner as
 * GitHub would run it; then the workflow's own github-script steps run on its real outputs, with
 * stand-ins only for what github-script hands them (`core.setOutput`, `context`, the REST client).
 * "Read the outcome" runs as its own process with the environment its `env:` gives it, as on a
 * runner, so that an environment Linux refuses (E2BIG) fails here too.
 * A VM that fails three runs in a row gets one issue; a run it does not fail ends its streak.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import { resolve, type RunRecord } from '../emulator/github/runner.js';
import type { Emulator } from '../emulator/server.js';
import { DEFAULT_APP } from '../emulator/fleets/fleet.js';
import { subscriptionIds } from '../emulator/fleets/sample-fleet.js';
import { emulator, until } from './harness.js';

const WORKFLOW = 'restart-with-notifications.yml';
const ROOT = new URL('../../', import.meta.url).pathname;
const SUBSCRIPTION = '00000001-5107-4e5f-9d3a-000000000001';

type Step = {
  name?: string;
  id?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
};
const workflow = parse(readFileSync(join(ROOT, 'workflows-examples', WORKFLOW), 'utf8')) as {
  env: Record<string, string>;
  jobs: { restart: { steps: Step[] } };
};
const steps = workflow.jobs.restart.steps;
const step = (name: string) => steps.find(s => s.name === name)!;
const STREAKS_FILE = '.spot-restarter-streaks.json';

const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<unknown>;

/** Runs a github-script step's script with what github-script passes to it. */
async function githubScript(
  script: string,
  env: Record<string, string>,
  github: unknown = undefined
): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {};
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await new AsyncFunction('require', 'core', 'context', 'github', script)(
      createRequire(import.meta.url),
      { setOutput: (name: string, value: string) => (outputs[name] = value) },
      { serverUrl: 'https://github.com', repo: { owner: 'acme', repo: 'spot-fleet' }, runId: 42 },
      github
    );
  } finally {
    process.env = saved;
  }
  return outputs;
}

/**
 * Runs a github-script step as a runner does: a Node process whose environment is the job's and
 * the step's `env:` (expressions resolved against the restart step's outputs). What the script
 * sets with core.setOutput comes back.
 */
function githubScriptProcess(
  script: string,
  stepEnv: Record<string, string>,
  restart: RunRecord
): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'github-script-'));
  const scriptFile = join(dir, 'script.js');
  const outputFile = join(dir, 'outputs.json');
  writeFileSync(scriptFile, script);
  const context = {
    steps: { restart: { outputs: restart.outputs, outcome: restart.exitCode === 0 ? 'success' : 'failure' } },
    env: workflow.env
  };
  const env = Object.fromEntries(
    Object.entries({ ...workflow.env, ...stepEnv }).map(([k, v]) => [k, resolve(String(v), context)])
  );
  const harness = `
    const { readFileSync, writeFileSync } = require('node:fs');
    const [scriptFile, outputFile] = process.argv.slice(1);
    const outputs = {};
    const AsyncFunction = (async () => {}).constructor;
    new AsyncFunction('require', 'core', 'context', 'github', readFileSync(scriptFile, 'utf8'))(
      require,
      { setOutput: (name, value) => (outputs[name] = String(value)) },
      { serverUrl: 'https://github.com', repo: { owner: 'acme', repo: 'spot-fleet' }, runId: 42 },
      undefined
    ).then(() => writeFileSync(outputFile, JSON.stringify(outputs)));
  `;
  const child = spawnSync(process.execPath, ['-e', harness, scriptFile, outputFile], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8'
  });
  if (child.error) throw child.error;
  if (child.status !== 0) throw new Error(`the step failed: ${child.stderr}`);
  return JSON.parse(readFileSync(outputFile, 'utf8')) as Record<string, string>;
}

describe(WORKFLOW, () => {
  let emu: Emulator;
  const streaks = join(mkdtempSync(join(tmpdir(), 'streaks-')), STREAKS_FILE);
  // The script as the workflow has it, with the streaks file in this test's own folder.
  const readOutcome = step('Read the outcome').with!.script!.replace(
    `'${STREAKS_FILE}'`,
    JSON.stringify(streaks)
  );

  beforeAll(async () => {
    // A role without start: the evicted VM fails with a 403 every run, until someone fixes it.
    const actions = shippedRoleActions().filter(a => !a.endsWith('/start/action'));
    emu = await emulator({
      subscriptions: [SUBSCRIPTION],
      apps: [
        { clientId: DEFAULT_APP, federatedSubjects: ['repo:acme/spot-fleet:ref:refs/heads/main'], actions }
      ],
      vms: [
        {
          subscriptionId: SUBSCRIPTION,
          resourceGroup: 'rg-batch',
          name: 'worker-1',
          tags: { AttemptRestartAfterEviction: 'true' }
        }
      ]
    });
    emu.model.evict(emu.vm('worker-1'), 'simulated');
    await until(
      () => emu.vm('worker-1').powerState === 'deallocated' && emu.model.settled(emu.vm('worker-1')),
      30_000,
      'worker-1 to be deallocated and its eviction to reach Resource Health'
    );
  });
  afterAll(() => emu.stop());

  async function run(
    extraInputs: Record<string, string> = {}
  ): Promise<{ run: RunRecord; outcome: Record<string, string> }> {
    const [record] = await emu.runner.trigger(
      'workflow_dispatch',
      { inputs: {}, ref: 'refs/heads/main', workflow: WORKFLOW },
      WORKFLOW,
      extraInputs
    );
    const outcome = githubScriptProcess(readOutcome, step('Read the outcome').env!, record!);
    return { run: record!, outcome };
  }

  test('the cache steps keep the same file the script counts in', () => {
    expect(step('Restore the failure streaks').with!.path).toBe(STREAKS_FILE);
    expect(step('Save the failure streaks').with!.path).toBe(STREAKS_FILE);
    expect(step('Read the outcome').with!.script).toContain(`'${STREAKS_FILE}'`);
  });

  test('a failed VM alerts every run, and after the third run in a row it is reported for an issue', async () => {
    const first = await run();
    // fail-on: never keeps the step green; the notifications decide who hears about it.
    expect(first.run.exitCode).toBe(0);
    expect(first.outcome.alert).toBe('true');
    expect(first.outcome.text).toMatch(/worker-1 \(rg-batch\): failed — .*start\/action/);
    expect(JSON.parse(first.outcome.repeated!)).toEqual([]);

    const second = await run();
    expect(JSON.parse(second.outcome.repeated!)).toEqual([]);

    const third = await run();
    const repeated = JSON.parse(third.outcome.repeated!) as { name: string; id: string; runs: number }[];
    expect(repeated).toMatchObject([{ name: 'worker-1', runs: 3 }]);
    expect(JSON.parse(readFileSync(streaks, 'utf8'))).toEqual({ [repeated[0]!.id]: 3 });

    // The issue step opens one issue for it, and none while one is open.
    const openIssue = step('Open an issue for a VM that keeps failing').with!.script!;
    const created: { title: string; body: string }[] = [];
    const client = (open: { body: string }[]) => ({
      paginate: async () => open,
      rest: {
        issues: {
          listForRepo: {},
          create: async (issue: { title: string; body: string }) => created.push(issue)
        }
      }
    });
    await githubScript(openIssue, { REPEATED: third.outcome.repeated! }, client([]));
    expect(created).toHaveLength(1);
    expect(created[0]!.title).toBe('Spot VM worker-1 failed to restart 3 runs in a row');
    expect(created[0]!.body).toContain(repeated[0]!.id);
    await githubScript(
      openIssue,
      { REPEATED: third.outcome.repeated! },
      client([{ body: created[0]!.body }])
    );
    expect(created).toHaveLength(1);
  }, 120_000);

  test('a run in which the VM does not fail ends its streak and sends nothing', async () => {
    const dry = await run({ 'dry-run': 'true' });
    expect(dry.outcome.alert).toBe('false');
    expect(JSON.parse(dry.outcome.repeated!)).toEqual([]);
    expect(JSON.parse(readFileSync(streaks, 'utf8'))).toEqual({});
  }, 60_000);

  test('each channel is a step that runs only when there is something to say and its secret is set', () => {
    expect(step('Post to Slack').if).toContain("steps.outcome.outputs.alert == 'true'");
    expect(step('Post to Slack').if).toContain("env.SLACK_WEBHOOK_URL != ''");
    expect(step('Post to Microsoft Teams').if).toContain("env.TEAMS_WEBHOOK_URL != ''");
    expect(step('Open an issue for a VM that keeps failing').if).toContain(
      "steps.outcome.outputs.repeated != '[]'"
    );
  });
});

describe(`${WORKFLOW} with 1 000 VMs that fail`, () => {
  let emu: Emulator;
  afterAll(() => emu?.stop());

  test('reads the result file, not the result output through the environment; says it in a short message', async () => {
    // A role without start: every one of the 1 000 evicted VMs fails with a 403. Ten
    // subscriptions, so that Resource Manager's write budget of each (200 at once) is not what
    // this test waits for.
    const actions = shippedRoleActions().filter(a => !a.endsWith('/start/action'));
    const subscriptions = subscriptionIds(10);
    emu = await emulator(
      {
        subscriptions,
        apps: [
          { clientId: DEFAULT_APP, federatedSubjects: ['repo:acme/spot-fleet:ref:refs/heads/main'], actions }
        ],
        vms: Array.from({ length: 1000 }, (_, i) => ({
          subscriptionId: subscriptions[i % 10]!,
          resourceGroup: `rg-${i % 5}`,
          name: `worker-${String(i).padStart(4, '0')}`,
          tags: { AttemptRestartAfterEviction: 'true' },
          powerState: 'deallocated' as const,
          annotation: 'VirtualMachinePreempted' as const,
          sinceMinutes: 5
        }))
      },
      // The job times out after its timeout-minutes on the emulated clock, as on GitHub: at time scale 10
      // the workflow's 15 minutes are 90 real seconds, well past what 1 000 VMs take here.
      { timeScale: 10 }
    );
    const [record] = await emu.runner.trigger(
      'workflow_dispatch',
      { inputs: {}, ref: 'refs/heads/main', workflow: WORKFLOW },
      WORKFLOW,
      { 'retry-for': '0' }
    );
    expect(record!.exitCode).toBe(0);
    expect(record!.limitErrors).toEqual([]);
    // Through `env:`, this output alone would be past Linux's 128 KiB for one variable (E2BIG).
    expect(Buffer.byteLength(`RESULT=${record!.outputs.result}`)).toBeGreaterThan(128 * 1024);

    const streaks = join(mkdtempSync(join(tmpdir(), 'streaks-')), STREAKS_FILE);
    const script = step('Read the outcome').with!.script!.replace(
      `'${STREAKS_FILE}'`,
      JSON.stringify(streaks)
    );
    const outcome = githubScriptProcess(script, step('Read the outcome').env!, record!);
    expect(outcome.alert).toBe('true');
    // Every VM counted from the file, in one line per kind of problem.
    expect(Object.keys(JSON.parse(readFileSync(streaks, 'utf8')))).toHaveLength(1000);
    expect(outcome.text!.split('\n').slice(1)).toEqual([
      expect.stringMatching(
        /^• 1000 × failed \(AuthorizationFailed\): worker-\d{4}, worker-\d{4}, worker-\d{4} and 997 more$/
      )
    ]);
    // What the later steps get through their environment stays far under Linux's limit.
    expect(Buffer.byteLength(outcome.text!)).toBeLessThan(8 * 1024);
    expect(Buffer.byteLength(outcome.repeated!)).toBeLessThan(128 * 1024);
  }, 180_000);
});
