/**
 * How GitHub Actions gets a workflow run from "queued" to a job on a runner, with the limits that
 * decide it in a wave (numbers and sources in actions-limits.ts):
 * - at most 500 runs queued per 10 s per repository; past that a run is blocked, never queued;
 * - a concurrency group holds one run in progress and one pending (`queue: single`) or up to 100
 *   pending (`queue: max`); a newly queued run cancels the pending one (or, with `queue: max`, is
 *   itself cancelled when the queue is full); `cancel-in-progress` also cancels the one in progress;
 * - the account runs at most `concurrentJobs` jobs at once; the others wait in a queue, oldest first;
 * - a job that has its slot waits for its runner (`runnerStartLatencyS`) before its first step;
 * - a job is billed its running time rounded up to whole minutes; a run cancelled while pending
 *   or queued costs nothing;
 * - a job past its `timeout-minutes` is stopped and fails.
 * Times are emulated milliseconds. The steps themselves are run by the caller (`execute`).
 */
import { billedMinutes, type GitHubLimits } from './actions-limits.js';
import { SlidingWindows } from './sliding-window.js';

export type RunStatus = 'queued' | 'pending' | 'in_progress' | 'completed';
export type Conclusion = 'success' | 'failure' | 'cancelled';

export interface ConcurrencySpec {
  group: string;
  cancelInProgress: boolean;
  queue: 'single' | 'max';
}

export interface ScheduledJob {
  name: string;
  timeoutMinutes: number;
  /** Runs the job's steps; resolves true on success. Must end promptly once `signal` aborts. */
  execute(signal: AbortSignal): Promise<boolean>;
  status: RunStatus;
  conclusion?: Conclusion;
  /** Why it ended as it did, when not by its own steps (cancelled, timed out). */
  endedBecause?: string;
  queuedAt: number;
  /** When its runner was ready and its first step began (billing starts here). */
  startedAt?: number;
  finishedAt?: number;
  billedMinutes: number;
}

export interface ScheduledRun {
  id: number;
  repository: string;
  concurrency?: ConcurrencySpec;
  jobs: ScheduledJob[];
  status: RunStatus;
  conclusion?: Conclusion;
  createdAt: number;
  updatedAt: number;
  runStartedAt?: number;
  /** Settles when the run has completed (in any conclusion). */
  done: Promise<void>;
}

interface Clock {
  now(): number;
  after(emulatedMs: number, fn: () => void): unknown;
}

interface Slot {
  job: ScheduledJob;
  run: ScheduledRun;
  abort: AbortController;
}

export class ActionsScheduler {
  /** The most jobs that held a runner at once. */
  maxConcurrentJobs = 0;
  /** Runs refused by the 500-per-10-s queue limit (never queued, never shown). */
  blockedRuns = 0;
  private running = 0;
  private readonly waiting: Slot[] = [];
  private readonly active = new Set<Slot>();
  private readonly groups = new Map<string, { current?: ScheduledRun; pending: ScheduledRun[] }>();
  private readonly finish = new Map<number, () => void>();
  private readonly queued: SlidingWindows;

  constructor(
    private readonly clock: Clock,
    private readonly limits: Pick<GitHubLimits, 'concurrentJobs' | 'runnerStartLatencyS' | 'runsQueuedPer10S'>
  ) {
    this.queued = new SlidingWindows([{ max: limits.runsQueuedPer10S, windowMs: 10_000 }], () => clock.now());
  }

  /** A new run for its jobs; `undefined` when GitHub's queue limit blocks it. */
  submit(
    id: number,
    repository: string,
    jobs: Omit<ScheduledJob, 'status' | 'queuedAt' | 'billedMinutes'>[],
    concurrency?: ConcurrencySpec
  ): ScheduledRun | undefined {
    if (concurrency?.queue === 'max' && concurrency.cancelInProgress)
      throw new Error(
        `concurrency group "${concurrency.group}": queue: max with cancel-in-progress: true is a workflow validation error on GitHub`
      );
    if (!this.queued.take(repository.toLowerCase()).ok) {
      this.blockedRuns++;
      return undefined;
    }
    const now = this.clock.now();
    let finish!: () => void;
    const run: ScheduledRun = {
      id,
      repository,
      concurrency,
      jobs: jobs.map(j => ({ ...j, status: 'queued', queuedAt: now, billedMinutes: 0 })),
      status: 'queued',
      createdAt: now,
      updatedAt: now,
      done: new Promise<void>(r => (finish = r))
    };
    this.finish.set(id, finish);
    if (!concurrency) {
      this.startRun(run);
      return run;
    }
    const key = concurrency.group.toLowerCase(); // group names are case-insensitive
    const group = this.groups.get(key) ?? { pending: [] };
    this.groups.set(key, group);
    if (concurrency.cancelInProgress) {
      for (const pending of group.pending.splice(0))
        this.cancel(pending, 'a newer run of its concurrency group');
      if (group.current)
        this.cancel(group.current, 'a newer run of its concurrency group (cancel-in-progress)');
    }
    if (!group.current) {
      group.current = run;
      this.startRun(run);
      return run;
    }
    if (concurrency.queue === 'single') {
      for (const pending of group.pending.splice(0))
        this.cancel(pending, 'a newer run of its concurrency group');
    } else if (group.pending.length >= 100) {
      run.status = 'pending';
      this.cancel(run, 'its concurrency group already holds 100 pending runs');
      return run;
    }
    run.status = 'pending';
    group.pending.push(run);
    return run;
  }

