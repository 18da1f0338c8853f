/**
 * `npm run bench` (`-- --json` for one JSON object, `-- --only agent` for the agent part alone):
 * how fast capacity comes back and what it costs,
 * measured side by side in one run against the emulator with Azure's documented throttling:
 * 1. fleet restore against the throttle-bound limit, and against the serial baseline;
 * 2. eviction to start for a dispatched run;
 * 3. the agent: Preempt-to-dispatch latency, memory against a bare Node process, CPU;
 * 4. the action's cold start against a bare Node process, and the bundle's size;
 * 5. a mass eviction (`--only wave`): 300 VMs of one size evicted within a minute, capacity back over
 *    20 minutes, against GitHub's published limits — what it costs in runs, billed minutes and
 *    concurrent jobs, how many dispatches GitHub refused, and how long each VM was down.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { agentEnv, msg, startAgent, type AgentProcess } from '../emulator/agents/agent-processes.js';
import { shippedAgentLaunch } from '../emulator/agents/shipped-agent.js';
import { githubPost, preemptPayload } from '../emulator/client.js';
import { DEFAULT_APP } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import { scaleFleet, uniformFleet } from '../emulator/fleets/scale-fleet.js';
import { Emulator } from '../emulator/server.js';
import { LIMITS } from '../emulator/azure/throttle.js';
import type { AgentBehaviour } from '../emulator/agents/agent-fleet.js';
import { runWave, type WaveResult } from '../emulator/scenarios/wave-scenario.js';
import { JOB_OUTPUTS_MAX_UTF16_BYTES, STEP_SUMMARY_MAX_BYTES } from '../../src/report/github-limits.js';
import { buildSummary } from '../../src/report/summary.js';
import { syntheticReport } from '../helpers/synthetic-report.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    vms: { type: 'string', default: '10000' },
    subscriptions: { type: 'string', default: '10' }
  }
});
const ALONE = ['agent', 'uniform', 'restore', 'wave'];
if (values.only !== undefined && !ALONE.includes(values.only)) {
  console.error(
    `bench: --only is "${values.only}"; expected one of ${ALONE.join(', ')} (the parts that run alone)`
  );
  process.exit(2);
}
const say = (line = '') => values.json || console.log(line);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH_WORKFLOWS = fileURLToPath(new URL('./workflows', import.meta.url));
const SECRET = 'bench-secret';
const EVICTED = 0.3;
const LATENCY_MS = 100; // emulated ARM round trip
/**
 * An hour of polling at the default 1 s: the idle agent's memory is read only after this many polls
 * (about 12 minutes at its 200 ms). `--quick` reads it after 300, as a smoke test, not a figure.
 */
const IDLE_POLLS = values.quick ? 300 : 3600;
/** The agent as users run it (startAgent's default): the systemd unit's Node.js flags and environment. */
const SHIPPED = shippedAgentLaunch();

interface RestoreResult {
  vms: number;
  /** Standalone VMs, or instances of Uniform scale sets (100 per scale set). */
  kind: 'vm' | 'vmss-uniform';
  subscriptions: number;
  timeScale: number;
  eligible: number;
  accepted_s: number;
  running_s: number;
  bound_accepted_s: number;
  bound_running_s: number;
  restore_vs_limit: number;
  /** Start accepted ÷ the bound for accepting every start: the pacing, without the 40 s boot behind it. */
  accepted_vs_limit: number;
  /** Requests to Azure (Resource Manager, Resource Graph, Entra ID) per VM the run brought back to running. */
  requests_per_restored_vm: number;
  arg_requests: number;
  throttled_429: number;
  throttled_by_kind: Record<string, number>;
  throttle_failures: number;
  started: number;
  decoys_touched: number;
  run_exit_code: number | null;
  /** The run's job summary in bytes and its largest output in UTF-16 bytes, as GitHub counts them. */
  summary_bytes: number;
  largest_output_bytes: number;
  /** GitHub's size limits the run broke (none, or the run would have lost its summary or outputs). */
  github_limit_errors: string[];
  /** CPU seconds the emulator (this process) and the action (its child) spent on the run. */
  emulator_cpu_s: number;
  action_cpu_s: number;
  /** Requests the emulator answered, and its CPU per request (TLS and JSON included). */
  emulator_requests: number;
  requests_by_kind: Record<string, number>;
  tls_connections: number;
  emulator_cpu_ms_per_request: number;
}

