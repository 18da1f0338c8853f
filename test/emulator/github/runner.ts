/**
 * A small GitHub Actions: for an event, it finds the workflows in workflows-examples/ that listen
 * to it, queues a workflow run for each, and runs their azure-spot-restarter step as the real
 * runner would — `node dist/index.js` with INPUT_* from the step's `with:` (expressions resolved
 * from vars, secrets, inputs, matrix and the event) and action.yml's defaults for the rest,
 * GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, a GITHUB_TOKEN with the
 * workflow's `permissions:`, and the OIDC endpoint when it grants `id-token: write`.
 *
 * Runs go through GitHub's queue as GitHub's limits say (actions-scheduler.ts): concurrency groups
 * keep one run in progress and one pending, the account runs a limited number of jobs at once,
 * each job waits for its runner, and is billed in whole minutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  JOB_OUTPUTS_MAX_UTF16_BYTES,
  STEP_SUMMARY_MAX_BYTES,
  utf16Bytes
} from '../../../src/report/github-limits.js';
import {
  CANCEL_SIGINT_GRACE_MS,
  CANCEL_SIGTERM_GRACE_MS,
  JOB_TIMEOUT_MINUTES_DEFAULT,
  type GitHubLimits
} from './actions-limits.js';
import {
  ActionsScheduler,
  type Conclusion,
  type ConcurrencySpec,
  type RunStatus,
  type ScheduledRun
} from './actions-scheduler.js';
import type { ScaledClock } from '../clock.js';
import type { RunIdentity } from './github.js';
import { SlidingWindows } from './sliding-window.js';

/** Puts the action's process on the emulator's clock (actionOnEmulatedClock). */
const CLOCK_PRELOAD = fileURLToPath(new URL('../emulated-clock-preload.mjs', import.meta.url));

const require = createRequire(import.meta.url);

/** One job of a workflow run (a matrix expands to several). */
export interface RunRecord {
  /** The job's own number. */
  id: number;
  /** The workflow run it belongs to (GITHUB_RUN_ID). */
  runId: number;
  workflow: string;
  event: string;
  /** The run's name as GitHub shows it: `run-name:` resolved, else the workflow's name. */
  displayTitle: string;
  matrix?: Record<string, unknown>;
  /** For repository_dispatch: the VM the payload named (a hint; the run checks it). */
  dispatchedVm?: string;
  status: RunStatus;
  conclusion?: Conclusion;
  /** Why it ended without its steps deciding: cancelled by its concurrency group, timed out. */
  endedBecause?: string;
  exitCode: number | null;
  outputs: Record<string, string>;
  summary: string;
  /** Where the job summary was written, as on a runner. */
  summaryPath: string;
  /** What the step wrote, measured as GitHub measures it: summary bytes, outputs in UTF-16 bytes. */
  summaryBytes: number;
  outputBytes: number;
  largestOutputBytes: number;
  /** GitHub's size limits the step broke (src/report/github-limits.ts); each one cost what it costs on GitHub. */
  limitErrors: string[];
  log: string;
  /** Real times: queued, first step started (absent if it never ran), finished. */
  queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Minutes GitHub bills for the job: its running time on the emulated clock, rounded up. */
  billedMinutes: number;
}

/** A workflow run as GitHub keeps it (what the runs API lists). */
export interface WorkflowRunEntry {
  run: ScheduledRun;
  workflow: string;
  name: string;
  event: string;
  displayTitle: string;
  runNumber: number;
  jobs: RunRecord[];
}

/** What a job's GITHUB_TOKEN may do: the repository, and the workflow's `permissions:`. */
export interface JobTokenGrant {
  repository: string;
  permissions: Record<string, string>;
  runId: number;
}

export interface RunnerOptions {
  workflowsDir: string;
  distPath: string;
  /** The action's metadata: its inputs' defaults are handed to every step, as the runner does. */
  actionPath: string;
  repository: string;
  defaultBranch: string;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  clock: ScaledClock;
  limits: GitHubLimits;
  /**
   * Run the action's process on the emulator's clock (emulated-clock-preload.mjs): its `Date` and
   * timers keep emulated time, so a workflow's "15m", a 5 s poll and a budget's refill each last
   * what they would on Azure, measured on the emulated Azure's and GitHub's clock. Off: the action
   * keeps real time, as most tests want.
   */
  actionOnEmulatedClock?: boolean;
  /** The REST API the job's GITHUB_TOKEN talks to (GITHUB_API_URL). */
  apiUrl: () => string;
  /** The OIDC token endpoint the job's runtime points at. */
  oidcUrl: () => string;
  /** Register a job's OIDC request token, so the endpoint knows whom to issue a token to. */
  registerRun: (requestToken: string, identity: RunIdentity) => void;
  /** A job's GITHUB_TOKEN is valid from its first step until the job ends. */
  registerJobToken: (token: string, grant: JobTokenGrant | undefined) => void;
  /** Inputs the emulator adds to every step: where Azure is (its own endpoints). */
  inputOverrides: () => Record<string, string>;
  /** Extra environment for the action process (the CA, and no real IMDS). */
  env: () => Record<string, string>;
}

