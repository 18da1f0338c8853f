/**
 * A small GitHub Actions runner: for an event, it finds the workflows in workflows-examples/ that
 * listen to it and runs their azure-spot-restarter step as the real runner would — `node
 * dist/index.js` with INPUT_* from the step's `with:` (expressions resolved from vars, secrets,
 * inputs, matrix and the event), GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP,
 * and the OIDC endpoint when the workflow grants `id-token: write`. Runs in one concurrency group
 * queue behind each other, as with `cancel-in-progress: false`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  JOB_OUTPUTS_MAX_UTF16_BYTES,
  STEP_SUMMARY_MAX_BYTES,
  utf16Bytes
} from '../../src/report/github-limits.js';
import type { RunIdentity } from './github.js';

const require = createRequire(import.meta.url);

export interface RunRecord {
  id: number;
  workflow: string;
  event: string;
  matrix?: Record<string, unknown>;
  /** For repository_dispatch: the VM the payload named (a hint; the run checks it). */
  dispatchedVm?: string;
  exitCode: number | null;
  outputs: Record<string, string>;
  summary: string;
  /** Where the job summary was written, as on a runner. */
  summaryPath: string;
  /** What the step wrote, measured as GitHub measures it: summary bytes, outputs in UTF-16 bytes. */
  summaryBytes: number;
  outputBytes: number;
  largestOutputBytes: number;
  /** GitHub's size limits the step broke (src/github-limits.ts); each one cost what it costs on GitHub. */
  limitErrors: string[];
  log: string;
  startedAt: number;
  finishedAt?: number;
}

export interface RunnerOptions {
  workflowsDir: string;
  distPath: string;
  repository: string;
  defaultBranch: string;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  /** The OIDC token endpoint the job's runtime points at. */
  oidcUrl: () => string;
  /** Register a job's OIDC request token, so the endpoint knows whom to issue a token to. */
  registerRun: (requestToken: string, identity: RunIdentity) => void;
  /** Inputs the emulator adds to every step: where Azure is (its own endpoints). */
  inputOverrides: () => Record<string, string>;
  /** Extra environment for the action process (the CA, and no real IMDS). */
  env: () => Record<string, string>;
}

type Workflow = {
  name?: string;
  on?: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: unknown;
  jobs: Record<string, Job>;
};
type Job = {
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: { uses?: string; with?: Record<string, unknown> }[];
};

export class Runner {
  readonly runs: RunRecord[] = [];
  private readonly queues = new Map<string, Promise<unknown>>();
  private nextId = 1;

  constructor(private readonly o: RunnerOptions) {}

  /** Workflow files that listen to an event (and, for repository_dispatch, to its type). */
  workflowsFor(event: string, eventType?: string): string[] {
    return readdirSync(this.o.workflowsDir)
      .filter(f => /\.ya?ml$/.test(f))
      .filter(file => {
        const on = this.load(file).on ?? {};
        if (!(event in on)) return false;
        if (event !== 'repository_dispatch' || !eventType) return true;
        const types = (on.repository_dispatch as { types?: string[] } | null)?.types;
        return !types || types.includes(eventType);
      });
  }

  /** Runs every listening workflow; resolves when they all finished. */
  async trigger(
    event: string,
    payload: Record<string, unknown>,
    only?: string,
    extraInputs: Record<string, string> = {}
  ): Promise<RunRecord[]> {
    const eventType = event === 'repository_dispatch' ? String(payload.action) : undefined;
    const files = this.workflowsFor(event, eventType).filter(f => !only || f === only);
    const all = await Promise.all(files.map(file => this.runWorkflow(file, event, payload, extraInputs)));
    return all.flat();
  }

  private load(file: string): Workflow {
    return parse(readFileSync(join(this.o.workflowsDir, file), 'utf8')) as Workflow;
  }

  private async runWorkflow(
    file: string,
    event: string,
    payload: Record<string, unknown>,
    extraInputs: Record<string, string> = {}
  ): Promise<RunRecord[]> {
    const workflow = this.load(file);
    const records: Promise<RunRecord>[] = [];
    for (const job of Object.values(workflow.jobs)) {
      const step = job.steps?.find(s => s.uses?.includes('azure-spot-restarter'));
      if (!step) continue;
      for (const matrix of this.expandMatrix(job, payload)) {
        const context = this.context(event, payload, matrix);
        const group = workflow.concurrency
          ? resolve(
              String((workflow.concurrency as { group?: string }).group ?? workflow.concurrency),
              context
            )
          : undefined;
        const run = () =>
          this.runStep(
            file,
            workflow,
            job,
            { ...step.with, ...extraInputs },
            event,
            payload,
            matrix,
            context
          );
        records.push(group ? this.enqueue(group, run) : run());
      }
    }
    return Promise.all(records);
  }