/** Requests that reached Azure's emulated services: not GitHub's (OIDC token, dispatches) nor IMDS. */
function azureRequests(byKind: Record<string, number>): number {
  return Object.entries(byKind)
    .filter(([kind]) => !['oidc', 'dispatch', 'imds'].includes(kind))
    .reduce((n, [, v]) => n + v, 0);
}

/** CPU seconds of this process, and of its children that have ended (cutime + cstime). */
function cpuSeconds(): { self: number; children: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const usage = process.cpuUsage();
  return {
    self: (usage.user + usage.system) / 1e6,
    children: (Number(fields[13]) + Number(fields[14])) / 100
  };
}

/** A fleet of standalone VMs, or (`uniform`) of Uniform scale sets of 100 instances each. */
function fleet(vms: number, subs: number, uniform = false) {
  return uniform
    ? uniformFleet(vms / 100, 100, subs, { evicted: EVICTED, secret: SECRET })
    : scaleFleet(vms, subs, { evicted: EVICTED, secret: SECRET });
}

/** What Azure's own limits allow at best, in real seconds at this time scale. */
function lowerBound(f: ReturnType<typeof fleet>, emu: Emulator): { accepted: number; running: number } {
  const scale = emu.clock.scale;
  // Every Spot VM is read, one page per 1000 (the query filters only on what an eviction does not change).
  const candidates =
    f.vms.length + (f.scaleSets ?? []).reduce((n, ss) => n + (ss.instances as unknown[]).length, 0);
  const pages = Math.max(1, Math.ceil(candidates / 1000));
  const argS =
    pages * (LATENCY_MS / 1000) + Math.floor((pages - 1) / LIMITS.argPerWindow) * (LIMITS.argWindowMs / 1000);
  let startsS = 0;
  for (const sub of f.subscriptions) {
    // Uniform instances: one instance-view read each, but one start call per scale set.
    const farms = (f.scaleSets ?? []).filter(ss => ss.subscriptionId === sub);
    if (farms.length) {
      const instances = f.eligible.filter(n => farms.some(ss => n.startsWith(`${ss.name}_`))).length;
      const reads = Math.max(0, instances - LIMITS.armReads.capacity) / LIMITS.armReads.perSecond;
      startsS = Math.max(
        startsS,
        reads,
        Math.max(0, farms.length - LIMITS.armWrites.capacity) / LIMITS.armWrites.perSecond
      );
      continue;
    }
    const mine = f.vms.filter(v => v.subscriptionId === sub && f.eligible.includes(v.name));
    const writes = Math.max(0, mine.length - LIMITS.armWrites.capacity) / LIMITS.armWrites.perSecond;
    const reads = Math.max(0, mine.length - LIMITS.armReads.capacity) / LIMITS.armReads.perSecond;
    let compute = 0;
    for (const region of new Set(mine.map(v => v.location))) {
      const n = mine.filter(v => v.location === region).length;
      compute = Math.max(
        compute,
        (Math.max(0, n - LIMITS.computeUpdatePerRegion.capacity) * 60) /
          LIMITS.computeUpdatePerRegion.perMinute
      );
    }
    startsS = Math.max(startsS, writes, reads, compute);
  }
  const accepted = (argS + startsS + LATENCY_MS / 1000) / scale;
  return { accepted, running: accepted + emu.model.timing.startDurationS / scale };
}