type Concurrency = string | { group?: string; 'cancel-in-progress'?: unknown; queue?: string };
type Workflow = {
  name?: string;
  'run-name'?: string;
  on?: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: Concurrency;
  jobs: Record<string, Job>;
};
type Job = {
  permissions?: Record<string, string> | string;
  concurrency?: unknown;
  'timeout-minutes'?: number | string;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: { uses?: string; with?: Record<string, unknown> }[];
};

/** GitHub's default for a repository's GITHUB_TOKEN when a workflow names no permissions ("restricted"). */
const DEFAULT_PERMISSIONS = { contents: 'read', packages: 'read', metadata: 'read' };

export class Runner {
  /** Every job of every run, in the order they were queued. */
  readonly runs: RunRecord[] = [];
  readonly workflowRuns: WorkflowRunEntry[] = [];
  readonly scheduler: ActionsScheduler;
  /** Events past GitHub's trigger rate limit: they start nothing. */
  droppedEvents = 0;
  private readonly events: SlidingWindows;
  private readonly runNumbers = new Map<string, number>();
  private nextJobId = 1;
  private nextRunId = 1;

  constructor(private readonly o: RunnerOptions) {
    this.scheduler = new ActionsScheduler(o.clock, o.limits);
    this.events = new SlidingWindows([{ max: o.limits.triggerEventsPer10S, windowMs: 10_000 }], () =>
      o.clock.now()
    );
  }

  /** The jobs GitHub bills, and their minutes. */
  get billedMinutes(): number {
    return this.runs.reduce((n, r) => n + r.billedMinutes, 0);
  }

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

  /**
   * Queues a run of every listening workflow; resolves with their jobs when every run has
   * completed — including runs GitHub cancelled (conclusion `cancelled`, no exit code).
   */
  async trigger(
    event: string,
    payload: Record<string, unknown>,
    only?: string,
    extraInputs: Record<string, string> = {}
  ): Promise<RunRecord[]> {
    if (!this.events.take(this.o.repository.toLowerCase()).ok) {
      this.droppedEvents++;
      return [];
    }
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
    const runId = this.nextRunId++;
    const context = this.context(event, payload, undefined, runId);
    const displayTitle = resolve(String(workflow['run-name'] ?? ''), context).trim() || workflow.name || file;
    const records: RunRecord[] = [];
    const jobs: Parameters<ActionsScheduler['submit']>[2] = [];
    for (const [jobName, job] of Object.entries(workflow.jobs)) {
      const step = job.steps?.find(s => s.uses?.includes('azure-spot-restarter'));
      if (!step) continue;
      if (job.concurrency !== undefined)
        throw new Error(`${file}: job-level concurrency is not emulated; put it on the workflow`);
      for (const matrix of this.expandMatrix(job, payload)) {
        const record = this.newRecord(runId, file, event, displayTitle, payload, matrix);
        records.push(record);
        jobs.push({
          name: jobName,
          timeoutMinutes: Number(
            resolveValue(String(job['timeout-minutes'] ?? JOB_TIMEOUT_MINUTES_DEFAULT), context)
          ),
          execute: signal =>
            this.runStep(
              record,
              file,
              workflow,
              job,
              { ...step.with, ...extraInputs },
              event,
              matrix,
              this.context(event, payload, matrix, runId),
              signal
            )
        });
      }
    }
    if (!jobs.length) return [];
    const run = this.scheduler.submit(runId, this.o.repository, jobs, concurrencyOf(workflow, context));
    if (!run) return []; // over GitHub's queue limit: blocked, never queued
    this.runs.push(...records);
    const runNumber = (this.runNumbers.get(file) ?? 0) + 1;
    this.runNumbers.set(file, runNumber);
    this.workflowRuns.push({
      run,
      workflow: file,
      name: workflow.name ?? file,
      event,
      displayTitle,
      runNumber,
      jobs: records
    });
    const sync = () =>
      run.jobs.forEach((job, i) => {
        const record = records[i]!;
        record.status = job.status;
        record.conclusion = job.conclusion;
        record.endedBecause = job.endedBecause;
        record.billedMinutes = job.billedMinutes;
      });
    await run.done;
    sync();
    return records;
  }

