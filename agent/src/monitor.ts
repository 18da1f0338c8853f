/**
 * The watch: poll Scheduled Events, spot a Preempt (optionally Terminate) that names this VM,
 * dispatch at once, then run the drain command once GitHub has answered (or DRAIN_WAIT_MS has
 * passed), and approve when it ends if asked. Survives IMDS outages, timeouts and garbage (backs
 * off, logs each kind once, recovers); handles each EventId once, also across restarts (EventState).
 */
import { buildPayload, type DispatchPayload } from '../../src/plan/payload.js';
import type { Config } from './config.js';
import type { Credentials } from './credentials.js';
import { dispatchDeadline, dispatchInWave } from './wave.js';
import { ImdsError, type ComputeMetadata, type Imds, type ScheduledEvent } from './imds.js';
import type { Logger } from './log.js';
import type { EventState } from './state.js';
import { AGENT_VERSION } from './version.js';

export interface MonitorDeps {
  config: Config;
  imds: Imds;
  log: Logger;
  state: EventState;
  credentials?: Credentials;
}

export const EXIT_NOT_SPOT = 78;

/**
 * The longest the drain command waits for GitHub's answer to the dispatch, from the moment the
 * Preempt was seen: a small part of a notice that is 30 s at most.
 */
export const DRAIN_WAIT_MS = 2000;

/** The value of `promise` if it settles within `ms`, otherwise undefined (and no timer left behind). */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<undefined>(
    resolve => (timer = setTimeout(() => resolve(undefined), Math.max(0, ms)))
  );
  return Promise.race([promise, cap]).finally(() => clearTimeout(timer));
}

export class Monitor {
  private stopped = false;
  private readonly stopping = new AbortController();
  private wake?: () => void;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly watching = new Map<string, ScheduledEvent>();
  private vm?: ComputeMetadata;

  constructor(private readonly d: MonitorDeps) {}

  stop(): void {
    this.stopped = true;
    this.stopping.abort();
    this.wake?.();
  }

  /** Runs until stopped; resolves with the exit code. */
  async run(): Promise<number> {
    const vm = await this.waitForCompute();
    if (!vm) return 0;
    this.vm = vm;
    const spot = vm.priority.toLowerCase() === 'spot';
    this.d.log.info('watching Scheduled Events', {
      vm: vm.name,
      resourceId: vm.resourceId,
      priority: vm.priority || 'Regular',
      evictionPolicy: vm.evictionPolicy || '-',
      repository: this.d.config.repository,
      dryRun: this.d.config.dryRun
    });
    if (!spot) {
      this.d.log.warn('this VM is not a Spot VM: Azure never preempts it', {
        priority: vm.priority || 'Regular'
      });
      if (!this.d.config.allowNonSpot) return EXIT_NOT_SPOT;
    }
    let failures = 0;
    let first = true;
    while (!this.stopped) {
      const began = Date.now();
      try {
        // The first call switches the service on and may take up to two minutes.
        const doc = await this.d.imds.events(
          first ? 120_000 : Math.max(5000, this.d.config.pollIntervalMs * 3)
        );
        first = false;
        if (failures > 0)
          this.d.log.recovered('imds', `Scheduled Events reachable again after ${failures} failed poll(s)`);
        failures = 0;
        this.look(doc.Events);
      } catch (error) {
        failures++;
        const kind = error instanceof ImdsError ? error.kind : 'error';
        this.d.log.once(
          'imds',
          'warn',
          `Scheduled Events poll failed (${kind}): ${(error as Error).message}; retrying with backoff`,
          { kind }
        );
      }
      const interval = nextPollMs(this.d.config.pollIntervalMs, failures);
      await this.pause(Math.max(0, interval - (Date.now() - began)));
    }
    await Promise.all(this.inFlight.values());
    return 0;
  }

