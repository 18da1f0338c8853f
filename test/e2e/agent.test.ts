/**
 * The agent bundle as a real process against the emulator's IMDS and GitHub: what it dispatches,
 * what it ignores, how it survives outages and refusals, its drain hook, approval and credentials.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { DRAIN_WAIT_MS } from '../../agent/src/monitor.js';
import { validatePayload } from '../../src/plan/payload.js';
import type { FleetSpec } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { agentEnv, msg, startAgent, type AgentProcess } from '../emulator/agents/agent-processes.js';
import { emulator, until } from './harness.js';

const [SUB] = subscriptionIds(1) as [string];
const TOKEN = 'ghs_agentTestToken000000000000000000000';

function fleet(extra: Partial<FleetSpec['github']> = {}): FleetSpec {
  return {
    subscriptions: [SUB],
    vms: [
      { subscriptionId: SUB, resourceGroup: 'rg-batch', name: 'worker-1', tags: TAG },
      { subscriptionId: SUB, resourceGroup: 'rg-batch', name: 'worker-2', tags: TAG },
      { subscriptionId: SUB, resourceGroup: 'rg-web', name: 'web-1', priority: 'Regular' }
    ],
    github: {
      repository: 'acme/spot-fleet',
      tokens: [{ token: TOKEN, repositories: ['acme/spot-fleet'] }],
      ...extra
    }
  };
}

let emu: Emulator | undefined;
const agents: AgentProcess[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map(a => a.stop()));
  await Promise.all(closers.splice(0).map(close => close()));
  await emu?.stop();
  emu = undefined;
});

async function setup(
  options: { timeScale?: number; github?: Partial<FleetSpec['github']>; githubRoundTripMs?: number } = {}
) {
  emu = await emulator(fleet(options.github), {
    timeScale: options.timeScale ?? 20,
    runDispatchedWorkflows: false,
    githubRoundTripMs: options.githubRoundTripMs
  });
  return emu;
}

interface DrainStart {
  eventId: string;
  /** Had the emulated GitHub received this event's dispatch when the drain command connected? */
  githubHadIt: boolean;
  at: number;
}

/**
 * A local socket the drain command connects to as it starts, so the test reads the order of "GitHub
 * received the dispatch" and "the drain command started" in one place, not from two clocks.
 */
