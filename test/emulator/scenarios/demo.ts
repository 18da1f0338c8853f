/**
 * `npm run demo`: the product on the built-in emulator, in three acts.
 * 1. The fast path: real agent processes on four Spot VMs see Preempt in their IMDS, send a
 *    repository_dispatch to the emulated GitHub, whose runner runs
 *    workflows-examples/restart-on-eviction.yml with dist/index.js; the VMs come back. A timeline.
 * 2. The safety net: a wave of evictions over three subscriptions (with decoys), then GitHub's
 *    scheduler runs workflows-examples/restart-on-schedule.yml — once before Azure's evidence of
 *    why the VMs went down has arrived (nothing is started: awaiting-evidence), once after (the
 *    evicted VMs start; the one a person stopped stays down). A table of every VM.
 * 3. Fallback sizes: capacity for one VM's size vanishes, the schedule brings it back on a size its
 *    owner listed; capacity returns, and workflows-examples/revert-to-preferred-size.yml brings it
 *    home. A timeline.
 * Every run's job summary is kept in one directory (`--out`, emptied first), as markdown and as a
 * web page rendered as GitHub renders it; everything else the demo made is removed when it ends,
 * or when it is stopped (Ctrl-C, SIGTERM).
 * One clock: the emulated Azure runs on real time, as the agents and the action do, with Azure's
 * timings and the wait for GitHub's runner shortened (`--speed`, 10-fold by default: a 30 s
 * eviction notice lasts 3 s, a start 4 s, a job's wait for its runner 1 s),
 * so every time in a job summary is on the same clock as the others.
 * `--json` prints one object for scripts instead.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { agentEnv, msg, startAgent, type AgentProcess } from '../agents/agent-processes.js';
import { DEFAULT_SUMMARIES_DIR, DemoSummaries } from './demo-summaries.js';
import type { RunRecord } from '../github/runner.js';
import { sampleFleet, type Role } from '../fleets/sample-fleet.js';
import { scratchTmpdir, stopOnSignals } from '../scratch.js';
import { GITHUB_LIMITS } from '../github/actions-limits.js';
import { Emulator, type EmulatorOptions } from '../server.js';
import { DEFAULT_TIMING, type Timing } from '../azure/spot.js';
import { fallbackAct, type FallbackStory } from './demo-fallback.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    speed: { type: 'string', default: '10' },
    help: { type: 'boolean', default: false }
  }
});
if (values.help) {
  console.log('Usage: npm run demo -- [--json] [--out <dir for the job summaries>] [--speed 10]');
  process.exit(0);
}
const say = (line = '') => values.json || console.log(line);
// At 10-fold, the 30 s eviction notice lasts 3 s: enough for a real agent process to see the
// Preempt and for GitHub's runner to start the action before the VM is deallocated.
const speed = Number(values.speed);
if (!Number.isFinite(speed) || speed < 1 || speed > 100) {
  console.error(
    `--speed must be a number from 1 to 100 (how many times shorter Azure's timings are), not "${values.speed}"`
  );
  process.exit(2);
}
const summaries = new DemoSummaries(values.out ?? DEFAULT_SUMMARIES_DIR());
const scratch = scratchTmpdir('azure-spot-restarter-demo-run-');
const TOKEN = 'ghs_demoInstallationToken00000000000000';

const fleet = sampleFleet({ subscriptions: 3, eligible: 24, decoysPerKind: 2 });
// A render farm: a Uniform scale set whose opt-in tag sits on the scale set, as Uniform tags do.
fleet.scaleSets = [
  {
    subscriptionId: fleet.subscriptions[0]!,
    resourceGroup: 'rg-render',
    name: 'render-farm',
    orchestration: 'Uniform',
    tags: { AttemptRestartAfterEviction: 'true' },
    instances: 6
  }
];
fleet.github = {
  repository: 'acme/spot-fleet',
  tokens: [{ token: TOKEN, repositories: ['acme/spot-fleet'] }]
};
// Resource Health annotations arrive a minute and a half after the eviction (Azure: within about 5).
const emu = await Emulator.start({ fleet, timeScale: 1, ...shortened(speed, { annotationLagS: 90 }) });
const agents: AgentProcess[] = [];
// Everyone in the story: the fleet's VMs, and the farm's instances (four of them will be evicted).
const farm = emu.scaleSet('render-farm').instances.map((vm, i) => ({
  name: vm.name,
  subscriptionId: vm.subscriptionId,
  role: (i < 4 ? 'eligible' : 'running') as Role
}));
const members = [...fleet.vms, ...farm];
const evictedFarm = farm.filter(v => v.role === 'eligible').length;
stopOnSignals(async () => {
  await Promise.all(agents.map(a => a.stop()));
  await emu.stop();
  scratch.remove();
});
try {
  say(`Emulated Azure + GitHub on ${emu.url}`);
  say(
    `One clock for Azure, the agents and the action: real time, with Azure's timings ${speed}-fold shorter (a 30 s eviction notice lasts ${30 / speed} s, a start ${40 / speed} s, Resource Health's annotations come ${90 / speed} s after an eviction, a job waits ${GITHUB_LIMITS.runnerStartLatencyS / speed} s for its runner).`
  );
  say(
    `Fleet in ${fleet.subscriptions.length} subscriptions: ${fleet.vms.length} VMs (${count('eligible')} opted-in Spot VMs, ${fleet.vms.length - count('eligible')} decoys) and the Uniform scale set render-farm (${farm.length} instances, ${evictedFarm} of them to be evicted).`
  );

  // Act 1: the fast path.
  const withAgents = fleet.vms.filter(v => v.role === 'eligible').slice(0, 4);
  say();
  say(`Act 1 — the fast path: the agent runs on ${withAgents.map(v => v.name).join(', ')}.`);
  for (const v of withAgents) {
    agents.push(
      startAgent(
        agentEnv(emu, emu.vm(v.name), { SPOT_AGENT_GITHUB_TOKEN: TOKEN, SPOT_AGENT_POLL_INTERVAL: '200ms' })
      )
    );
  }
  await Promise.all(agents.map(a => a.waitFor(msg('watching Scheduled Events'))));
  const preemptAt = new Map<string, number>();
  for (const v of withAgents) {
    emu.model.evict(emu.vm(v.name), 'simulated');
    preemptAt.set(v.name, emu.clock.now());
  }
  await Promise.all(agents.map(a => a.waitFor(msg('repository_dispatch sent'), 30_000)));
  const loopRuns = await emu.settle();
  await waitFor(
    () => withAgents.every(v => emu.vm(v.name).powerState === 'running'),
    'the fast-path VMs to run',
    30_000
  ).catch(() => undefined);
  const timeline = withAgents.map((v, i) => loopTimeline(v.name, agents[i]!, loopRuns));
  const cancelled = loopRuns.filter(r => r.conclusion === 'cancelled').length;
  say(
    `${loopRuns.length} dispatch runs, one concurrency group: GitHub cancelled ${cancelled} as pending, and the run in progress took their VMs from their names.`
  );
  // A run GitHub cancelled as pending never ran: it has no summary.
  for (const r of loopRuns) if (r.conclusion !== 'cancelled') summaries.save(1, r);
  if (!values.json) {
    table(
      [
        'VM',
        'Preempt',
        'seen by agent',
        'dispatch sent',
        'run started',
        'deallocated',
        'start accepted',
        'running',
        'healthy'
      ],
      timeline.map(t => [
        t.vm,
        '0.0s',
        ...[t.seen, t.dispatched, t.runStarted, t.deallocated, t.startAccepted, t.running, t.healthy].map(
          s => (s === undefined ? '—' : `+${s.toFixed(1)}s`)
        )
      ])
    );
    say(
      `(seconds after Azure announced the Preempt, on the real clock: the notice is ${30 / speed} s, a start takes ${40 / speed} s, the guest agent is Ready ${emu.model.timing.agentReadyS} s after running)`
    );
  }
  await Promise.all(agents.map(a => a.stop()));

  // Act 2: the safety net.
  const wave = members.filter(
    v => (v.role === 'eligible' && !withAgents.includes(v as never)) || v.role === 'delete-policy'
  );
  for (const vm of wave) emu.model.evict(emu.vm(vm.name), 'simulated');
  say();
  say(
    `Act 2 — the safety net: Preempt for ${wave.length} VMs without an agent (${count('delete-policy')} of them with eviction policy Delete, 4 instances of the Uniform scale set render-farm).`
  );
  await waitFor(
    () => wave.every(v => emu.vm(v.name).deleted || emu.vm(v.name).argPowerState === 'deallocated'),
    'the wave to be deallocated',
    30_000
  );
  const before = new Map(members.map(v => [v.name, state(v.name)]));
  say('GitHub runs the schedule: workflows-examples/restart-on-schedule.yml …');
  const [early] = await emu.schedule('restart-on-schedule.yml');
  summaries.save(2, early!);
  const earlyOutcomes = outcomesOf(early!);
  const awaiting = [...earlyOutcomes.values()].filter(o => o === 'awaiting-evidence').length;
  say(
    `Run #${early!.id} came before Azure's evidence: ${awaiting} VM(s) deallocated but awaiting-evidence (Resource Health has not said yet whether an eviction or a person stopped them), so none was started.`
  );
  await waitFor(
    () => wave.every(v => emu.vm(v.name).deleted || emu.model.settled(emu.vm(v.name))),
    'the evidence to reach Resource Graph',
    60_000
  );
  say('The annotations arrive (VirtualMachinePreempted); GitHub runs the schedule again …');
  const [run] = await emu.schedule('restart-on-schedule.yml');
  summaries.save(2, run!);
  const eligible = members.filter(v => v.role === 'eligible');
  await waitFor(
    () => eligible.every(v => emu.vm(v.name).powerState === 'running'),
    'the restarted VMs to be running',
    30_000
  ).catch(() => undefined);

  const outcomes = outcomesOf(run!);
  const decoys = members.filter(v => v.role !== 'eligible');
  const touched = decoys.filter(v => emu.model.vms.get(vmKey(v.name))!.startsAccepted > 0).map(v => v.name);
  const runningNow = eligible.filter(v => emu.vm(v.name).powerState === 'running').map(v => v.name);
  const startedTwice = eligible
    .filter(v => emu.model.vms.get(vmKey(v.name))!.startsAccepted > 1)
    .map(v => v.name);
  const runs = [...loopRuns, early!, run!];
  // Act 3 prints after the table of act 2.
  const act3 = async () => {
    const story = await fallbackAct(say, shortened(speed, { annotationLagS: 30 }));
    for (const r of story.runs) summaries.save(3, r);
    return story;
  };
  let fallback: FallbackStory | undefined;

  if (values.json) {
    fallback = await act3();
    console.log(
      JSON.stringify({
        eligible: eligible.map(v => ({ name: v.name, kind: kindOf(v.name) })),
        started: runningNow.map(name => ({ name, kind: kindOf(name) })),
        decoys: decoys.length,
        decoys_touched: touched.length,
        started_twice: startedTwice.length,
        runs: runs.map(r => ({
          workflow: r.workflow,
          event: r.event,
          exitCode: r.exitCode,
          conclusion: r.conclusion,
          counts: JSON.parse(r.outputs.counts ?? '{}'),
          summary: summaries.saved.find(s => s.act < 3 && s.run === r.id)?.markdown ?? null
        })),
        loop: timeline,
        fallback: fallback.summary,
        summaries: summaries.saved,
        vms: members.map(v => ({
          name: v.name,
          kind: kindOf(v.name),
          role: v.role,
          before: before.get(v.name),
          after: state(v.name),
          first_outcome: earlyOutcomes.get(v.name) ?? null,
          outcome: outcomes.get(v.name) ?? null,
          healthy: timeline.find(t => t.vm === v.name)?.healthy ?? null
        }))
      })
    );
  } else {
    say();
    table(
      ['VM', 'Subscription', 'Kind', 'Before runs', 'First run', 'Second run', 'After runs'],
      members.map(v => [
        v.name,
        v.subscriptionId.slice(0, 8),
        describe(v.role, withAgents.includes(v as never), kindOf(v.name)),
        before.get(v.name)!,
        earlyOutcomes.get(v.name) ?? '—',
        outcomes.get(v.name) ?? '—',
        state(v.name)
      ])
    );
    say();
    say(
      `Run #${run!.id} (${run!.workflow}) exited ${run!.exitCode}: ${JSON.stringify(JSON.parse(run!.outputs.counts ?? '{}'), (_k, val) => (val === 0 ? undefined : val))}`
    );
    say(
      `${runningNow.length} of ${eligible.length} evicted, opted-in VMs are running again (${eligible.length - evictedFarm} VMs and ${evictedFarm} scale-set instances; ${withAgents.length} by the fast path); ${touched.length} of the ${decoys.length} others touched (${decoys.length - (farm.length - evictedFarm)} decoy VMs, ${farm.length - evictedFarm} instances never evicted); ${startedTwice.length} VMs started twice.`
    );
    fallback = await act3();
    say();
    say(
      `The job summaries of the ${summaries.saved.length} runs are in ${summaries.dir}, as markdown (what the step wrote) and as a page rendered like GitHub's (open the .html in a browser):`
    );
    for (const s of summaries.saved)
      say(
        `  act ${s.act}, run #${s.run} ${s.workflow} (${s.event}): ${basename(s.markdown)}, ${basename(s.html)}`
      );
  }
  const allGood =
    runningNow.length === eligible.length &&
    touched.length === 0 &&
    startedTwice.length === 0 &&
    fallback.summary.reverted &&
    // Runs GitHub cancelled as pending never ran: their VMs were taken by the run in progress.
    runs.every(r => r.exitCode === 0 || r.conclusion === 'cancelled');
  process.exitCode = allGood ? 0 : 1;
} finally {
  await Promise.all(agents.map(a => a.stop()));
  await emu.stop();
  scratch.remove();
}

/**
 * Azure's timings and the wait for GitHub's runner, `speed`-fold shorter, for an emulator on the
 * real clock (time scale 1). Its throttling keeps Azure's own numbers: the demo is far too small
 * to meet them.
 */
