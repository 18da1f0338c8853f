/**
 * The agents of a large fleet, in one process: for each VM, the agent's own dispatch code
 * (agent/src/dispatch.ts: its payload, its retries, its reading of Retry-After and of GitHub's
 * secondary limits, its deadline) over real HTTPS to the emulated GitHub, on one shared token as a
 * fleet's agents share one. Only the IMDS poll is modelled: an agent polling once a second sees a
 * Preempt within a second, so each VM's agent reacts after a uniformly drawn part of a second.
 * Hundreds of real agent processes polling at a time scale would measure this machine's CPU, not
 * GitHub's limits.
 */
import { readFileSync } from 'node:fs';
import { globalAgent } from 'node:https';
import { buildPayload } from '../../../src/plan/payload.js';
import type { DispatchOptions, DispatchResult } from '../../../agent/src/dispatch.js';
import { dispatchDeadline, dispatchInWave } from '../../../agent/src/wave.js';
import { AGENT_VERSION } from '../../../agent/src/version.js';
import type { Emulator } from '../server.js';
import type { ScheduledEvent, Vm } from '../azure/spot.js';

export interface AgentDispatch {
  vm: string;
  /** Emulated times: the Preempt was announced, the agent saw it, GitHub accepted it (if it did). */
  announcedAt: number;
  seenAt: number;
  acceptedAt?: number;
  result?: DispatchResult;
  /** The agent held back: this many dispatches had reached GitHub in the last minute. */
  heldBack?: number;
  retries: number;
}

/** How an agent sends, and until when it tries: the shipped agent's by default. */
export interface AgentBehaviour {
  dispatch: (
    o: DispatchOptions & { now?: () => number }
  ) => Promise<DispatchResult | { ok: false; heldBack: number }>;
  deadline: (notBefore: number | undefined, now: number) => number;
}

export const SHIPPED_AGENT: AgentBehaviour = { dispatch: dispatchInWave, deadline: dispatchDeadline };

export class AgentFleet {
  readonly dispatches: AgentDispatch[] = [];
  private readonly inFlight: Promise<unknown>[] = [];
  private readonly caBefore: typeof globalAgent.options.ca;

  constructor(
    private readonly emu: Emulator,
    private readonly token: string,
    private readonly random: () => number,
    private readonly behaviour: AgentBehaviour = SHIPPED_AGENT,
    private readonly pollIntervalS = 1
  ) {
    // The agent's HTTPS client uses Node's global agent: trust the emulator's CA there, until
    // release() — the global agent's options override a request's own `ca`, so a CA left behind
    // would make every later HTTPS call of the process to another emulator fail its handshake.
    this.caBefore = globalAgent.options.ca;
    globalAgent.options.ca = readFileSync(emu.caFile);
  }

  /** Gives Node's global agent back its own CAs. */
  release(): void {
    // A `ca` key left at undefined still overrides a request's own: remove it when there was none.
    if (this.caBefore === undefined) delete globalAgent.options.ca;
    else globalAgent.options.ca = this.caBefore;
  }

  /** Azure announced a Preempt on `vm`: its agent sees it within one poll and dispatches. */
  preempted(vm: Vm, event: ScheduledEvent): void {
    const clock = this.emu.clock;
    const record: AgentDispatch = {
      vm: vm.name,
      announcedAt: clock.now(),
      seenAt: 0,
      retries: 0
    };
    this.dispatches.push(record);
    const work = new Promise<void>(resolve =>
      clock.after(this.random() * this.pollIntervalS * 1000, () => {
        record.seenAt = clock.now();
        const notBefore = Date.parse(event.NotBefore);
        const payload = buildPayload({
          vmResourceId: vm.id,
          vmId: vm.vmId,
          eventId: event.EventId,
          eventType: 'Preempt',
          notBefore: new Date(notBefore).toISOString(),
          detectedAt: new Date(record.seenAt).toISOString(),
          evictionPolicy: vm.evictionPolicy as 'Deallocate' | 'Delete',
          agentVersion: AGENT_VERSION
        });
        void this.behaviour
          .dispatch({
            apiUrl: this.emu.githubUrl,
            repository: this.emu.github.repository,
            eventType: 'spot-vm-preempted',
            payload,
            credentials: { kind: 'environment', token: async () => this.token, invalidate: () => undefined },
            // The agent's deadline is on its own clock; here that clock runs at the emulator's scale.
            deadline: clock.realAt(this.behaviour.deadline(notBefore, record.seenAt)),
            // GitHub's run times are on the emulated clock: "the last minute" is an emulated one.
            now: () => clock.now(),
            onRetry: () => void record.retries++
          })
          .then(result => {
            if ('heldBack' in result) record.heldBack = result.heldBack;
            else {
              record.result = result;
              if (result.ok) record.acceptedAt = clock.now();
            }
            resolve();
          });
      })
    );
    this.inFlight.push(work);
  }

  /** Resolves once every agent has a final answer (accepted, or given up). */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** VMs whose agent tried and did not get its dispatch accepted. */
  get lost(): AgentDispatch[] {
    return this.dispatches.filter(d => d.result && !d.result.ok);
  }

  get heldBack(): AgentDispatch[] {
    return this.dispatches.filter(d => d.heldBack !== undefined);
  }
}
