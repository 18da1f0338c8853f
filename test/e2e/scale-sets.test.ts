/**
 * Scale sets, end to end: the sweep, a manual run naming instances, and the agent's fast path on a
 * Uniform instance, with the bundle as GitHub runs it against the emulated Azure.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { agentEnv, msg, startAgent, type AgentProcess } from '../emulator/agents/agent-processes.js';
import { DEFAULT_APP, type FleetSpec } from '../emulator/fleets/fleet.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import type { VmResult } from '../../src/report/outcomes.js';
import { emulator, evictAndSettle, leakedSecrets, results, until } from './harness.js';

const [SUB] = subscriptionIds(1) as [string];
const SUBJECT = 'repo:acme/spot-fleet:ref:refs/heads/main';
const GH_TOKEN = 'ghs_scaleSetInstallationToken000000000';

function fleet(actions?: string[]): FleetSpec {
  const ss = (name: string, orchestration: 'Uniform' | 'Flexible', instances: number, extra = {}) => ({
    subscriptionId: SUB,
    resourceGroup: 'rg-pool',
    name,
    orchestration,
    tags: TAG,
    instances,
    ...extra
  });
  return {
    subscriptions: [SUB],
    apps: [{ clientId: DEFAULT_APP, federatedSubjects: [SUBJECT], actions }],
    vms: [
      { subscriptionId: SUB, resourceGroup: 'rg-pool', name: 'solo-1', tags: TAG },
      { subscriptionId: SUB, resourceGroup: 'rg-pool', name: 'solo-untagged' }
    ],
    scaleSets: [
      ss('flex', 'Flexible', 3),
      ss('render', 'Uniform', 50),
      ss('restored', 'Uniform', 3, { spotRestore: true }),
      ss('private', 'Uniform', 3, { tags: {} })
    ],
    github: {
      repository: 'acme/spot-fleet',
      tokens: [{ token: GH_TOKEN, repositories: ['acme/spot-fleet'] }]
    }
  };
}

let emu: Emulator | undefined;
const agents: AgentProcess[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map(a => a.stop()));
  if (emu) expect(leakedSecrets(emu, [GH_TOKEN])).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

const byName = (list: VmResult[]) => Object.fromEntries(list.map(r => [r.name, r]));

describe('scale sets', () => {
  test('a sweep starts exactly the evicted, opted-in instances of both kinds; Uniform ones in one call per scale set', async () => {
    emu = await emulator(fleet(), { timing: { tryRestoreDelayS: 3600 } });
    const flex = emu
      .scaleSet('flex')
      .instances.slice(0, 2)
      .map(v => v.name);
    const render = emu
      .scaleSet('render')
      .instances.slice(0, 30)
      .map(v => v.name);
    const restored = emu.scaleSet('restored').instances.map(v => v.name);
    const hidden = emu.scaleSet('private').instances.map(v => v.name);
    await evictAndSettle(emu, ['solo-1', 'solo-untagged', ...flex, ...render, ...restored, ...hidden]);

    const [run] = await emu.schedule('restart-on-schedule.yml');
    expect(run!.exitCode).toBe(0);
    const found = byName(results(run));
    const started = Object.values(found)
      .filter(r => r.outcome === 'started')
      .map(r => r.name)
      .sort();
    expect(started).toEqual(['solo-1', ...flex, ...render].sort());
    expect(found['solo-1']!.kind).toBe('vm');
    expect(found[flex[0]!]!.kind).toBe('vmss-flex');
    expect(found[render[0]!]!.kind).toBe('vmss-uniform');
    for (const n of restored) expect(found[n]).toMatchObject({ outcome: 'platform-restores' });
    // Not opted in: neither listed nor touched.
    for (const n of [...hidden, 'solo-untagged']) expect(found[n]).toBeUndefined();

    await until(
      () => [...flex, ...render, 'solo-1'].every(n => emu!.vm(n).powerState === 'running'),
      30_000,
      'the started instances to run'
    );
    expect(emu.scaleSet('render').startCalls).toBe(1);
    expect([...render, ...flex].filter(n => emu!.vm(n).startsAccepted !== 1)).toEqual([]);
    expect([...restored, ...hidden, 'solo-untagged'].filter(n => emu!.vm(n).startsAccepted > 0)).toEqual([]);
  });

  test('instances autoscale deleted just before the start: each refusal drops one, the rest start at once', async () => {
    emu = await emulator(fleet(), { timing: { tryRestoreDelayS: 3600 } });
    const render = emu.scaleSet('render').instances.slice(0, 10);
    await evictAndSettle(
      emu,
      render.map(v => v.name)
    );
    const vanished = [render[3]!, render[7]!];
    // Read as deallocated by the run, deleted by a scale-in a moment before its start arrives.
    emu.model.onScaleSetStart = ss => {
      if (ss.name !== 'render') return;
      for (const v of vanished) if (!v.deleted) emu!.model.scaleIn(v);
    };
    const [run] = await emu.schedule('restart-on-schedule.yml');
    expect(run!.exitCode).toBe(0);
    const found = byName(results(run));
    for (const v of vanished) expect(found[v.name]).toMatchObject({ outcome: 'deleted' });
    const rest = render.filter(v => !vanished.includes(v));
    for (const v of rest) expect(found[v.name]).toMatchObject({ outcome: 'started' });
    // One refusal per vanished instance (Azure names one a time), then one start for the rest.
    expect(emu.scaleSet('render').startCalls).toBe(3);
    await until(() => rest.every(v => v.powerState === 'running'), 30_000, 'the rest to run');
    expect(rest.filter(v => v.startsAccepted !== 1).map(v => v.name)).toEqual([]);
  });

  test('a manual run names instances by resource ID and by resource-group/scale-set/instance-id', async () => {
    emu = await emulator(fleet());
    const [a, b] = emu.scaleSet('render').instances;
    const flex = emu.scaleSet('flex').instances[0]!;
    await evictAndSettle(emu, [a!.name, b!.name, flex.name]);
    const [run] = await emu.workflowDispatch('restart-manually.yml', {
      vms: `${a!.id}, rg-pool/render/${b!.instanceId}, ${flex.id}`
    });
    expect(run!.exitCode).toBe(0);
    expect(
      results(run)
        .map(r => [r.name, r.outcome])
        .sort()
    ).toEqual(
      [
        [a!.name, 'started'],
        [b!.name, 'started'],
        [flex.name, 'started']
      ].sort()
    );
  });

  test('the agent on a Uniform instance sends the dispatch that brings that instance back', async () => {
    emu = await emulator(fleet(), { timeScale: 20 });
    const instance = emu.scaleSet('render').instances[7]!;
    const agent = startAgent(
      agentEnv(emu, instance, { SPOT_AGENT_GITHUB_TOKEN: GH_TOKEN, SPOT_AGENT_POLL_INTERVAL: '200ms' })
    );
    agents.push(agent);
    await agent.waitFor(msg('watching Scheduled Events'));
    emu.model.evict(instance, 'simulated');
    await agent.waitFor(msg('repository_dispatch sent'), 30_000);
    const runs = await emu.settle();
    const run = runs.find(r => r.dispatchedVm?.toLowerCase() === instance.id.toLowerCase());
    expect(run!.exitCode).toBe(0);
    expect(byName(results(run))[instance.name]).toMatchObject({ outcome: 'started', kind: 'vmss-uniform' });
    await until(() => instance.powerState === 'running', 30_000, 'the instance to run');
    expect(instance.startsAccepted).toBe(1);
  });

  test('without the scale-set start permission: a warning names it, the Uniform instances fail naming it, the rest start', async () => {
    const START = 'Microsoft.Compute/virtualMachineScaleSets/start/action';
    emu = await emulator(fleet(shippedRoleActions().filter(a => a !== START)));
    const [a, b] = emu.scaleSet('render').instances;
    await evictAndSettle(emu, [a!.name, b!.name, 'solo-1']);
    const [run] = await emu.schedule('restart-on-schedule.yml');
    const found = byName(results(run));
    expect(found['solo-1']).toMatchObject({ outcome: 'started' });
    for (const n of [a!.name, b!.name]) {
      expect(found[n]).toMatchObject({ outcome: 'failed' });
      expect(found[n]!.detail).toContain(START);
    }
    expect(run!.log.split('\n').filter(l => l.startsWith('::warning') && l.includes(START))).not.toEqual([]);
  });
});