function shortened(
  speed: number,
  overrides: Partial<Timing> = {}
): Pick<EmulatorOptions, 'timing' | 'githubLimits'> {
  const timing = { ...DEFAULT_TIMING, ...overrides };
  return {
    timing: Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, v / speed])) as Partial<Timing>,
    githubLimits: { runnerStartLatencyS: GITHUB_LIMITS.runnerStartLatencyS / speed }
  };
}

function outcomesOf(run: RunRecord): Map<string, string> {
  const result = JSON.parse(run.outputs.result ?? '{"vms":[]}') as {
    vms: { name: string; outcome: string }[];
  };
  return new Map(result.vms.map(r => [r.name, r.outcome]));
}

function loopTimeline(name: string, agent: AgentProcess, runs: RunRecord[]) {
  const t0 = preemptAtOf(name);
  const emulatedSince = (realIso: unknown) =>
    typeof realIso === 'string' ? (emu.clock.emulatedAt(Date.parse(realIso)) - t0) / 1000 : undefined;
  const since = (realMs: number | undefined) =>
    realMs === undefined ? undefined : (emu.clock.emulatedAt(realMs) - t0) / 1000;
  const model = (what: string) => {
    const entry = emu.model.timeline.find(t => t.vm === name && t.what === what && t.at >= t0);
    return entry ? (entry.at - t0) / 1000 : undefined;
  };
  // The run that took the VM: its own dispatch's, or — when GitHub cancelled that one as pending in
  // the busy concurrency group — the run in progress, which read its VM from the cancelled run's name.
  const id = emu.vm(name).id.toLowerCase();
  const run = runs.find(r =>
    (JSON.parse(r.outputs.started ?? '[]') as string[]).some(s => s.toLowerCase() === id)
  );
  return {
    vm: name,
    seen: emulatedSince(agent.logs.find(msg('scheduled for this VM'))?.time),
    dispatched: emulatedSince(agent.logs.find(msg('repository_dispatch sent'))?.time),
    dispatchReceived: since(
      emu.dispatches.find(
        d => String(d.clientPayload.vmResourceId).toLowerCase() === emu.vm(name).id.toLowerCase()
      )?.receivedAt
    ),
    runStarted: since(run?.startedAt),
    deallocated: model('deallocated'),
    startAccepted: model('start accepted'),
    running: model('running'),
    // verify-health (the example workflow asks for guest-agent): when the run that started the VM
    // saw its agent Ready. With sweep-on-dispatch and GitHub's runner latency, that may be another
    // VM's run: the VM's own then finds it running.
    healthy: emulatedSince(runs.map(r => vmResultOf(r, name)?.healthyAt).find(Boolean)),
    runExitCode: run?.exitCode ?? null
  };
}

