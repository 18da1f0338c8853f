/**
 * The emulated runner is as strict as GitHub's about what a step hands back: a summary over 1 MiB
 * is not shown (with GitHub's own error), and outputs over 1 MB per job, counted in UTF-16, are lost.
 * And its queue is as strict as GitHub's: concurrency groups, the account's concurrent jobs, the
 * runner's start, billing in whole minutes, the queue limit and job timeouts.
 */
import { describe, expect, test } from '@jest/globals';
import { JOB_OUTPUTS_MAX_UTF16_BYTES, STEP_SUMMARY_MAX_BYTES } from '../../src/report/github-limits.js';
import { billedMinutes, GITHUB_LIMITS } from '../emulator/github/actions-limits.js';
import { ActionsScheduler, type ConcurrencySpec } from '../emulator/github/actions-scheduler.js';
import { enforceLimits, newRunRecord, type RunRecord } from '../emulator/github/runner.js';
import { virtualClock } from '../helpers/virtual-clock.js';

const record = (): RunRecord =>
  newRunRecord({ id: 1, runId: 1, workflow: 'w.yml', event: 'schedule', displayTitle: 'w' });

describe('the emulated runner enforces GitHub’s limits', () => {
  test('a summary of exactly 1 MiB is shown; one byte more is refused with GitHub’s message', () => {
    const fits = record();
    enforceLimits(fits, {}, Buffer.alloc(STEP_SUMMARY_MAX_BYTES, 'a'));
    expect(fits.limitErrors).toEqual([]);
    expect(fits.summary).toHaveLength(STEP_SUMMARY_MAX_BYTES);

    const over = record();
    enforceLimits(over, {}, Buffer.alloc(STEP_SUMMARY_MAX_BYTES + 1, 'a'));
    expect(over.summary).toBe('');
    expect(over.limitErrors).toEqual([
      expect.stringContaining(
        '$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got 1024k.'
      )
    ]);
    expect(over.log).toContain('##[error]$GITHUB_STEP_SUMMARY upload aborted');
  });

  test('outputs are counted in UTF-16: past 1 MB per job they are lost', () => {
    // Half a million characters is 1 MB in UTF-16 though only 0.5 MB in UTF-8.
    const half = JOB_OUTPUTS_MAX_UTF16_BYTES / 2;
    const fits = record();
    enforceLimits(fits, { a: 'x'.repeat(half - 1) }, Buffer.alloc(0));
    expect(fits.limitErrors).toEqual([]);
    expect(fits.outputs.a).toHaveLength(half - 1);
    expect(fits.largestOutputBytes).toBe(JOB_OUTPUTS_MAX_UTF16_BYTES);

    const over = record();
    enforceLimits(over, { a: 'x'.repeat(half / 2), b: 'y'.repeat(half / 2) }, Buffer.alloc(0));
    expect(over.outputs).toEqual({});
    expect(over.outputBytes).toBe(JOB_OUTPUTS_MAX_UTF16_BYTES + 4);
    expect(over.limitErrors).toEqual([expect.stringContaining("over GitHub's limit of 1000000 per job")]);
  });
});

/** A job whose steps end when the test ends them (or when GitHub stops it). */
function job(name = 'restart', timeoutMinutes = 360) {
  let finish!: (ok: boolean) => void;
  const state = { started: false, signal: undefined as AbortSignal | undefined };
  return {
    state,
    end: (ok = true) => finish(ok),
    spec: {
      name,
      timeoutMinutes,
      execute: (signal: AbortSignal) =>
        new Promise<boolean>(resolve => {
          state.started = true;
          state.signal = signal;
          finish = resolve;
          signal.addEventListener('abort', () => resolve(false));
        })
    }
  };
}

const LIMITS = { ...GITHUB_LIMITS, runnerStartLatencyS: 0 };
const group = (name: string, extra: Partial<ConcurrencySpec> = {}): ConcurrencySpec => ({
  group: name,
  cancelInProgress: false,
  queue: 'single',
  ...extra
});

