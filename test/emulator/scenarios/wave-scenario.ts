/**
 * A mass eviction, as Azure does it when a region needs a size back: `waveVms` agent-equipped Spot
 * VMs of one region and size evicted within a minute, their capacity coming back gradually over the
 * next twenty minutes, plus evictions elsewhere that no agent reports — against the emulated GitHub
 * with its published limits. A workflow file is the design under test: its dispatch runs and its
 * schedule (every ten minutes) run as GitHub would run them, and the run measures what users and
 * their organisation pay: how long each VM was down, runs, billed minutes, concurrent jobs,
 * dispatches lost, 429s, wrong starts and VMs left down.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { AgentFleet, type AgentBehaviour } from '../agents/agent-fleet.js';
import type { FleetSpec, VmSpec } from '../fleets/fleet.js';
import { subscriptionIds, TAG } from '../fleets/sample-fleet.js';
import { Emulator } from '../server.js';
import { seededRandom } from '../random.js';

export const WAVE_REGION = 'eastus';
export const WAVE_SIZE = 'Standard_D4s_v5';
const ELSEWHERE_REGION = 'westeurope';
const TOKEN = 'ghs_fleetAgentsInstallationToken0000000';
const REPOSITORY = 'acme/spot-fleet';

export interface WaveOptions {
  /** The workflow (dispatch and schedule) under test. */
  workflow: string;
  /** The action's bundle it runs (default: this checkout's dist/index.js). */
  distPath?: string;
  /** How the agents dispatch (default: as the shipped agent does). */
  agent?: AgentBehaviour;
  waveVms: number;
  /** Evicted elsewhere (another region and size, capacity there), with no agent to report them. */
  elsewhere: number;
  timeScale: number;
  evictWithinS?: number;
  /** Capacity for the wave's size comes back in equal steps over this long, after the evictions. */
  capacityReturnS?: number;
  capacitySteps?: number;
  /** GitHub runs the workflow's schedule this often, first this long after the wave began. */
  scheduleEveryS?: number;
  scheduleFirstS?: number;
  /** Give up this long (emulated) after the wave began. */
  maxS?: number;
  seed?: number;
  /** Also return each run's timeline and each VM's lag behind capacity. */
  detail?: boolean;
}

export interface WaveResult {
  wave_vms: number;
  elsewhere_vms: number;
  time_scale: number;
  /** From each eligible VM's Preempt to running, emulated seconds. */
  eviction_to_running_p50_s: number;
  eviction_to_running_p95_s: number;
  eviction_to_running_max_s: number;
  /** The k-th wave VM to run, against the moment the k-th unit of capacity came back. */
  capacity_to_running_p50_s: number;
  capacity_to_running_p95_s: number;
  runs: number;
  runs_cancelled: number;
  runs_blocked: number;
  runs_by_conclusion: Record<string, number>;
  billed_minutes: number;
  max_concurrent_jobs: number;
  dispatches_lost: number;
  /** Agents that did not send: the last minute's dispatches were near GitHub's limit. */
  dispatches_held_back: number;
  dispatch_retries: number;
  /** Dispatches GitHub had accepted this many emulated seconds after the wave began. */
  dispatches_accepted_by_s: Record<string, number>;
  /** Azure's 429s and GitHub's secondary-limit refusals (403 or 429). */
  '429s': number;
  azure_429s: number;
  github_secondary_refusals: number;
  wrong_starts: number;
  vms_left_down: number;
  /** Emulated seconds from the wave's start until everything was up and no run was left. */
  done_after_s: number;
  real_s: number;
  /** Per run: when it was queued, started and ended (emulated seconds from the wave's start), and how. */
  timeline?: {
    run: number;
    event: string;
    queued: number;
    started?: number;
    ended: number;
    conclusion?: string;
    billed: number;
  }[];
  /** Seconds each wave VM ran behind the capacity that came back for it, in the order they ran. */
  behind?: number[];
  /** The logs of the runs that ran (with `detail`). */
  logs?: string[];
  /** Each wave VM's story in the Spot model, in the order they ran (with `detail`). */
  vms?: { vm: string; events: string[] }[];
}