function vmResultOf(run: RunRecord | undefined, name: string): { healthyAt?: string } | undefined {
  const result = JSON.parse(run?.outputs.result ?? '{"vms":[]}') as {
    vms: { name: string; healthyAt?: string }[];
  };
  return result.vms.find(r => r.name === name);
}

function preemptAtOf(name: string): number {
  return emu.model.timeline.find(t => t.vm === name && t.what.startsWith('Preempt scheduled'))!.at;
}

function count(role: Role): number {
  return fleet.vms.filter(v => v.role === role).length;
}

function vmKey(name: string): string {
  return emu.vm(name).key;
}

function state(name: string): string {
  const vm = emu.model.vms.get(vmKey(name))!;
  return vm.deleted ? 'deleted' : vm.powerState;
}

function kindOf(name: string): string {
  return emu.vm(name).kind ?? 'vm';
}

function describe(role: Role, agent: boolean, kind: string): string {
  if (kind === 'vmss-uniform')
    return role === 'eligible' ? 'Uniform scale set, tagged' : 'scale set: never evicted';
  return {
    eligible: agent ? 'Spot, tagged, agent' : 'Spot, tagged',
    untagged: 'decoy: no tag',
    regular: 'decoy: regular priority',
    'delete-policy': 'decoy: policy Delete',
    'user-stopped': 'decoy: stopped by user',
    running: 'decoy: never evicted'
  }[role];
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  say(line(header));
  say(widths.map(w => '─'.repeat(w)).join('  '));
  for (const r of rows) say(line(r));
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 25));
  }
}