async function restore(
  vms: number,
  subs: number,
  timeScale: number,
  uniform = false
): Promise<RestoreResult> {
  const f = fleet(vms, subs, uniform);
  const emu = await Emulator.start({
    fleet: f,
    timeScale,
    latencyMs: LATENCY_MS / timeScale,
    workflowsDir: BENCH_WORKFLOWS,
    runDispatchedWorkflows: false
  });
  try {
    const cpuBefore = cpuSeconds();
    const [run] = await emu.schedule('sweep.yml');
    const cpuAfter = cpuSeconds();
    const emulatorRequests = Object.values(emu.requests).reduce((n, v) => n + v, 0);
    if (emu.aborted) console.error(`bench: ${emu.aborted} request(s) abandoned by the action mid-request`);
    const t0 = run!.startedAt!;
    const times = (what: string) =>
      f.eligible
        .map(name => emu.model.timeline.find(t => t.vm === name && t.what === what)?.at)
        .filter((x): x is number => x !== undefined);
    const accepted = times('start accepted');
    const running = times('running');
    const lastReal = (xs: number[]) =>
      xs.length ? (Math.max(...xs.map(x => emu.clock.realAt(x))) - t0) / 1000 : NaN;
    const bound = lowerBound(f, emu);
    const results = JSON.parse(run!.outputs.result ?? '{"vms":[]}').vms as {
      outcome: string;
      errorCode?: string;
      detail: string;
    }[];
    const touched = f.decoys.filter(n => emu.vm(n).startsAccepted > 0).length;
    const runningS = lastReal(running);
    return {
      vms,
      kind: uniform ? 'vmss-uniform' : 'vm',
      subscriptions: subs,
      timeScale,
      eligible: f.eligible.length,
      accepted_s: round(lastReal(accepted)),
      running_s: round(runningS),
      bound_accepted_s: round(bound.accepted),
      bound_running_s: round(bound.running),
      restore_vs_limit: round(runningS / bound.running),
      accepted_vs_limit: round(lastReal(accepted) / bound.accepted),
      requests_per_restored_vm: round(azureRequests(emu.requests) / Math.max(1, running.length)),
      arg_requests: emu.requests.arg ?? 0,
      throttled_429: Object.entries(emu.answers)
        .filter(([k]) => k.endsWith(':429'))
        .reduce((n, [, v]) => n + v, 0),
      throttled_by_kind: Object.fromEntries(Object.entries(emu.answers).filter(([k]) => k.endsWith(':429'))),
      throttle_failures: results.filter(
        r => r.outcome === 'failed' && /429|TooManyRequests|throttl/i.test(`${r.errorCode} ${r.detail}`)
      ).length,
      started: accepted.length,
      decoys_touched: touched,
      run_exit_code: run!.exitCode,
      summary_bytes: run!.summaryBytes,
      largest_output_bytes: run!.largestOutputBytes,
      github_limit_errors: run!.limitErrors,
      emulator_cpu_s: round(cpuAfter.self - cpuBefore.self),
      action_cpu_s: round(cpuAfter.children - cpuBefore.children),
      emulator_requests: emulatorRequests,
      requests_by_kind: { ...emu.requests },
      tls_connections: emu.tlsConnections,
      emulator_cpu_ms_per_request: round(((cpuAfter.self - cpuBefore.self) * 1000) / emulatorRequests)
    };
  } finally {
    await emu.stop();
  }
}

/**
 * The serial baseline runs at a high time scale (at 1 it would take hours); our side of the
 * comparison is the time-scale-1 restore of the same fleet. The baseline's time is taken back to
 * Azure's pace: its waits (round trips, start durations) scaled up, its own CPU time as it was.
 */
async function serialBaseline(
  ours: RestoreResult,
  timeScale: number
): Promise<{
  serial_s: number;
  serial_real_s: number;
  serial_time_scale: number;
  ours_s: number;
  restore_vs_serial: number;
}> {
  const f = fleet(ours.vms, ours.subscriptions);
  const emu = await Emulator.start({
    fleet: f,
    timeScale,
    latencyMs: LATENCY_MS / timeScale,
    runDispatchedWorkflows: false
  });
  try {
    const started = Date.now();
    const cpuBefore = cpuSeconds().children;
    // Not spawnSync: the emulator serving the baseline lives in this process's event loop.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./serial-baseline.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          ...emu.processEnv(),
          ARM: emu.url,
          AUTHORITY: emu.url,
          TENANT: emu.tenantId,
          CLIENT: DEFAULT_APP,
          SECRET,
          SUBSCRIPTIONS: f.subscriptions.join(',')
        },
        stdio: ['ignore', 'pipe', 'pipe']
      }
    );
    let stderr = '';
    child.stderr.on('data', c => (stderr += c));
    const code = await new Promise<number | null>(r => child.on('close', r));
    if (code !== 0) throw new Error(`serial baseline failed: ${stderr}`);
    const real = (Date.now() - started) / 1000;
    const cpu = cpuSeconds().children - cpuBefore;
    const serial = (real - cpu) * timeScale + cpu;
    return {
      serial_s: round(serial),
      serial_real_s: round(real),
      serial_time_scale: timeScale,
      ours_s: ours.running_s,
      restore_vs_serial: round(serial / ours.running_s)
    };
  } finally {
    await emu.stop();
  }
}