export function waveFleet(waveVms: number, elsewhere: number): FleetSpec & { roles: Map<string, string> } {
  const [sub] = subscriptionIds(1) as [string];
  const roles = new Map<string, string>();
  const vms: VmSpec[] = [];
  const add = (role: string, name: string, spec: Partial<VmSpec>) => {
    roles.set(name, role);
    vms.push({
      subscriptionId: sub,
      resourceGroup: 'rg-batch',
      name,
      location: WAVE_REGION,
      vmSize: WAVE_SIZE,
      priority: 'Spot',
      evictionPolicy: 'Deallocate',
      maxPrice: -1,
      tags: TAG,
      powerState: 'running',
      ...spec
    });
  };
  for (let i = 0; i < waveVms; i++) add('wave', `wave-${String(i).padStart(4, '0')}`, {});
  for (let i = 0; i < elsewhere; i++)
    add('elsewhere', `other-${String(i).padStart(3, '0')}`, {
      location: ELSEWHERE_REGION,
      vmSize: 'Standard_D2s_v5'
    });
  // Decoys in the wave's pool: evicted but not opted in, and stopped on purpose by their owner.
  const decoys = Math.max(2, Math.round(waveVms / 30));
  for (let i = 0; i < decoys; i++) add('untagged', `untagged-${i}`, { tags: { team: 'batch' } });
  for (let i = 0; i < decoys; i++)
    add('user-stopped', `stopped-${i}`, {
      powerState: 'deallocated',
      annotation: 'VirtualMachineDeallocationInitiated',
      sinceMinutes: 30
    });
  return {
    subscriptions: [sub],
    vms,
    roles,
    github: {
      repository: REPOSITORY,
      // One token for the whole fleet, as the README advises: Contents: write to dispatch, Actions:
      // read to see how many dispatches the wave has sent already.
      tokens: [
        {
          token: TOKEN,
          repositories: [REPOSITORY],
          user: 'spot-fleet-agents',
          permissions: { contents: 'write', actions: 'read' }
        }
      ]
    }
  };
}

const percentile = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const round = (x: number) => Math.round(x * 10) / 10;