  private newRecord(
    runId: number,
    workflow: string,
    event: string,
    displayTitle: string,
    payload: Record<string, unknown>,
    matrix: Record<string, unknown> | undefined
  ): RunRecord {
    return newRunRecord({
      id: this.nextJobId++,
      runId,
      workflow,
      event,
      displayTitle,
      matrix,
      dispatchedVm: (payload.client_payload as { vmResourceId?: string } | undefined)?.vmResourceId
    });
  }

  private expandMatrix(job: Job, payload: Record<string, unknown>): (Record<string, unknown> | undefined)[] {
    const matrix = job.strategy?.matrix;
    if (!matrix) return [undefined];
    const context = this.context('schedule', payload, undefined, 0);
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
    matrix: Record<string, unknown> | undefined,
    runId: number,
    token = ''
  ): Record<string, unknown> {
    return {
      vars: this.o.vars,
      secrets: { ...this.o.secrets, GITHUB_TOKEN: token },
      inputs: (payload.inputs as Record<string, unknown>) ?? {},
      matrix: matrix ?? {},
      github: {
        event: payload,
        event_name: event,
        repository: this.o.repository,
        ref: `refs/heads/${this.o.defaultBranch}`,
        run_id: String(runId),
        run_attempt: '1',
        token
      }
    };
  }

  private async runStep(
    record: RunRecord,
    file: string,
    workflow: Workflow,
    job: Job,
    inputs: Record<string, unknown>,
    event: string,
    matrix: Record<string, unknown> | undefined,
    baseContext: Record<string, unknown>,
    signal: AbortSignal
  ): Promise<boolean> {
    const temp = mkdtempSync(join(tmpdir(), `run-${record.runId}-${record.id}-`));
    const files = {
      event: join(temp, 'event.json'),
      output: join(temp, 'output'),
      summary: join(temp, 'summary')
    };
    const payload = (baseContext.github as { event: unknown }).event;
    writeFileSync(files.event, JSON.stringify(payload));
    writeFileSync(files.output, '');
    writeFileSync(files.summary, '');
    record.summaryPath = files.summary;
    const permissions = effectivePermissions(job.permissions ?? workflow.permissions);
    const token = `ghs_${randomBytes(27).toString('base64url')}`;
    this.o.registerJobToken(token, {
      repository: this.o.repository,
      permissions,
      runId: record.runId
    });
    const context = this.context(event, payload as Record<string, unknown>, matrix, record.runId, token);
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
      GITHUB_WORKFLOW_REF: `${this.o.repository}/.github/workflows/${file}@refs/heads/${this.o.defaultBranch}`,
      GITHUB_RUN_ID: String(record.runId),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_API_URL: this.o.apiUrl(),
      GITHUB_SERVER_URL: 'https://github.com',
      RUNNER_TEMP: temp,
      ...this.o.env()
    };
    for (const [name, raw] of Object.entries(this.actionDefaults(context)))
      env[`INPUT_${name.toUpperCase()}`] = raw;
    for (const [name, raw] of Object.entries(inputs))
      env[`INPUT_${name.toUpperCase()}`] = String(resolve(String(raw), context));
    for (const [name, value] of Object.entries(this.o.inputOverrides()))
      env[`INPUT_${name.toUpperCase()}`] = value;
    if (permissions['id-token'] === 'write') {
      const requestToken = randomUUID();
      this.o.registerRun(requestToken, {
        subject: `repo:${this.o.repository}:ref:refs/heads/${this.o.defaultBranch}`,
        repository: this.o.repository,
        ref: `refs/heads/${this.o.defaultBranch}`,
        eventName: event,
        workflow: file,
        runId: record.runId
      });
      env.ACTIONS_ID_TOKEN_REQUEST_URL = `${this.o.oidcUrl()}?api-version=2.0`;
      env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = requestToken;
    }
    record.startedAt = Date.now();
    try {
      record.exitCode = await new Promise<number | null>(done => {
        const args = this.o.actionOnEmulatedClock
          ? ['--import', CLOCK_PRELOAD, this.o.distPath]
          : [this.o.distPath];
        if (this.o.actionOnEmulatedClock) env.EMULATED_CLOCK = this.o.clock.processSpec();
        const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        // The log is also written as it comes, so a run still going can be looked at (log.txt).
        const append = (c: Buffer) => {
          record.log += c;
          appendFileSync(join(temp, 'log.txt'), c);
        };
        child.stdout.on('data', append);
        child.stderr.on('data', append);
        child.on('close', code => done(code));
        const stop = () => this.stop(child, record, signal.reason === 'timeout' ? 'timed out' : 'cancelled');
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });
      });
    } finally {
      this.o.registerJobToken(token, undefined); // the GITHUB_TOKEN expires with its job
    }
    record.finishedAt = Date.now();
    enforceLimits(record, parseOutputs(readFileSync(files.output, 'utf8')), readFileSync(files.summary));
    return record.exitCode === 0 && !signal.aborted;
  }

  /** A cancelled step: SIGINT, SIGTERM 7.5 s later, then the kill, as GitHub's runner does. */
  private stop(child: ChildProcess, record: RunRecord, why: string): void {
    record.log += `##[error]The operation was canceled (${why}).\n`;
    child.kill('SIGINT');
    this.o.clock.after(CANCEL_SIGINT_GRACE_MS, () => {
      if (child.exitCode !== null || child.signalCode) return;
      child.kill('SIGTERM');
      this.o.clock.after(CANCEL_SIGTERM_GRACE_MS, () => {
        if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
      });
    });
  }

  /** action.yml's defaults, resolved like the runner resolves them (`${{ github.token }}` and such). */
  private actionDefaults(context: Record<string, unknown>): Record<string, string> {
    const action = parse(readFileSync(this.o.actionPath, 'utf8')) as {
      inputs?: Record<string, { default?: unknown }>;
    };
    const defaults: Record<string, string> = {};
    for (const [name, spec] of Object.entries(action.inputs ?? {}))
      if (spec.default !== undefined) defaults[name] = resolve(String(spec.default), context);
    return defaults;
  }
}