describe('the emulated Actions queue is as strict as GitHub’s', () => {
  // docs.github.com, "Control the concurrency of workflows and jobs": "When a concurrent job or
  // workflow is queued, if another job or workflow using the same concurrency group in the
  // repository is in progress, the queued job or workflow will be pending. By default, any existing
  // pending job or workflow in the same concurrency group will be canceled and the new queued job or
  // workflow will take its place." Group names are case insensitive.
  test('a concurrency group holds one run in progress and one pending: a newer run cancels the pending one', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, LIMITS);
    const [a, b, c] = [job(), job(), job()];
    const runA = actions.submit(1, 'acme/fleet', [a.spec], group('spot-restart'))!;
    const runB = actions.submit(2, 'acme/fleet', [b.spec], group('SPOT-restart'))!;
    await clock.advance(0);
    expect([runA.status, runB.status]).toEqual(['in_progress', 'pending']);
    const runC = actions.submit(3, 'acme/fleet', [c.spec], group('spot-restart'))!;
    await clock.advance(0);
    expect(runB).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(runB.jobs[0]!.billedMinutes).toBe(0);
    expect(b.state.started).toBe(false);
    expect(runC.status).toBe('pending');
    a.end();
    await clock.advance(0);
    expect(runA.conclusion).toBe('success');
    expect(runC.status).toBe('in_progress');
    expect(c.state.started).toBe(true);
  });

  // Same page: "To also cancel any currently running job or workflow in the same concurrency group,
  // specify cancel-in-progress: true." "Canceling a workflow": the step's process gets SIGINT.
  test('cancel-in-progress stops the run in progress; the new one runs once it has ended', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, LIMITS);
    const [a, b] = [job(), job()];
    const runA = actions.submit(1, 'acme/fleet', [a.spec], group('g', { cancelInProgress: true }))!;
    await clock.advance(0);
    const runB = actions.submit(2, 'acme/fleet', [b.spec], group('g', { cancelInProgress: true }))!;
    await clock.advance(0);
    expect(a.state.signal?.aborted).toBe(true);
    expect(runA).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(runB.status).toBe('in_progress');
  });

  // Same page: "max: Up to 100 jobs or workflow runs can be pending in the concurrency group. When
  // the queue is full, any additional jobs or workflow runs are canceled." "The combination of
  // queue: max and cancel-in-progress: true is not allowed and will result in a workflow
  // validation error." Pending runs go first in, first out.
  test('queue: max keeps 100 pending runs in order and cancels the 101st', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, LIMITS);
    const first = job();
    actions.submit(0, 'acme/fleet', [first.spec], group('g', { queue: 'max' }));
    const pending = Array.from({ length: 101 }, (_, i) =>
      actions.submit(i + 1, 'acme/fleet', [job().spec], group('g', { queue: 'max' }))!
    );
    await clock.advance(0);
    expect(pending.filter(r => r.status === 'pending')).toHaveLength(100);
    expect(pending[100]).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    first.end();
    await clock.advance(0);
    expect(pending[0]!.status).toBe('in_progress');
    expect(() =>
      actions.submit(200, 'acme/fleet', [job().spec], group('h', { queue: 'max', cancelInProgress: true }))
    ).toThrow('validation error');
  });

  // "Limits in GitHub Actions", Job concurrency limits for GitHub-hosted runners: 20 concurrent
  // jobs on GitHub Free; the rest wait in the queue.
  test('at most 20 jobs run at once by default; the 21st starts when one ends', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, GITHUB_LIMITS);
    expect(GITHUB_LIMITS.concurrentJobs).toBe(20);
    const jobs = Array.from({ length: 25 }, () => job());
    const runs = jobs.map((j, i) => actions.submit(i + 1, 'acme/fleet', [j.spec])!);
    await clock.advance(GITHUB_LIMITS.runnerStartLatencyS * 1000);
    expect(jobs.filter(j => j.state.started)).toHaveLength(20);
    expect(actions.runningJobs).toBe(20);
    jobs[0]!.end();
    await clock.advance(GITHUB_LIMITS.runnerStartLatencyS * 1000);
    expect(jobs[20]!.state.started).toBe(true);
    expect(actions.maxConcurrentJobs).toBe(20);
    expect(runs[24]!.status).toBe('queued');
  });

  // A job with its slot waits for its runner before its first step; the wait is not billed.
  test('a job starts its steps only after the runner start latency', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, { ...GITHUB_LIMITS, runnerStartLatencyS: 25 });
    const a = job();
    const run = actions.submit(1, 'acme/fleet', [a.spec])!;
    await clock.advance(24_000);
    expect(a.state.started).toBe(false);
    await clock.advance(1000);
    expect(a.state.started).toBe(true);
    expect(run.jobs[0]!.startedAt).toBe(25_000);
  });

  // "Actions runner pricing": "GitHub rounds the minutes and partial minutes each job uses up to
  // the nearest whole minute."
  test('each job is billed its running time in whole minutes, rounded up', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, LIMITS);
    const [short, long] = [job(), job()];
    const runs = [
      actions.submit(1, 'acme/fleet', [short.spec])!,
      actions.submit(2, 'acme/fleet', [long.spec])!
    ];
    await clock.advance(2000);
    short.end();
    await clock.advance(59_000);
    long.end();
    await clock.advance(0);
    expect(runs.map(r => r.jobs[0]!.billedMinutes)).toEqual([1, 2]);
    expect([billedMinutes(60_000), billedMinutes(60_001), billedMinutes(1)]).toEqual([1, 2, 1]);
  });

  // "Limits in GitHub Actions": "Workflow run queued — 500 workflow runs / 10 seconds. When the
  // limit is reached, the workflow runs that were supposed to be triggered … will be blocked and
  // will not be queued."
  test('500 runs queued in 10 s per repository: the 501st is blocked, and queues again 10 s later', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, { ...LIMITS, concurrentJobs: 1000 });
    const queued = Array.from({ length: 501 }, (_, i) => actions.submit(i + 1, 'acme/fleet', [job().spec]));
    expect(queued.filter(Boolean)).toHaveLength(500);
    expect(queued[500]).toBeUndefined();
    expect(actions.blockedRuns).toBe(1);
    expect(actions.submit(1000, 'acme/other', [job().spec])).toBeDefined();
    await clock.advance(10_000);
    expect(actions.submit(1001, 'acme/fleet', [job().spec])).toBeDefined();
  });

  // "Workflow syntax": timeout-minutes, "The maximum number of minutes to let a job run before
  // GitHub automatically cancels it"; the job fails.
  test('a job past its timeout-minutes is stopped and fails', async () => {
    const clock = virtualClock(0);
    const actions = new ActionsScheduler(clock, LIMITS);
    const a = job('restart', 30);
    const run = actions.submit(1, 'acme/fleet', [a.spec])!;
    await clock.advance(30 * 60_000);
    expect(a.state.signal?.aborted).toBe(true);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run.jobs[0]!.endedBecause).toContain('maximum execution time of 30m');
    expect(run.jobs[0]!.billedMinutes).toBe(30);
  });
});