/** A dispatched run already waiting: from the VM being deallocated to its start being accepted. */
async function evictionToStart(samples: number): Promise<number[]> {
  const ids = subscriptionIds(1);
  const vms = Array.from({ length: samples }, (_, i) => ({
    subscriptionId: ids[0]!,
    resourceGroup: 'rg',
    name: `vm-${i}`,
    tags: TAG
  }));
  const emu = await Emulator.start({
    fleet: {
      subscriptions: ids,
      vms,
      github: {
        repository: 'acme/spot-fleet',
        tokens: [{ token: 't0k3n-bench', repositories: ['acme/spot-fleet'] }]
      }
    },
    timeScale: 1,
    latencyMs: LATENCY_MS,
    timing: { evictionNoticeS: 4, deallocateDurationS: 2, startDurationS: 3, argLagS: 1 }
  });
  try {
    for (const spec of vms) {
      const vm = emu.vm(spec.name);
      const event = emu.model.evict(vm, 'simulated')!;
      const answer = await githubPost(emu, '/repos/acme/spot-fleet/dispatches', 't0k3n-bench', {
        event_type: 'spot-vm-preempted',
        client_payload: preemptPayload(vm, event)
      });
      if (answer.status !== 204) throw new Error(`dispatch answered ${answer.status}`);
    }
    await emu.settle();
    return vms.map(spec => {
      const at = (what: string) => emu.model.timeline.find(t => t.vm === spec.name && t.what === what)!.at;
      return round((at('start accepted') - at('deallocated')) / 1000);
    });
  } finally {
    await emu.stop();
  }
}

/** The agent: Preempt-to-dispatch latency over many events (run on a quiet machine), and its footprint. */
async function agentBench(events: number, agents: number, idle: { stop(): Promise<Footprint> }) {
  const ids = subscriptionIds(1);
  const names = Array.from({ length: agents }, (_, i) => `agent-vm-${i}`);
  const emu = await Emulator.start({
    fleet: {
      subscriptions: ids,
      vms: names.map(name => ({ subscriptionId: ids[0]!, resourceGroup: 'rg', name, tags: TAG })),
      github: {
        repository: 'acme/spot-fleet',
        tokens: [{ token: 't0k3n-bench', repositories: ['acme/spot-fleet'] }]
      }
    },
    runDispatchedWorkflows: false
  });
  const running: AgentProcess[] = [];
  try {
    const workers = names
      .slice(0, agents)
      .map(n =>
        startAgent(
          agentEnv(emu, emu.vm(n), { SPOT_AGENT_GITHUB_TOKEN: 't0k3n-bench', SPOT_AGENT_POLL_INTERVAL: '1s' })
        )
      );
    running.push(...workers);
    await Promise.all(running.map(a => a.waitFor(msg('watching Scheduled Events'))));
    const latencies: number[] = [];
    await Promise.all(
      workers.map(async (_, w) => {
        const vm = emu.vm(names[w]!);
        for (let i = 0; i < events / agents; i++) {
          await new Promise(r => setTimeout(r, Math.random() * 1000)); // any phase of the poll
          const event = emu.model.announce(vm, 'Preempt');
          const shown = Date.now();
          while (!emu.dispatches.some(d => d.clientPayload.eventId === event.EventId))
            await new Promise(r => setTimeout(r, 5));
          latencies.push(
            emu.dispatches.find(d => d.clientPayload.eventId === event.EventId)!.receivedAt - shown
          );
          emu.model.withdraw(vm, event.EventId);
        }
      })
    );
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
    const footprint: Footprint = await idle.stop();
    return {
      events: latencies.length,
      agent_dispatch_p50_ms: pct(50),
      agent_dispatch_p99_ms: pct(99),
      agent_poll_interval_ms: 1000,
      ...footprint
    };
  } finally {
    await Promise.all(running.map(a => a.stop()));
    await emu.stop();
  }
}

interface Footprint {
  agent_rss_bytes: number;
  bare_node_rss_bytes: number;
  agent_rss_ratio: number;
  idle_agent_seconds: number;
  idle_agent_polls: number;
  agent_cpu_seconds_per_hour: number;
}

/**
 * An idle agent, started as shipped, polling its own emulated IMDS 5× faster than the default for
 * the whole benchmark, next to a bare Node process started with it; read after at least IDLE_POLLS
 * polls (an hour's worth at 1 s), however short the rest of the run.
 */