export async function runWave(o: WaveOptions): Promise<WaveResult> {
  const evictWithinS = o.evictWithinS ?? 60;
  const capacityReturnS = o.capacityReturnS ?? 1200;
  const steps = o.capacitySteps ?? 40;
  const scheduleEveryS = o.scheduleEveryS ?? 600;
  const maxS = o.maxS ?? 4 * 3600;
  const random = seededRandom(o.seed ?? 20);
  const fleet = waveFleet(o.waveVms, o.elsewhere);
  const workflows = mkdtempSync(join(tmpdir(), 'wave-workflows-'));
  copyFileSync(o.workflow, join(workflows, basename(o.workflow)));
  const emu = await Emulator.start({
    fleet,
    timeScale: o.timeScale,
    latencyMs: 100 / o.timeScale, // an ARM round trip of 100 emulated ms
    workflowsDir: workflows,
    distPath: o.distPath,
    actionOnEmulatedClock: true
  });
  const realStart = Date.now();
  const agents = new AgentFleet(emu, TOKEN, random, o.agent);
  const pending: Promise<unknown>[] = [];
  const clock = emu.clock;
  const t0 = clock.now();
  const role = (name: string) => fleet.roles.get(name)!;
  const named = (r: string) => fleet.vms.filter(v => role(v.name) === r).map(v => emu.vm(v.name));
  const wave = named('wave');
  const elsewhere = named('elsewhere');
  const eligible = [...wave, ...elsewhere];
  const decoys = [...named('untagged'), ...named('user-stopped')];
  const evictedAt = new Map<string, number>();
  try {
    // The wave: every VM of the pool evicted for capacity within the minute, each agent dispatching.
    for (const vm of [...wave, ...named('untagged')]) {
      clock.after(random() * evictWithinS * 1000, () => {
        const event = emu.model.evict(vm, 'capacity');
        evictedAt.set(vm.name, clock.now());
        if (event && role(vm.name) === 'wave') agents.preempted(vm, event);
      });
    }
    for (const vm of elsewhere)
      clock.after(random() * evictWithinS * 1000, () => {
        emu.model.evict(vm, 'simulated');
        evictedAt.set(vm.name, clock.now());
      });
    // Capacity returns in equal steps: exactly as many VMs as the wave had opted in.
    const returns: number[] = [];
    for (let k = 1; k <= steps; k++) {
      const at = evictWithinS * 1000 + (k * capacityReturnS * 1000) / steps;
      const units = Math.round((wave.length * k) / steps) - Math.round((wave.length * (k - 1)) / steps);
      for (let u = 0; u < units; u++) returns.push(t0 + at);
      clock.after(at, () => {
        const free = emu.model.capacity(WAVE_REGION, WAVE_SIZE);
        emu.model.setCapacity(WAVE_REGION, WAVE_SIZE, (Number.isFinite(free) ? free : 0) + units);
      });
    }
    // GitHub's scheduler runs the workflow's schedule (often late; here on time).
    let nextSchedule = t0 + (o.scheduleFirstS ?? 420) * 1000;
    const busy = () => emu.runner.workflowRuns.some(e => e.run.status !== 'completed');
    const allUp = () => eligible.every(vm => vm.powerState === 'running');
    let doneAt = NaN;
    for (;;) {
      const now = clock.now();
      if (now >= nextSchedule) {
        pending.push(emu.runner.trigger('schedule', { schedule: '7-59/10 * * * *' }));
        nextSchedule += scheduleEveryS * 1000;
      }
      const capacityBack = now >= t0 + (evictWithinS + capacityReturnS) * 1000;
      if (capacityBack && allUp() && !busy()) {
        doneAt = now;
        break;
      }
      if (now >= t0 + maxS * 1000) break;
      await new Promise(r => setTimeout(r, 50));
    }
    await agents.settled();
    for (const e of emu.runner.workflowRuns)
      if (e.run.status !== 'completed') emu.runner.scheduler.cancel(e.run);
    await Promise.all([...pending, emu.settle()]);

    const runningAt = (name: string) =>
      emu.model.timeline.filter(t => t.vm === name && t.what === 'running').at(-1)?.at;
    const downFor = eligible
      .map(vm => {
        const up = runningAt(vm.name);
        return up === undefined ? undefined : (up - evictedAt.get(vm.name)!) / 1000;
      })
      .filter((x): x is number => x !== undefined);
    const waveUp = wave
      .map(vm => runningAt(vm.name))
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b);
    const behindCapacity = waveUp.map((at, k) => (at - returns[k]!) / 1000);
    const azure429 = Object.entries(emu.answers)
      .filter(([k]) => k.endsWith(':429'))
      .reduce((n, [, v]) => n + v, 0);
    const github429 = Object.values(emu.githubState.secondaryRefusals).reduce((n, v) => n + v, 0);
    return {
      wave_vms: wave.length,
      elsewhere_vms: elsewhere.length,
      time_scale: o.timeScale,
      eviction_to_running_p50_s: round(percentile(downFor, 50)),
      eviction_to_running_p95_s: round(percentile(downFor, 95)),
      eviction_to_running_max_s: round(Math.max(...downFor)),
      capacity_to_running_p50_s: round(percentile(behindCapacity, 50)),
      capacity_to_running_p95_s: round(percentile(behindCapacity, 95)),
      runs: emu.runner.workflowRuns.length,
      runs_cancelled: emu.runner.workflowRuns.filter(e => e.run.conclusion === 'cancelled').length,
      runs_blocked: emu.runner.scheduler.blockedRuns,
      runs_by_conclusion: emu.runner.workflowRuns.reduce<Record<string, number>>((n, e) => {
        const key = `${e.event}:${e.run.conclusion}`;
        n[key] = (n[key] ?? 0) + 1;
        return n;
      }, {}),
      billed_minutes: emu.runner.billedMinutes,
      max_concurrent_jobs: emu.runner.scheduler.maxConcurrentJobs,
      dispatches_lost: agents.lost.length,
      dispatches_held_back: agents.heldBack.length,
      dispatch_retries: agents.dispatches.reduce((n, d) => n + d.retries, 0),
      dispatches_accepted_by_s: Object.fromEntries(
        [60, 120, 180, 240, 300].map(s => [
          s,
          agents.dispatches.filter(d => d.acceptedAt !== undefined && d.acceptedAt - t0 <= s * 1000).length
        ])
      ),
      '429s': azure429 + github429,
      azure_429s: azure429,
      github_secondary_refusals: github429,
      wrong_starts: decoys.filter(vm => vm.startsAccepted > 0).length,
      vms_left_down: eligible.filter(vm => vm.powerState !== 'running').length,
      done_after_s: round((doneAt - t0) / 1000),
      timeline: o.detail
        ? emu.runner.workflowRuns.map(e => ({
            run: e.run.id,
            event: e.event,
            queued: round((e.run.createdAt - t0) / 1000),
            started: e.run.runStartedAt === undefined ? undefined : round((e.run.runStartedAt - t0) / 1000),
            ended: round((e.run.updatedAt - t0) / 1000),
            conclusion: e.run.conclusion,
            billed: e.jobs.reduce((n, j) => n + j.billedMinutes, 0)
          }))
        : undefined,
      behind: o.detail ? behindCapacity.map(round) : undefined,
      logs: o.detail ? emu.runner.runs.filter(r => r.log).map(r => r.log) : undefined,
      vms: o.detail
        ? wave
            .map(vm => ({
              vm: vm.name,
              up: runningAt(vm.name) ?? Infinity,
              events: emu.model.timeline
                .filter(t => t.vm === vm.name)
                .map(t => `${round((t.at - t0) / 1000)} ${t.what}`)
            }))
            .sort((a, b) => a.up - b.up)
            .map(({ vm, events }) => ({ vm, events }))
        : undefined,
      real_s: round((Date.now() - realStart) / 1000)
    };
  } finally {
    agents.release();
    await emu.stop();
  }
}
