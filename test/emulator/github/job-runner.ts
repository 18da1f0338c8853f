/**
 * Runs one job of a workflow file step by step, as a hosted runner does: `run:` steps in
 * `bash --noprofile --norc -eo pipefail` with the job's GITHUB_ENV, GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY and RUNNER_TEMP, and `uses: ./` as `node <runs.main>` of the repository's
 * own action.yml, with INPUT_* from `with:` and the action's defaults for the rest. `${{ … }}` is
 * resolved by the emulator runner's evaluator plus the `steps`, `env` and `runner` contexts.
 *
 * Steps that need GitHub itself (actions from other repositories, such as checkout and
 * setup-node) cannot run here: the caller names each one it skips and why, and anything else
 * that cannot run is an error, never silently passed over.
 *
 * Every step runs in its own process group, so what a step leaves running in the background
 * (the emulator) is ended with the job, as the runner ends a job's orphan processes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { resolve } from './runner.js';

export interface WorkflowStep {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

export interface StepRecord {
  name: string;
  id?: string;
  outcome: 'success' | 'failure' | 'skipped';
  /** Why a step was not run: its `if:` was false, or the caller skipped it. */
  skippedBecause?: string;
  outputs: Record<string, string>;
  log: string;
}

export interface JobRun {
  steps: StepRecord[];
  /** Variables the steps added with GITHUB_ENV. */
  env: Record<string, string>;
  summary: string;
  /** Ends whatever the steps left running (their process groups). */
  stop(): void;
}

export interface JobOptions {
  root: string;
  workflowFile: string;
  job: string;
  event: { name: string; payload: Record<string, unknown> };
  repository?: string;
  /** A reason to skip a step that cannot run on this machine, or undefined to run it. */
  skip: (step: WorkflowStep) => string | undefined;
  stepTimeoutMs?: number;
}

type ActionMetadata = {
  inputs?: Record<string, { default?: string }>;
  runs: { using: string; main: string };
};

export async function runJob(o: JobOptions): Promise<JobRun> {
  const workflow = parse(readFileSync(join(o.root, o.workflowFile), 'utf8')) as {
    jobs: Record<string, { steps: WorkflowStep[]; env?: Record<string, string> }>;
  };
  const job = workflow.jobs[o.job];
  if (!job) throw new Error(`${o.workflowFile} has no job "${o.job}"`);
  const temp = mkdtempSync(join(tmpdir(), 'job-'));
  const eventPath = join(temp, 'event.json');
  writeFileSync(eventPath, JSON.stringify(o.event.payload));
  const repository = o.repository ?? 'azure-spot-restarter/azure-spot-restarter';
  const jobEnv: Record<string, string> = { ...job.env };
  const groups: number[] = [];
  const records: StepRecord[] = [];
  const steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  let summary = '';
  let failed = false;

  for (const [index, step] of job.steps.entries()) {
    const name = step.name ?? step.uses ?? step.run ?? `step ${index + 1}`;
    const context = {
      github: {
        event_name: o.event.name,
        event: o.event.payload,
        repository,
        workspace: o.root,
        ref: 'refs/heads/main'
      },
      runner: { temp, os: 'Linux' },
      env: jobEnv,
      steps,
      vars: {},
      secrets: {},
      inputs: {}
    };
    const record: StepRecord = { name, id: step.id, outcome: 'skipped', outputs: {}, log: '' };
    records.push(record);
    const condition = statusCondition(step.if, failed);
    const reason = !condition ? `if: ${step.if}` : o.skip(step);
    if (reason) {
      record.skippedBecause = reason;
    } else {
      const files = {
        output: join(temp, `output-${index}`),
        env: join(temp, `env-${index}`),
        summary: join(temp, `summary-${index}`)
      };
      for (const file of Object.values(files)) writeFileSync(file, '');
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? temp,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: o.root,
        GITHUB_REPOSITORY: repository,
        GITHUB_REF: 'refs/heads/main',
        GITHUB_EVENT_NAME: o.event.name,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_OUTPUT: files.output,
        GITHUB_ENV: files.env,
        GITHUB_STEP_SUMMARY: files.summary,
        RUNNER_TEMP: temp,
        RUNNER_OS: 'Linux',
        ...jobEnv
      };
      for (const [key, value] of Object.entries(step.env ?? {})) env[key] = resolve(String(value), context);
      let command: string[];
      if (step.run !== undefined) {
        const script = join(temp, `step-${index}.sh`);
        writeFileSync(script, resolve(step.run, context));
        command = ['bash', '--noprofile', '--norc', '-eo', 'pipefail', script];
      } else if (step.uses === './') {
        const action = parse(readFileSync(join(o.root, 'action.yml'), 'utf8')) as ActionMetadata;
        if (!/^node\d+$/.test(action.runs.using))
          throw new Error(`action.yml runs.using ${action.runs.using}: only JavaScript actions run here`);
        // The runner hands every input to the action: the step's `with:`, else action.yml's default.
        for (const [input, spec] of Object.entries(action.inputs ?? {}))
          env[`INPUT_${input.toUpperCase()}`] =
            step.with?.[input] !== undefined
              ? resolve(String(step.with[input]), context)
              : (spec.default ?? '');
        for (const input of Object.keys(step.with ?? {}))
          if (!action.inputs?.[input]) throw new Error(`step "${name}": action.yml has no input "${input}"`);
        command = [process.execPath, join(o.root, action.runs.main)];
      } else {
        throw new Error(`step "${name}" (uses: ${step.uses}) cannot run here: skip it and say why`);
      }
      const exitCode = await execute(command, env, o.root, record, groups, o.stepTimeoutMs ?? 120_000);
      record.outcome = exitCode === 0 ? 'success' : 'failure';
      record.outputs = parseCommandFile(readFileSync(files.output, 'utf8'));
      Object.assign(jobEnv, parseCommandFile(readFileSync(files.env, 'utf8')));
      summary += readFileSync(files.summary, 'utf8');
      if (exitCode !== 0) failed = true;
    }
    if (step.id)
      steps[step.id] = { outputs: record.outputs, outcome: record.outcome, conclusion: record.outcome };
  }
  return {
    steps: records,
    env: jobEnv,
    summary,
    stop() {
      for (const group of groups) {
        try {
          process.kill(-group, 'SIGTERM');
        } catch {
          // the group already ended
        }
      }
    }
  };
}

/** The status functions a step's `if:` may use here; anything else is refused, not guessed. */
function statusCondition(condition: string | undefined, failed: boolean): boolean {
  if (condition === undefined) return !failed;
  const expression = condition.replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim();
  switch (expression) {
    case 'success()':
      return !failed;
    case 'failure()':
      return failed;
    case 'always()':
      return true;
    default:
      throw new Error(`if: ${condition} is not supported by this job runner`);
  }
}

function execute(
  command: string[],
  env: Record<string, string>,
  cwd: string,
  record: StepRecord,
  groups: number[],
  timeoutMs: number
): Promise<number | null> {
  return new Promise(done => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe']
    });
    if (child.pid) groups.push(child.pid);
    const timer = setTimeout(() => {
      record.log += `\n[job runner] step timed out after ${timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => (record.log += c));
    child.stderr.on('data', (c: Buffer) => (record.log += c));
    // 'exit', not 'close': a background process the step started keeps the pipes open.
    child.on('exit', code => {
      clearTimeout(timer);
      done(code);
    });
  });
}

/** GITHUB_OUTPUT and GITHUB_ENV: `name=value` lines and `name<<DELIMITER` blocks. */
export function parseCommandFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`no closing ${heredoc[2]} for ${heredoc[1]}`);
      values[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      values[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return values;
}