async function idleAgent() {
  const ids = subscriptionIds(1);
  const emu = await Emulator.start({
    fleet: {
      subscriptions: ids,
      vms: [{ subscriptionId: ids[0]!, resourceGroup: 'rg', name: 'idle-vm', tags: TAG }]
    },
    runDispatchedWorkflows: false
  });
  const agent = startAgent(
    agentEnv(emu, emu.vm('idle-vm'), {
      SPOT_AGENT_GITHUB_TOKEN: 't0k3n-bench',
      SPOT_AGENT_POLL_INTERVAL: '200ms'
    })
  );
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await agent.waitFor(msg('watching Scheduled Events'));
  const started = Date.now();
  const rss = (pid: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  const cpuS = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  return {
    async stop(): Promise<Footprint> {
      while ((emu.requests.imds ?? 0) < IDLE_POLLS + 1) await new Promise(r => setTimeout(r, 1000));
      const seconds = (Date.now() - started) / 1000;
      const result = {
        agent_rss_bytes: rss(agent.child.pid!),
        bare_node_rss_bytes: rss(bare.pid!),
        agent_rss_ratio: round(rss(agent.child.pid!) / rss(bare.pid!)),
        idle_agent_seconds: round(seconds),
        idle_agent_polls: emu.requests.imds ?? 0,
        // Normalised to the default 1 s poll: this agent polled 5× as often.
        agent_cpu_seconds_per_hour: round(((cpuS(agent.child.pid!) / seconds) * 3600) / 5)
      };
      bare.kill();
      await agent.stop();
      await emu.stop();
      return result;
    }
  };
}

/** From `node dist/index.js` starting to its first HTTP request, against a bare Node doing one request. */
async function coldStart(reps: number) {
  const hits: number[] = [];
  const server = createServer((req, res) => {
    hits.push(Date.now());
    res.statusCode = 500;
    res.end('{}');
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token?x=1`;
  const measure = async (args: string[], env: Record<string, string>) => {
    const before = hits.length;
    const started = Date.now();
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: 'ignore'
    });
    while (hits.length === before) await new Promise(r => setTimeout(r, 1));
    const ms = hits[before]! - started;
    child.kill();
    await new Promise(r => child.on('close', r));
    return ms;
  };
  const action: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      action.push(
        await measure([`${ROOT}dist/index.js`], {
          GITHUB_EVENT_NAME: 'schedule',
          'INPUT_CLIENT-ID': DEFAULT_APP,
          'INPUT_TENANT-ID': subscriptionIds(1)[0]!,
          'INPUT_AUTHORITY-HOST': 'https://127.0.0.1:9',
          'INPUT_RESOURCE-MANAGER-ENDPOINT': 'https://127.0.0.1:9',
          ACTIONS_ID_TOKEN_REQUEST_URL: url,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x'
        })
      );
      bare.push(await measure(['-e', `require('http').get(${JSON.stringify(url)}, r => r.resume())`], {}));
    }
  } finally {
    server.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // The entry and every chunk it may load (dist/chunks/), whatever their extension.
  const bundle = readdirSync(`${ROOT}dist`, { recursive: true, encoding: 'utf8' })
    .filter(f => /\.c?js$/.test(f))
    .reduce((n, f) => n + statSync(`${ROOT}dist/${f}`).size, 0);
  return {
    cold_start_first_request_ms: median(action),
    bare_node_first_request_ms: median(bare),
    cold_start_ratio: round(median(action) / median(bare)),
    bundle_bytes: bundle,
    agent_bundle_bytes: statSync(`${ROOT}agent/dist/azure-spot-restarter-agent.cjs`).size
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * The fast path before it was designed for waves, run beside today's in one bench: its workflow
 * (`wave-before.yml`: one run per dispatched VM, each in its own concurrency group, each with its
 * own sweep) and its agent's dispatch as it was at this commit (taken from git), with this
 * checkout's action — the action of that commit no longer passes the emulator, which has since
 * become stricter than it was about Resource Graph, so the "before" side measures the design, not
 * an old action's failures.
 */
const BEFORE_COMMIT = '1265ebcbc7958b71442a82e0b0c7a14be0bb307e';
const WAVE_SCALE = 20;

interface Design {
  workflow: string;
  distPath?: string;
  agent?: AgentBehaviour;
}

async function designBefore(): Promise<Design> {
  const dir = mkdtempSync(join(tmpdir(), 'wave-before-'));
  const tar = join(dir, 'before.tar');
  try {
    execFileSync(
      'git',
      [
        'archive',
        '--format=tar',
        '-o',
        tar,
        BEFORE_COMMIT,
        'dist',
        'agent/src',
        'src/plan/payload.ts',
        'src/azure/resource-id.ts'
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] }
    );
  } catch (error) {
    throw new Error(
      `bench: the wave's "before" side is the agent at commit ${BEFORE_COMMIT}, read with git archive: ${(error as Error).message.trim()} (a clone with its history is needed)`
    );
  }
  execFileSync('tar', ['-xf', tar, '-C', dir]);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const old = (await import(pathToFileURL(join(dir, 'agent/src/dispatch.ts')).href)) as {
    sendDispatch: AgentBehaviour['dispatch'];
  };
  return {
    workflow: `${ROOT}test/bench/workflows/wave-before.yml`,
    // agent/src/monitor.ts at that commit: two minutes past NotBefore, at least a minute from now.
    agent: {
      dispatch: old.sendDispatch,
      deadline: (notBefore, now) => Math.max((notBefore ?? now) + 120_000, now + 60_000)
    }
  };
}

/** The wave, and one eviction alone under the same recall (its capacity back 20 minutes later, as for the wave's last VM). */
async function waveOf(design: Design, quick: boolean) {
  const single = await runWave({
    ...design,
    waveVms: 1,
    elsewhere: 0,
    timeScale: WAVE_SCALE,
    capacitySteps: 1
  });
  const wave = await runWave({
    ...design,
    waveVms: quick ? 30 : 300,
    elsewhere: quick ? 2 : 20,
    timeScale: WAVE_SCALE
  });
  return { single, wave };
}

const waveKeys = (
  prefix: string,
  { single, wave }: Awaited<ReturnType<typeof waveOf>>
): Record<string, number> => ({
  [`${prefix}_eviction_to_running_p50_s`]: wave.eviction_to_running_p50_s,
  [`${prefix}_eviction_to_running_p95_s`]: wave.eviction_to_running_p95_s,
  [`${prefix}_eviction_to_running_max_s`]: wave.eviction_to_running_max_s,
  [`${prefix}_capacity_to_running_p95_s`]: wave.capacity_to_running_p95_s,
  [`${prefix}_runs`]: wave.runs,
  [`${prefix}_billed_minutes`]: wave.billed_minutes,
  [`${prefix}_max_concurrent_jobs`]: wave.max_concurrent_jobs,
  [`${prefix}_dispatches_lost`]: wave.dispatches_lost,
  [`${prefix}_dispatches_held_back`]: wave.dispatches_held_back,
  [`${prefix}_429s`]: wave['429s'],
  [`${prefix}_wrong_starts`]: wave.wrong_starts,
  [`${prefix}_vms_left_down`]: wave.vms_left_down,
  [`${prefix}_single_eviction_billed_minutes`]: single.billed_minutes,
  [`${prefix}_billed_vs_single`]: round(wave.billed_minutes / single.billed_minutes)
});

/** Today's fast path (`wave_*`) and the one before it (`wave_before_*`), measured in one run. */
async function waveBench(quick: boolean) {
  const before = await waveOf(await designBefore(), quick);
  const after = await waveOf({ workflow: `${ROOT}workflows-examples/restart-on-eviction.yml` }, quick);
  return {
    ...waveKeys('wave', after),
    single_eviction_billed_minutes: after.single.billed_minutes,
    ...waveKeys('wave_before', before),
    wave: after.wave,
    single_eviction: after.single,
    wave_before: before.wave,
    single_eviction_before: before.single
  };
}

function sayWave(w: Awaited<ReturnType<typeof waveBench>>): void {
  const line = (name: string, r: WaveResult) =>
    say(
      `  ${name.padEnd(20)} ${String(r.wave_vms + r.elsewhere_vms).padEnd(4)} down p50/p95/max ${r.eviction_to_running_p50_s}/${r.eviction_to_running_p95_s}/${r.eviction_to_running_max_s} s (behind capacity p95 ${r.capacity_to_running_p95_s} s); ${r.runs} runs (${r.runs_cancelled} cancelled), ${r.billed_minutes} billed min, ${r.max_concurrent_jobs} jobs at once; dispatches lost ${r.dispatches_lost}, held back ${r.dispatches_held_back}; 429s ${r['429s']} (Azure ${r.azure_429s}, GitHub ${r.github_secondary_refusals}); wrong starts ${r.wrong_starts}; left down ${r.vms_left_down}`
    );
  say(`Mass eviction (time scale ${w.wave.time_scale}; emulated seconds):`);
  line('before: one eviction', w.single_eviction_before);
  line('before: the wave', w.wave_before);
  line('now: one eviction', w.single_eviction);
  line('now: the wave', w.wave);
  const ratio = (wave: WaveResult, one: WaveResult) => round(wave.billed_minutes / one.billed_minutes);
  say(
    `  the wave bills ${ratio(w.wave, w.single_eviction)}× one eviction (before: ${ratio(w.wave_before, w.single_eviction_before)}×)`
  );
}

function sayAgent(agent: Awaited<ReturnType<typeof agentBench>>): void {
  say(
    `Agent: Preempt→dispatch p50 ${agent.agent_dispatch_p50_ms} ms, p99 ${agent.agent_dispatch_p99_ms} ms over ${agent.events} events (poll ${agent.agent_poll_interval_ms} ms)`
  );
  say(
    `Agent memory after ${agent.idle_agent_polls} polls: ${(agent.agent_rss_bytes / 2 ** 20).toFixed(1)} MiB vs bare Node ${(agent.bare_node_rss_bytes / 2 ** 20).toFixed(1)} MiB → ratio ${agent.agent_rss_ratio}; CPU ${agent.agent_cpu_seconds_per_hour} s/hour at 1 s polling`
  );
  say(`  (as shipped: node ${SHIPPED.nodeFlags.join(' ')}, ${JSON.stringify(SHIPPED.env)})`);
}

// ---------------------------------------------------------------------------------------------
const began = Date.now();
if (values.only === 'restore') {
  // One fleet restore alone (default: the largest of the full run), e.g. to profile it.
  const vms = Number(values.vms);
  const subs = Number(values.subscriptions);
  if (!Number.isInteger(vms) || vms < 10 || !Number.isInteger(subs) || subs < 1 || subs > vms) {
    console.error(
      `bench: --vms is "${values.vms}" and --subscriptions "${values.subscriptions}"; expected whole numbers, at least 10 VMs and 1 to as many subscriptions as VMs`
    );
    process.exit(2);
  }
  const r = await restore(vms, subs, 1);
  if (values.json) console.log(JSON.stringify(r));
  else
    say(
      `${r.vms} VMs in ${r.subscriptions} subscriptions: ${r.eligible} evicted, accepted after ${r.accepted_s} s, running after ${r.running_s} s against a bound of ${r.bound_running_s} s → ${r.restore_vs_limit} (accepted → ${r.accepted_vs_limit}); ${r.requests_per_restored_vm} requests per restored VM; ${r.throttled_429} 429s ${JSON.stringify(r.throttled_by_kind)}; requests ${JSON.stringify(r.requests_by_kind)} over ${r.tls_connections} TLS connections; CPU: emulator ${r.emulator_cpu_s} s for ${r.emulator_requests} requests (${r.emulator_cpu_ms_per_request} ms each), action ${r.action_cpu_s} s`
    );
  process.exit(0);
}
if (values.only === 'uniform') {
  const farm = await restore(values.quick ? 200 : 2000, 1, 1, true);
  if (values.json)
    console.log(JSON.stringify({ uniform: farm, uniform_restore_vs_limit: farm.restore_vs_limit }));
  else
    say(
      `${farm.vms} Uniform instances in ${farm.vms / 100} scale sets: ${farm.eligible} evicted, running after ${farm.running_s} s against a bound of ${farm.bound_running_s} s → ${farm.restore_vs_limit}; ${farm.throttled_429} 429s`
    );
  process.exit(0);
}
if (values.only === 'wave') {
  const w = await waveBench(values.quick);
  if (values.json)
    console.log(
      JSON.stringify({ ...w, bench_seconds: round((Date.now() - began) / 1000), node: process.version })
    );
  else sayWave(w);
  process.exit(0);
}
if (values.only === 'agent') {
  const idle = await idleAgent();
  say(`Agent latency, then memory once the idle agent has polled ${IDLE_POLLS} times…`);
  const agent = await agentBench(values.quick ? 20 : 200, 4, idle);
  const result = {
    ...agent,
    bench_seconds: round((Date.now() - began) / 1000),
    node: process.version,
    cpus: (await import('node:os')).cpus().length
  };
  if (values.json) console.log(JSON.stringify(result));
  else sayAgent(agent);
  process.exit(0);
}
const configs = values.quick
  ? [[100, 1]]
  : [
      [100, 1],
      [1000, 1],
      [1000, 10],
      [10000, 10]
    ];
const idle = await idleAgent();
say("Fleet restore (time scale 1: Azure's throttling and a 40 s start as they are; ARM latency 100 ms)…");
const restores: RestoreResult[] = [];
for (const [vms, subs] of configs) restores.push(await restore(vms!, subs!, 1));
say('Scale sets: 2 000 Uniform instances in 20 scale sets…');
const farm = await restore(values.quick ? 200 : 2000, 1, 1, true);
say('Serial baseline (time scale 100)…');
const serial = await serialBaseline(
  restores.find(r => r.subscriptions === 1 && r.vms === (values.quick ? 100 : 1000))!,
  100
);
say('Eviction to start…');
const evictions = await evictionToStart(values.quick ? 2 : 4);
say('Agent latency…');
const agent = await agentBench(values.quick ? 20 : 200, 4, idle);
say('Cold start…');
const cold = await coldStart(values.quick ? 3 : 7);
say('Mass eviction…');
const wave = await waveBench(values.quick);
const largest = restores[restores.length - 1]!;
const summary = {
  restore_vs_limit: largest.restore_vs_limit,
  accepted_vs_limit: largest.accepted_vs_limit,
  requests_per_restored_vm: largest.requests_per_restored_vm,
  restore_vs_serial: serial.restore_vs_serial,
  throttle_failures: largest.throttle_failures,
  throttled_429s: largest.throttled_429,
  emulator_cpu_ms_per_request: largest.emulator_cpu_ms_per_request,
  deallocated_to_start_s: Math.max(...evictions),
  summary_bytes: largest.summary_bytes,
  summary_bytes_100k: summaryBytes100k(),
  largest_output_bytes: largest.largest_output_bytes,
  ...agent,
  ...cold,
  ...wave,
  configs: restores,
  uniform: farm,
  uniform_restore_vs_limit: farm.restore_vs_limit,
  serial,
  deallocated_to_start_samples_s: evictions,
  bench_seconds: round((Date.now() - began) / 1000),
  node: process.version,
  cpus: (await import('node:os')).cpus().length
};
if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  say();
  say("Fleet restore (real seconds from the sweep run's start; bound = what the emulator's limits allow)");
  say(
    '  VMs    subs  eligible  accepted  running  bound  ratio  acc.ratio  req/VM  ARG req  429s  429→fail  decoys  CPU s (emulator/action)  emulator ms/request'
  );
  for (const r of [...restores, farm]) {
    say(
      `  ${(String(r.vms) + (r.kind === 'vmss-uniform' ? 'U' : '')).padEnd(6)} ${String(r.subscriptions).padEnd(5)} ${String(r.eligible).padEnd(9)} ${String(r.accepted_s).padEnd(9)} ${String(r.running_s).padEnd(8)} ${String(r.bound_running_s).padEnd(6)} ${String(r.restore_vs_limit).padEnd(6)} ${String(r.accepted_vs_limit).padEnd(10)} ${String(r.requests_per_restored_vm).padEnd(7)} ${String(r.arg_requests).padEnd(8)} ${String(r.throttled_429).padEnd(5)} ${String(r.throttle_failures).padEnd(9)} ${String(r.decoys_touched).padEnd(7)} ${`${r.emulator_cpu_s}/${r.action_cpu_s}`.padEnd(24)} ${r.emulator_cpu_ms_per_request}`
    );
  }
  say(
    `Report of the ${largest.vms}-VM run: job summary ${largest.summary_bytes} bytes (GitHub refuses > ${STEP_SUMMARY_MAX_BYTES}; a 100 000-VM report: ${summary.summary_bytes_100k} bytes); largest output ${largest.largest_output_bytes} bytes in UTF-16 (GitHub allows ${JOB_OUTPUTS_MAX_UTF16_BYTES} per job)${largest.github_limit_errors.length ? `; LIMITS BROKEN: ${largest.github_limit_errors.join('; ')}` : ''}`
  );
  say(
    `Serial baseline (${values.quick ? 100 : 1000} VMs in 1 subscription, run at time scale ${serial.serial_time_scale}: ${serial.serial_real_s} s): ${serial.serial_s} s at Azure's pace vs ours ${serial.ours_s} s → ${serial.restore_vs_serial}× faster`
  );
  say(
    `Eviction to start (dispatched run waiting): ${evictions.join(', ')} s (max ${summary.deallocated_to_start_s} s)`
  );
  sayAgent(agent);
  say(
    `Action cold start: first request after ${cold.cold_start_first_request_ms} ms vs bare Node ${cold.bare_node_first_request_ms} ms → ratio ${cold.cold_start_ratio}; bundle ${cold.bundle_bytes} bytes`
  );
  sayWave(wave);
  say(`(bench took ${summary.bench_seconds} s)`);
}

/**
 * The job summary of a 100 000-VM sweep, built from a synthetic result (no Azure needed): its size
 * must not grow with the fleet.
 */
function summaryBytes100k(): number {
  return Buffer.byteLength(
    buildSummary(syntheticReport(100_000), STEP_SUMMARY_MAX_BYTES - 4096, 'result.json')
  );
}