  /** Cancels a run: pending or queued jobs never start; running ones are stopped. */
  cancel(run: ScheduledRun, why = 'cancelled'): void {
    if (run.status === 'completed') return;
    if (run.status === 'pending') {
      const key = run.concurrency!.group.toLowerCase();
      const group = this.groups.get(key);
      if (group) group.pending = group.pending.filter(r => r !== run);
      for (const job of run.jobs) {
        job.status = 'completed';
        job.conclusion = 'cancelled';
        job.endedBecause = why;
      }
      this.complete(run);
      return;
    }
    for (const job of run.jobs) {
      if (job.status === 'completed') continue;
      const waiting = this.waiting.findIndex(s => s.job === job);
      if (waiting >= 0) {
        this.waiting.splice(waiting, 1);
        job.status = 'completed';
        job.conclusion = 'cancelled';
        job.endedBecause = why;
        continue;
      }
      const slot = [...this.active].find(s => s.job === job);
      if (slot && !slot.abort.signal.aborted) {
        job.endedBecause = why;
        slot.abort.abort('cancelled');
      }
    }
    this.maybeComplete(run);
  }

  /** Jobs holding a runner now. */
  get runningJobs(): number {
    return this.running;
  }

  private startRun(run: ScheduledRun): void {
    run.status = 'queued';
    run.updatedAt = this.clock.now();
    for (const job of run.jobs) this.waiting.push({ job, run, abort: new AbortController() });
    this.pump();
    this.maybeComplete(run); // a run without jobs
  }

  private pump(): void {
    while (this.running < this.limits.concurrentJobs && this.waiting.length) {
      const slot = this.waiting.shift()!;
      this.running++;
      this.maxConcurrentJobs = Math.max(this.maxConcurrentJobs, this.running);
      this.active.add(slot);
      slot.job.status = 'in_progress';
      slot.run.status = 'in_progress';
      this.clock.after(this.limits.runnerStartLatencyS * 1000, () => void this.execute(slot));
    }
  }

  private async execute(slot: Slot): Promise<void> {
    const { job, run, abort } = slot;
    let ok = false;
    if (!abort.signal.aborted) {
      job.startedAt = this.clock.now();
      run.runStartedAt ??= job.startedAt;
      run.updatedAt = job.startedAt;
      const timer = Number.isFinite(job.timeoutMinutes)
        ? this.clock.after(job.timeoutMinutes * 60_000, () => {
            if (abort.signal.aborted || job.status === 'completed') return;
            job.endedBecause = `The job has exceeded the maximum execution time of ${job.timeoutMinutes}m0s`;
            abort.abort('timeout');
          })
        : undefined;
      try {
        ok = await job.execute(abort.signal);
      } catch (error) {
        job.endedBecause ??= String((error as Error).message ?? error);
        ok = false;
      }
      clearTimeout(timer as NodeJS.Timeout);
    }
    job.finishedAt = this.clock.now();
    job.status = 'completed';
    job.conclusion =
      abort.signal.reason === 'cancelled' ? 'cancelled' : abort.signal.aborted || !ok ? 'failure' : 'success';
    job.billedMinutes = job.startedAt === undefined ? 0 : billedMinutes(job.finishedAt - job.startedAt);
    this.active.delete(slot);
    this.running--;
    this.pump();
    this.maybeComplete(run);
  }

  private maybeComplete(run: ScheduledRun): void {
    if (run.status === 'completed' || run.jobs.some(j => j.status !== 'completed')) return;
    this.complete(run);
  }

  private complete(run: ScheduledRun): void {
    const conclusions = run.jobs.map(j => j.conclusion);
    run.conclusion = conclusions.includes('cancelled')
      ? 'cancelled'
      : conclusions.includes('failure')
        ? 'failure'
        : 'success';
    run.status = 'completed';
    run.updatedAt = this.clock.now();
    if (run.concurrency) {
      const group = this.groups.get(run.concurrency.group.toLowerCase());
      if (group?.current === run) {
        group.current = group.pending.shift();
        if (group.current) this.startRun(group.current);
      }
    }
    this.finish.get(run.id)?.();
    this.finish.delete(run.id);
  }
}