  private look(events: ScheduledEvent[]): void {
    const vm = this.vm!;
    const ids = new Set(events.map(e => e.EventId.toLowerCase()));
    for (const [id, event] of this.watching) {
      if (!ids.has(id)) {
        this.watching.delete(id);
        if (event.EventStatus === 'Scheduled')
          this.d.log.info('event withdrawn before it started', {
            eventId: event.EventId,
            eventType: event.EventType
          });
        else this.d.log.info('event finished', { eventId: event.EventId, eventType: event.EventType });
      }
    }
    for (const event of events) {
      const wanted =
        event.EventType === 'Preempt' || (this.d.config.alsoTerminate && event.EventType === 'Terminate');
      const mine = event.Resources.some(r => r.toLowerCase() === vm.name.toLowerCase());
      if (!wanted || !mine) continue;
      const id = event.EventId.toLowerCase();
      this.watching.set(id, event);
      if (this.d.state.isDone(id) || this.inFlight.has(id)) continue;
      const work = this.handle(event).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, work);
    }
  }

  private async handle(event: ScheduledEvent): Promise<void> {
    const detected = Date.now();
    const vm = this.vm!;
    const { config, log, state } = this.d;
    const notBefore = event.NotBefore ? new Date(Date.parse(event.NotBefore)) : undefined;
    const fields = {
      eventId: event.EventId,
      eventType: event.EventType,
      notBefore: notBefore?.toISOString() ?? 'now'
    };
    const retry = state.status(event.EventId) === 'pending';
    log.warn(`${event.EventType} scheduled for this VM${retry ? ' (resuming after a restart)' : ''}`, fields);
    let payload: DispatchPayload;
    try {
      payload = buildPayload({
        vmResourceId: vm.resourceId,
        vmId: vm.vmId,
        eventId: event.EventId,
        eventType: event.EventType as DispatchPayload['eventType'],
        notBefore: notBefore && !Number.isNaN(notBefore.getTime()) ? notBefore.toISOString() : undefined,
        detectedAt: new Date().toISOString(),
        evictionPolicy: vm.evictionPolicy
          ? ((vm.evictionPolicy[0]!.toUpperCase() +
              vm.evictionPolicy.slice(1).toLowerCase()) as DispatchPayload['evictionPolicy'])
          : undefined,
        agentVersion: AGENT_VERSION
      });
    } catch (error) {
      log.error(`cannot build a dispatch payload: ${(error as Error).message}`, fields);
      state.set(event.EventId, 'refused');
      return;
    }
    if (config.dryRun) {
      log.info('dry run: would send repository_dispatch now', { ...fields, eventTypeSent: config.eventType });
      state.set(event.EventId, 'dry-run');
      return;
    }
    state.set(event.EventId, 'pending');
    const deadline = dispatchDeadline(
      notBefore && !Number.isNaN(notBefore.getTime()) ? notBefore.getTime() : undefined,
      Date.now()
    );
    const dispatched = dispatchInWave({
      apiUrl: config.githubApiUrl,
      repository: config.repository,
      eventType: config.eventType,
      payload,
      credentials: this.d.credentials!,
      deadline,
      signal: this.stopping.signal,
      onWritten: attempt => log.info('dispatch request written', { ...fields, attempt }),
      onRetry: (attempt, why, delayMs) =>
        log.warn(`dispatch attempt ${attempt} failed: ${why}; retrying in ${delayMs} ms`, fields)
    }).then(result => {
      if ('heldBack' in result) {
        log.warn(
          `repository_dispatch held back: ${result.heldBack} dispatches reached ${config.repository} in the last minute, near GitHub's limit of 80 a minute for one token; the run they started takes this VM with its sweep`,
          fields
        );
        state.set(event.EventId, 'held-back');
        return result;
      }
      if (result.ok) {
        log.info('repository_dispatch sent', {
          ...fields,
          repository: config.repository,
          attempts: result.attempts
        });
        state.set(event.EventId, 'dispatched', result.attempts);
      } else {
        log.error(`repository_dispatch not sent: ${result.reason}`, {
          ...fields,
          attempts: result.attempts
        });
        state.set(event.EventId, result.retryable ? 'pending' : 'refused', result.attempts);
      }
      return result;
    });
    if (config.onPreempt) {
      // GitHub's answer proves the request arrived, so drain work (stopping the network, say)
      // cannot lose it; the cap keeps a slow or unreachable GitHub from eating the notice.
      const answered = await settledWithin(dispatched, DRAIN_WAIT_MS - (Date.now() - detected));
      await this.drain(event, payload, {
        dispatch: answered === undefined ? 'no answer yet' : answered.ok ? 'accepted' : 'failed',
        waitedMs: Date.now() - detected
      });
    }
    await dispatched;
  }

  private async drain(
    event: ScheduledEvent,
    payload: DispatchPayload,
    why: { dispatch: string; waitedMs: number }
  ): Promise<void> {
    const { config, log } = this.d;
    // Loaded when a drain command runs: node:child_process is not needed to poll.
    const { runHook } = await import('./hooks.js');
    const result = await runHook(
      config.onPreempt!,
      {
        SPOT_EVENT_ID: event.EventId,
        SPOT_EVENT_TYPE: event.EventType,
        SPOT_NOT_BEFORE: payload.notBefore ?? '',
        SPOT_VM_NAME: this.vm!.name,
        SPOT_VM_RESOURCE_ID: this.vm!.resourceId
      },
      config.hookTimeoutMs,
      line => log.info(`drain: ${line}`),
      pid => log.info('drain command started', { eventId: event.EventId, pid, ...why })
    );
    log.info(result.timedOut ? 'drain command stopped at its timeout' : 'drain command finished', {
      eventId: event.EventId,
      exitCode: result.exitCode,
      durationMs: result.durationMs
    });
    if (!config.approve) return;
    try {
      await this.d.imds.approve(event.EventId);
      log.info('event approved: Azure may evict now', { eventId: event.EventId });
    } catch (error) {
      log.warn(`could not approve the event: ${(error as Error).message}`, { eventId: event.EventId });
    }
  }

  private async waitForCompute(): Promise<ComputeMetadata | undefined> {
    let delay = 1000;
    while (!this.stopped) {
      try {
        const vm = await this.d.imds.compute();
        this.d.log.recovered('compute', 'IMDS compute metadata reachable');
        return vm;
      } catch (error) {
        this.d.log.once(
          'compute',
          'warn',
          `IMDS compute metadata not reachable yet: ${(error as Error).message}; retrying`
        );
        await this.pause(delay);
        delay = Math.min(30_000, delay * 2);
      }
    }
    return undefined;
  }

  private pause(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Longest wait between polls while IMDS fails: an eviction's notice is 30 s, so never longer. */
export const MAX_BACKOFF_MS = 10_000;

/**
 * The wait before the next poll after `failures` failed polls in a row: the poll interval, doubled
 * per failure up to MAX_BACKOFF_MS, and never given up — IMDS comes back after maintenance, and an
 * agent that stopped polling would miss the next Preempt.
 */
export function nextPollMs(pollIntervalMs: number, failures: number): number {
  if (failures <= 0) return pollIntervalMs;
  return Math.min(MAX_BACKOFF_MS, pollIntervalMs * 2 ** Math.min(failures - 1, 4));
}