/** A job just queued: nothing run, nothing handed back yet. */
export function newRunRecord(
  job: Pick<RunRecord, 'id' | 'runId' | 'workflow' | 'event' | 'displayTitle'> & Partial<RunRecord>
): RunRecord {
  return {
    status: 'queued',
    exitCode: null,
    outputs: {},
    summary: '',
    summaryPath: '',
    summaryBytes: 0,
    outputBytes: 0,
    largestOutputBytes: 0,
    limitErrors: [],
    log: '',
    queuedAt: Date.now(),
    billedMinutes: 0,
    ...job
  };
}

/** The run's concurrency: its group (case-insensitive), cancel-in-progress and queue. */
function concurrencyOf(workflow: Workflow, context: Record<string, unknown>): ConcurrencySpec | undefined {
  const c = workflow.concurrency;
  if (c === undefined || c === null) return undefined;
  if (typeof c === 'string') return { group: resolve(c, context), cancelInProgress: false, queue: 'single' };
  const cancel = c['cancel-in-progress'];
  const queue = c.queue ?? 'single';
  if (queue !== 'single' && queue !== 'max')
    throw new Error(`concurrency.queue is "${queue}"; GitHub accepts single or max`);
  return {
    group: resolve(String(c.group ?? ''), context),
    cancelInProgress: typeof cancel === 'string' ? resolve(cancel, context) === 'true' : cancel === true,
    queue
  };
}

/**
 * "Controlling permissions for GITHUB_TOKEN": "If you specify the access for any of these
 * permissions, all of those that are not specified are set to none" (metadata stays readable);
 * `read-all` / `write-all` set every scope.
 */
export function effectivePermissions(
  spec: Record<string, string> | string | undefined
): Record<string, string> {
  if (spec === undefined) return { ...DEFAULT_PERMISSIONS };
  if (spec === 'read-all' || spec === 'write-all') {
    const level = spec === 'read-all' ? 'read' : 'write';
    return Object.fromEntries(
      ['actions', 'checks', 'contents', 'deployments', 'issues', 'packages', 'pull-requests', 'statuses'].map(
        s => [s, level]
      )
    );
  }
  if (typeof spec === 'string') return { metadata: 'read' };
  return { metadata: 'read', ...spec };
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
  const whole = /^\$\{\{((?:(?!\}\}).)+)\}\}$/s.exec(text.trim());
  if (whole) return stringify(resolveValue(text, context));
  return text.replace(/\$\{\{(.+?)\}\}/g, (_, expr: string) => stringify(evaluate(expr, context)));
}

function resolveValue(text: string, context: Record<string, unknown>): unknown {
  // One expression that is the whole text (`${{ a }} ${{ b }}` is two, resolved as text).
  const whole = /^\$\{\{((?:(?!\}\}).)+)\}\}$/s.exec(text.trim());
  return whole ? evaluate(whole[1]!, context) : text;
}

/** The expressions the examples use: context paths, 'literals', fromJSON(…) and `a || b`. */
function evaluate(expr: string, context: Record<string, unknown>): unknown {
  for (const operand of topLevelOr(expr)) {
    const value = operand1(operand, context);
    if (value !== undefined && value !== null && value !== '' && value !== false) return value;
  }
  return '';
}

/** `a || b` split where it is not inside parentheses or quotes, as in `fromJSON(vars.X || '1')`. */
function topLevelOr(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === '|' && expr[i + 1] === '|') {
      parts.push(expr.slice(start, i).trim());
      start = i + 2;
      i++;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts;
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
