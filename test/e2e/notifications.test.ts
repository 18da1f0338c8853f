/**
 * workflows-examples/restart-with-notifications.yml: the action runs in the emulator's runner as
 * GitHub would run it; then the workflow's own github-script steps run on its real outputs, with
 * stand-ins only for what github-script hands them (`core.setOutput`, `context`, the REST client).
 * A VM that fails three runs in a row gets one issue; a run it does not fail ends its streak.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { shippedRoleActions } from '../emulator/rbac.js';
import type { RunRecord } from '../emulator/runner.js';
import type { Emulator } from '../emulator/server.js';
import { DEFAULT_APP } from '../emulator/fleet.js';
import { emulator, until } from './harness.js';

const WORKFLOW = 'restart-with-notifications.yml';
const ROOT = new URL('../../', import.meta.url).pathname;
const SUBSCRIPTION = '00000001-5107-4e5f-9d3a-000000000001';

type Step = { name?: string; id?: string; uses?: string; if?: string; with?: Record<string, string> };
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
    const outcome = await githubScript(readOutcome, {
      RESULT_FILE: record!.outputs['result-file'] ?? '',
      RESTART_OUTCOME: record!.exitCode === 0 ? 'success' : 'failure',
      FAILED_RUNS_FOR_AN_ISSUE: workflow.env.FAILED_RUNS_FOR_AN_ISSUE!
    });
    return { run: record!, outcome };
  }

  test('the outcome is read from result-file, never from the result output through the environment', () => {
    const env = (step('Read the outcome') as Step & { env: Record<string, string> }).env;
    expect(env.RESULT_FILE).toBe('${{ steps.restart.outputs.result-file }}');
    expect(JSON.stringify(steps)).not.toMatch(/outputs\.result(?!-)/);
    // Why: at 1 000 VMs the output is some 170 000 characters, and Linux refuses an environment
    // string over 128 KiB (MAX_ARG_STRLEN) when it starts the step's process.
    const started = spawnSync('true', { env: { RESULT: 'x'.repeat(170_000) } });
    expect((started.error as NodeJS.ErrnoException | undefined)?.code).toBe('E2BIG');
  });

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