async function drainReporter(e: Emulator) {
  const starts: DrainStart[] = [];
  const server = createServer(socket => {
    const at = Date.now();
    const received = new Set(e.dispatches.map(d => String(d.clientPayload.eventId)));
    let text = '';
    socket.on('data', c => (text += c));
    socket.on('end', () => {
      const eventId = text.trim();
      starts.push({ eventId, githubHadIt: received.has(eventId), at });
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  closers.push(() => new Promise<void>(r => server.close(() => r())));
  return {
    starts,
    // bash, not sh: /dev/tcp is bash's; it connects within a few milliseconds of the spawn.
    command: `exec bash -c 'echo "$SPOT_EVENT_ID" > /dev/tcp/127.0.0.1/${port}'`
  };
}

/** A port on 127.0.0.1 where nothing listens: GitHub unreachable. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>(r => server.close(() => r()));
  return port;
}

function agent(
  e: Emulator,
  vmName: string,
  env: Record<string, string> = {},
  args: string[] = []
): AgentProcess {
  const a = startAgent(agentEnv(e, e.vm(vmName), { SPOT_AGENT_GITHUB_TOKEN: TOKEN, ...env }), args);
  agents.push(a);
  return a;
}

describe('the whole loop', () => {
  test('agent → repository_dispatch → restart-on-eviction.yml with dist/index.js → the VM runs again', async () => {
    emu = await emulator(fleet(), { timeScale: 20 });
    const a = agent(emu, 'worker-2');
    await a.waitFor(msg('watching Scheduled Events'));
    const vm = emu.vm('worker-2');
    emu.model.evict(vm, 'capacity');
    await a.waitFor(msg('repository_dispatch sent'));
    // Capacity comes back while the run waits for the deallocation.
    emu.model.setCapacity(vm.location, vm.vmSize, 10);
    const [run] = await emu.settle();
    expect(run).toMatchObject({
      workflow: 'restart-on-eviction.yml',
      event: 'repository_dispatch',
      exitCode: 0
    });
    await until(() => vm.powerState === 'running', 10_000, 'the VM to run');
    expect(vm.startsAccepted).toBe(1);
    expect(emu.model.timeline.filter(t => t.vm === 'worker-2').map(t => t.what)).toEqual([
      expect.stringContaining('Preempt scheduled (capacity)'),
      'evicted: deallocating',
      'deallocated',
      'start accepted',
      'running'
    ]);
  });
});

describe('the agent', () => {
  test('a Preempt for this VM: a schema-valid dispatch at once, before the eviction', async () => {
    const e = await setup();
    const a = agent(e, 'worker-1');
    await a.waitFor(msg('watching Scheduled Events'));
    const vm = e.vm('worker-1');
    const event = e.model.evict(vm, 'simulated')!;
    await until(() => e.dispatches.length === 1, 5000, 'the dispatch');
    const [d] = e.dispatches;
    expect(d!.eventType).toBe('spot-vm-preempted');
    const validation = validatePayload(d!.clientPayload);
    expect(validation.ok).toBe(true);
    expect(d!.clientPayload).toMatchObject({
      vmResourceId: vm.id,
      vmId: vm.vmId,
      eventId: event.EventId,
      eventType: 'Preempt',
      evictionPolicy: 'Deallocate'
    });
    expect(vm.powerState).toBe('running'); // sent during the notice
    await a.waitFor(msg('repository_dispatch sent'));
  });

  test('nothing for Freeze or Reboot, nor for a Preempt that names another VM', async () => {
    const e = await setup();
    const a = agent(e, 'worker-1');
    await a.waitFor(msg('watching Scheduled Events'));
    const vm = e.vm('worker-1');
    e.model.announce(vm, 'Freeze');
    e.model.announce(vm, 'Reboot');
    e.model.announce(vm, 'Preempt', ['worker-2']);
    await new Promise(r => setTimeout(r, 1200));
    expect(e.dispatches).toEqual([]);
    expect(a.logs.filter(l => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  test('an EventId is handled once, also after the agent restarts mid-event', async () => {
    const e = await setup({ timeScale: 1 }); // a 30 s notice: the event stays while we restart
    const env = agentEnv(e, e.vm('worker-1'), { SPOT_AGENT_GITHUB_TOKEN: TOKEN });
    const first = startAgent(env);
    agents.push(first);
    await first.waitFor(msg('watching Scheduled Events'));
    e.model.evict(e.vm('worker-1'), 'simulated');
    await first.waitFor(msg('repository_dispatch sent'));
    await first.stop();
    const second = startAgent(env);
    agents.push(second);
    await second.waitFor(msg('watching Scheduled Events'));
    await new Promise(r => setTimeout(r, 1000));
    expect(e.dispatches).toHaveLength(1);
    expect(second.logs.some(msg('scheduled for this VM'))).toBe(false);
  });

  test('IMDS down, then back: no crash, one log line for the outage, then the dispatch', async () => {
    const e = await setup();
    const a = agent(e, 'worker-1');
    await a.waitFor(msg('watching Scheduled Events'));
    const vm = e.vm('worker-1');
    e.imdsDown.add(vm.key);
    await new Promise(r => setTimeout(r, 1500));
    e.imdsDown.delete(vm.key);
    await a.waitFor(msg('reachable again'), 15_000);
    e.model.evict(vm, 'simulated');
    await until(() => e.dispatches.length === 1, 10_000, 'the dispatch');
    expect(a.logs.filter(msg('Scheduled Events poll failed'))).toHaveLength(1);
    expect(a.child.exitCode).toBeNull();
  });

  test('IMDS down long after the backoff reached its cap: the agent keeps trying (backoff ≤ 10 s) and dispatches soon after it is back', async () => {
    const e = await setup();
    const a = agent(e, 'worker-1');
    await a.waitFor(msg('watching Scheduled Events'));
    const vm = e.vm('worker-1');
    e.imdsDown.add(vm.key);
    // From the 200 ms poll interval the backoff doubles to its cap within five failures (about 3 s);
    // every failure after that is handled alike, so the rest of the outage is many of them at the cap.
    await new Promise(r => setTimeout(r, 8000));
    const atCap = e.requests.imds ?? 0;
    await new Promise(r => setTimeout(r, 22_000));
    const polledAtCap = (e.requests.imds ?? 0) - atCap;
    e.model.evict(vm, 'simulated');
    e.imdsDown.delete(vm.key);
    const pollsBeforeBack = e.requests.imds ?? 0;
    let pollsToDispatch = NaN;
    await until(
      () => {
        if (e.dispatches.length === 1) pollsToDispatch = (e.requests.imds ?? 0) - pollsBeforeBack;
        return e.dispatches.length === 1;
      },
      20_000,
      'the dispatch'
    );
    // The first poll after IMDS is back sees the Preempt and dispatches: no give-up, no extra
    // wait (a poll or two more may be counted while the dispatch is on its way here).
    expect(pollsToDispatch).toBeGreaterThanOrEqual(1);
    expect(pollsToDispatch).toBeLessThanOrEqual(3);
    expect(a.logs.filter(msg('Scheduled Events poll failed'))).toHaveLength(1);
    // It kept polling through the outage (about seven polls at the cap), backing off: one poll each
    // interval would have made 110.
    expect(polledAtCap).toBeGreaterThanOrEqual(3);
    expect(polledAtCap).toBeLessThan(30);
    expect(a.child.exitCode).toBeNull();
  }, 90_000);

  test('GitHub answers 503 and 429 first: retried within the notice, then sent', async () => {
    // A notice of 30 real seconds: the agent's retries wait in real time, and never past NotBefore.
    const e = await setup({ timeScale: 1 });
    e.faults.add({ target: 'dispatch', kind: '503', count: 2 });
    e.faults.add({ target: 'dispatch', kind: '429', count: 1, retryAfterS: 1 });
    const a = agent(e, 'worker-1');
    await a.waitFor(msg('watching Scheduled Events'));
    e.model.evict(e.vm('worker-1'), 'simulated');
    const sent = await a.waitFor(msg('repository_dispatch sent'), 15_000);
    expect(sent.attempts).toBe(4);
    expect(e.dispatches).toHaveLength(1);
  });

  test.each([
    [
      'a wrong token',
      { SPOT_AGENT_GITHUB_TOKEN: 'ghs_wrong_token_value' },
      'the token is wrong, expired or revoked'
    ],
    [
      'a wrong repository',
      { SPOT_AGENT_REPOSITORY: 'acme/other' },
      'the repository does not exist, or the token cannot see it'
    ]
  ])('%s: reported with advice, not retried in a loop; the drain still runs', async (_, env, advice) => {
    const e = await setup();
    const a = agent(e, 'worker-1', { SPOT_AGENT_ON_PREEMPT: 'true', ...env });
    await a.waitFor(msg('watching Scheduled Events'));
    e.model.evict(e.vm('worker-1'), 'simulated');
    const error = await a.waitFor(msg('repository_dispatch not sent'));
    expect(String(error.msg)).toContain(advice);
    expect(await a.waitFor(msg('drain command started'))).toMatchObject({ dispatch: 'failed' });
    const order = a.logs.map(l => String(l.msg));
    expect(order.findIndex(m => m.startsWith('repository_dispatch not sent'))).toBeLessThan(
      order.indexOf('drain command started')
    );
    await new Promise(r => setTimeout(r, 800));
    expect(e.requests.dispatch).toBe(1);
    expect(a.text.join('\n')).not.toContain('ghs_wrong_token_value');
  });

  test('the drain hook runs after the dispatch with the event in its environment; no approval unless asked', async () => {
    const e = await setup({ timeScale: 1 });
    const out = join(mkdtempSync(join(tmpdir(), 'hook-')), 'drained');
    const a = agent(e, 'worker-1', { SPOT_AGENT_ON_PREEMPT: `echo "$SPOT_EVENT_ID $SPOT_VM_NAME" > ${out}` });
    await a.waitFor(msg('watching Scheduled Events'));
    const event = e.model.evict(e.vm('worker-1'), 'simulated')!;
    await a.waitFor(msg('drain command finished'));
    expect(readFileSync(out, 'utf8').trim()).toBe(`${event.EventId} worker-1`);
    expect(e.model.timeline.some(t => t.what.includes('approved'))).toBe(false);
    expect(e.vm('worker-1').powerState).toBe('running'); // still in its 30 s notice
  });

  test('over 30 events, GitHub (TLS, 150 ms away) has received the dispatch before the drain command starts', async () => {
    const e = await setup({ githubRoundTripMs: 150 });
    const reporter = await drainReporter(e);
    const a = agent(e, 'worker-1', { SPOT_AGENT_ON_PREEMPT: reporter.command });
    await a.waitFor(msg('watching Scheduled Events'));
    const vm = e.vm('worker-1');
    const events: string[] = [];
    for (let i = 0; i < 30; i++) {
      const event = e.model.announce(vm, 'Preempt');
      events.push(event.EventId);
      await until(() => reporter.starts.some(s => s.eventId === event.EventId), 10_000, `drain ${i + 1}`);
      e.model.withdraw(vm, event.EventId);
    }
    expect(reporter.starts.map(s => s.eventId)).toEqual(events);
    expect(reporter.starts.filter(s => !s.githubHadIt)).toEqual([]);
    expect(e.dispatches).toHaveLength(30);
    // The log tells the same story: written, then answered, then the command started.
    for (const id of events) {
      const mine = a.logs.filter(l => l.eventId === id).map(l => String(l.msg));
      const written = mine.indexOf('dispatch request written');
      const started = mine.indexOf('drain command started');
      expect(written).toBeGreaterThanOrEqual(0);
      expect(started).toBeGreaterThan(written);
      expect(a.logs.find(l => l.eventId === id && l.msg === 'drain command started')).toMatchObject({
        dispatch: 'accepted'
      });
    }
  }, 60_000);

  test('GitHub unreachable: the drain command still runs, once the wait is over', async () => {
    const e = await setup();
    const reporter = await drainReporter(e);
    const a = agent(e, 'worker-1', {
      SPOT_AGENT_ON_PREEMPT: reporter.command,
      SPOT_AGENT_GITHUB_API_URL: `https://127.0.0.1:${await closedPort()}`
    });
    await a.waitFor(msg('watching Scheduled Events'));
    const shown = Date.now();
    const event = e.model.announce(e.vm('worker-1'), 'Preempt');
    await until(() => reporter.starts.length === 1, 10_000, 'the drain command');
    expect(reporter.starts[0]!.eventId).toBe(event.EventId);
    expect(reporter.starts[0]!.at - shown).toBeGreaterThanOrEqual(DRAIN_WAIT_MS);
    expect(await a.waitFor(msg('drain command started'))).toMatchObject({ dispatch: 'no answer yet' });
    expect(a.logs.some(msg(/^dispatch attempt 1 failed: request failed/))).toBe(true);
    expect(e.dispatches).toEqual([]);
    // SIGTERM ends the retries at once; the event stays pending for the next start.
    expect(await a.stop()).toBe(0);
  });

  test('with --approve the event is approved when the hook ends, and the eviction goes ahead early', async () => {
    const e = await setup({ timeScale: 1 });
    const a = agent(e, 'worker-1', { SPOT_AGENT_ON_PREEMPT: 'true' }, ['--approve']);
    await a.waitFor(msg('watching Scheduled Events'));
    e.model.evict(e.vm('worker-1'), 'simulated');
    await a.waitFor(msg('event approved'));
    expect(e.model.timeline.some(t => t.what.includes('approved by the VM'))).toBe(true);
    expect(e.vm('worker-1').powerState).toBe('deallocating');
  });

  test('GitHub App credentials: JWT → installation token → dispatch, checked by the emulated GitHub', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dir = mkdtempSync(join(tmpdir(), 'app-'));
    const keyFile = join(dir, 'app.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    const e = await setup({
      github: {
        apps: [
          {
            appId: '123456',
            installationId: '7890',
            publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
            repositories: ['acme/spot-fleet']
          }
        ]
      }
    });
    const a = agent(e, 'worker-1', {
      SPOT_AGENT_GITHUB_TOKEN: '',
      SPOT_AGENT_APP_ID: '123456',
      SPOT_AGENT_INSTALLATION_ID: '7890',
      SPOT_AGENT_PRIVATE_KEY_FILE: keyFile
    });
    await a.waitFor(msg('starting'));
    expect(a.logs[0]).toMatchObject({ credentials: 'github-app' });
    await a.waitFor(msg('watching Scheduled Events'));
    e.model.evict(e.vm('worker-1'), 'simulated');
    await a.waitFor(msg('repository_dispatch sent'));
    expect(e.dispatches).toHaveLength(1);
  });

  test('a key or token file others can read is refused', async () => {
    const e = await setup();
    const file = join(mkdtempSync(join(tmpdir(), 'tok-')), 'token');
    writeFileSync(file, TOKEN);
    chmodSync(file, 0o644);
    const a = agent(e, 'worker-1', { SPOT_AGENT_GITHUB_TOKEN: '', SPOT_AGENT_TOKEN_FILE: file });
    expect(await a.exited).toBe(2);
    expect(a.text.join('\n')).toContain('can be read by others (mode 644); run: chmod 600');
  });

  test('--dry-run detects and sends nothing', async () => {
    const e = await setup();
    const a = agent(e, 'worker-1', {}, ['--dry-run']);
    await a.waitFor(msg('watching Scheduled Events'));
    e.model.evict(e.vm('worker-1'), 'simulated');
    await a.waitFor(msg('dry run: would send'));
    expect(e.dispatches).toEqual([]);
  });

  test('--log-file (as the Windows installer sets it) holds every line the agent logged, as it happened; a path it cannot write is refused at start', async () => {
    const e = await setup();
    const file = join(mkdtempSync(join(tmpdir(), 'agent-log-')), 'agent.log');
    const a = agent(e, 'worker-1', { SPOT_AGENT_LOG_FILE: file });
    await a.waitFor(msg('watching Scheduled Events'));
    e.model.evict(e.vm('worker-1'), 'simulated');
    await a.waitFor(msg('repository_dispatch sent'));
    // Read while the agent runs: nothing waits in a buffer for an exit that an eviction may not allow.
    const written = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(written).toEqual(a.text.slice(0, written.length));
    expect(written.some(line => line.includes('repository_dispatch sent'))).toBe(true);
    expect(written.join('\n')).not.toContain(TOKEN);

    const nowhere = join(tmpdir(), 'no-such-folder-for-the-agent', 'agent.log');
    const bad = agent(e, 'worker-1', { SPOT_AGENT_LOG_FILE: nowhere });
    expect(await bad.exited).toBe(2);
    expect(bad.text.join('\n')).toContain(`--log-file (SPOT_AGENT_LOG_FILE) is "${nowhere}"`);
  });

  test('on a regular VM it says so and exits (78) unless --allow-non-spot', async () => {
    const e = await setup();
    const a = agent(e, 'web-1');
    expect(await a.exited).toBe(78);
    expect(a.logs.some(msg('not a Spot VM'))).toBe(true);
  });

  test('--check reports and exits 0 when ready, 1 when not', async () => {
    const e = await setup();
    const ok = agent(e, 'worker-1', {}, ['--check']);
    expect(await ok.exited).toBe(0);
    expect(ok.text.join('\n')).toMatch(
      /ok +IMDS reachable: worker-1[\s\S]*ok +priority Spot[\s\S]*ok +GitHub environment credentials can see acme\/spot-fleet and write to it[\s\S]*Result: ready/
    );
    const bad = agent(e, 'web-1', { SPOT_AGENT_GITHUB_TOKEN: 'nope-nope' }, ['--check']);
    expect(await bad.exited).toBe(1);
    expect(bad.text.join('\n')).toMatch(/FAIL +priority Regular/);
  });

  test('SIGTERM stops it cleanly, and bad options are refused with exit 2', async () => {
    const e = await setup();
    const a = agent(e, 'worker-1');
    await a.waitFor(msg('watching Scheduled Events'));
    expect(await a.stop()).toBe(0);
    const bad = agent(e, 'worker-1', { SPOT_AGENT_POLL_INTERVAL: 'often' });
    expect(await bad.exited).toBe(2);
    expect(bad.text.join('\n')).toContain('--poll-interval (SPOT_AGENT_POLL_INTERVAL) is "often"');
    expect(existsSync(e.caFile)).toBe(true);
  });
});