  private enqueue<T>(group: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(group) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.queues.set(
      group,
      next.catch(() => undefined)
    );
    return next;
  }

  private expandMatrix(job: Job, payload: Record<string, unknown>): (Record<string, unknown> | undefined)[] {
    const matrix = job.strategy?.matrix;
    if (!matrix) return [undefined];
    const context = this.context('schedule', payload, undefined);
    let combos: Record<string, unknown>[] = [{}];
    for (const [key, raw] of Object.entries(matrix)) {
      const values = typeof raw === 'string' ? (resolveValue(raw, context) as unknown[]) : (raw as unknown[]);
      combos = combos.flatMap(c => (values ?? []).map(v => ({ ...c, [key]: v })));
    }
    return combos;
  }

  private context(
    event: string,
    payload: Record<string, unknown>,
    matrix?: Record<string, unknown>
  ): Record<string, unknown> {
    return {
      vars: this.o.vars,
      secrets: this.o.secrets,
      inputs: (payload.inputs as Record<string, unknown>) ?? {},
      matrix: matrix ?? {},
      github: {
        event: payload,
        event_name: event,
        repository: this.o.repository,
        ref: `refs/heads/${this.o.defaultBranch}`
      }
    };
  }

  private async runStep(
    file: string,
    workflow: Workflow,
    job: Job,
    inputs: Record<string, unknown>,
    event: string,
    payload: Record<string, unknown>,
    matrix: Record<string, unknown> | undefined,
    context: Record<string, unknown>
  ): Promise<RunRecord> {
    const id = this.nextId++;
    const temp = mkdtempSync(join(tmpdir(), `run-${id}-`));
    const files = {
      event: join(temp, 'event.json'),
      output: join(temp, 'output'),
      summary: join(temp, 'summary')
    };
    writeFileSync(files.event, JSON.stringify(payload));
    writeFileSync(files.output, '');
    writeFileSync(files.summary, '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? temp,
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_EVENT_NAME: event,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_REPOSITORY: this.o.repository,
      GITHUB_REF: `refs/heads/${this.o.defaultBranch}`,
      GITHUB_WORKFLOW: workflow.name ?? file,
      GITHUB_RUN_ID: String(id),
      RUNNER_TEMP: temp,
      ...this.o.env()
    };
    for (const [name, raw] of Object.entries(inputs))
      env[`INPUT_${name.toUpperCase()}`] = String(resolve(String(raw), context));
    for (const [name, value] of Object.entries(this.o.inputOverrides()))
      env[`INPUT_${name.toUpperCase()}`] = value;
    const permissions = job.permissions ?? workflow.permissions ?? {};
    if (permissions['id-token'] === 'write') {
      const requestToken = randomUUID();
      this.o.registerRun(requestToken, {
        subject: `repo:${this.o.repository}:ref:refs/heads/${this.o.defaultBranch}`,
        repository: this.o.repository,
        ref: `refs/heads/${this.o.defaultBranch}`,
        eventName: event,
        workflow: file,
        runId: id
      });
      env.ACTIONS_ID_TOKEN_REQUEST_URL = `${this.o.oidcUrl()}?api-version=2.0`;
      env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = requestToken;
    }
    const record: RunRecord = {
      id,
      workflow: file,
      event,
      matrix,
      dispatchedVm: (payload.client_payload as { vmResourceId?: string } | undefined)?.vmResourceId,
      exitCode: null,
      outputs: {},
      summary: '',
      summaryPath: files.summary,
      summaryBytes: 0,
      outputBytes: 0,
      largestOutputBytes: 0,
      limitErrors: [],
      log: '',
      startedAt: Date.now()
    };
    this.runs.push(record);
    record.exitCode = await new Promise<number | null>(done => {
      const child = spawn(process.execPath, [this.o.distPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      // The log is also written as it comes, so a run still going can be looked at (log.txt).
      const append = (c: Buffer) => {
        record.log += c;
        appendFileSync(join(temp, 'log.txt'), c);
      };
      child.stdout.on('data', append);
      child.stderr.on('data', append);
      child.on('close', code => done(code));
    });
    record.finishedAt = Date.now();
    enforceLimits(record, parseOutputs(readFileSync(files.output, 'utf8')), readFileSync(files.summary));
    return record;
  }
}

/**
 * What GitHub does with a step that writes too much. A summary over 1 MiB is not uploaded at all,
 * with an error annotation (the step's status stands). Outputs over 1 MB per job break a documented
 * limit, and "unless otherwise stated, the expected behavior when a limit is reached is that the
 * workflow/job will get cancelled" (docs.github.com, Actions limits): the outputs never reach a later
 * job, so the record keeps none.
 */
export function enforceLimits(record: RunRecord, outputs: Record<string, string>, summary: Buffer): void {
  record.summaryBytes = summary.length;
  if (summary.length > STEP_SUMMARY_MAX_BYTES) {
    const error = `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of ${STEP_SUMMARY_MAX_BYTES / 1024}k, got ${Math.floor(summary.length / 1024)}k. For more information see: https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-markdown-summary`;
    record.limitErrors.push(error);
    record.log += `##[error]${error}\n`;
  } else record.summary = summary.toString('utf8');
  const sizes = Object.entries(outputs).map(([name, value]) => utf16Bytes(name) + utf16Bytes(value));
  record.outputBytes = sizes.reduce((a, b) => a + b, 0);
  record.largestOutputBytes = Math.max(0, ...sizes);
  if (record.outputBytes > JOB_OUTPUTS_MAX_UTF16_BYTES) {
    const error = `The job's outputs are ${record.outputBytes} bytes (UTF-16), over GitHub's limit of ${JOB_OUTPUTS_MAX_UTF16_BYTES} per job: the job is cancelled and its outputs are lost.`;
    record.limitErrors.push(error);
    record.log += `##[error]${error}\n`;
  } else record.outputs = outputs;
}

/** `${{ … }}` in a string: each expression resolved, the rest kept. */
export function resolve(text: string, context: Record<string, unknown>): string {
  const whole = /^\$\{\{(.+)\}\}$/s.exec(text.trim());
  if (whole) return stringify(resolveValue(text, context));
  return text.replace(/\$\{\{(.+?)\}\}/g, (_, expr: string) => stringify(evaluate(expr, context)));
}

function resolveValue(text: string, context: Record<string, unknown>): unknown {
  const whole = /^\$\{\{(.+)\}\}$/s.exec(text.trim());
  return whole ? evaluate(whole[1]!, context) : text;
}

/** The expressions the examples use: context paths, 'literals', fromJSON(…) and `a || b`. */
function evaluate(expr: string, context: Record<string, unknown>): unknown {
  for (const operand of expr.split('||').map(s => s.trim())) {
    const value = operand1(operand, context);
    if (value !== undefined && value !== null && value !== '' && value !== false) return value;
  }
  return '';
}

function operand1(text: string, context: Record<string, unknown>): unknown {
  const literal = /^'(.*)'$/s.exec(text);
  if (literal) return literal[1]!.replace(/''/g, "'");
  if (/^(true|false)$/.test(text)) return text === 'true';
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const fromJson = /^fromJSON\((.+)\)$/i.exec(text);
  if (fromJson) {
    const inner = evaluate(fromJson[1]!, context);
    return typeof inner === 'string' && inner ? JSON.parse(inner) : inner;
  }
  let value: unknown = context;
  for (const part of text.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    const key = Object.keys(value).find(k => k.toLowerCase() === part.toLowerCase());
    value = key === undefined ? undefined : (value as Record<string, unknown>)[key];
  }
  return value;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const m of text.matchAll(/^(.+?)<<(ghadelimiter_[\w-]+)\r?\n([\s\S]*?)\r?\n\2$/gm))
    outputs[m[1]!] = m[3]!;
  return outputs;
}

/** A `repository_dispatch` webhook payload shaped like GitHub's (from @octokit/webhooks-examples). */
export function repositoryDispatchPayload(
  repository: string,
  branch: string,
  eventType: string,
  clientPayload: Record<string, unknown>
) {
  const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as {
    name: string;
    examples: Record<string, unknown>[];
  }[];
  const example = structuredClone(
    examples.find(e => e.name === 'repository_dispatch')!.examples[0]!
  ) as Record<string, unknown> & {
    repository: Record<string, unknown> & { owner: Record<string, unknown> };
  };
  const [owner, name] = repository.split('/');
  example.action = eventType;
  example.branch = branch;
  example.client_payload = clientPayload;
  example.repository.name = name;
  example.repository.full_name = repository;
  example.repository.owner.login = owner;
  example.repository.default_branch = branch;
  return example;
}
