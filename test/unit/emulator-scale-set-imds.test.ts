/**
 * Inside a scale-set instance: its own IMDS (compute metadata naming the scale set, Scheduled
 * Events naming the instance as Azure does), and the agent bundle, unchanged, watching it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { agentEnv, msg, startAgent, type AgentProcess } from '../emulator/agents/agent-processes.js';
import { emulator } from '../e2e/harness.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import { flexibleInstanceName } from '../emulator/azure/scale-set-model.js';
import type { Emulator } from '../emulator/server.js';

const [SUB] = subscriptionIds(1) as [string];
const TOKEN = 'ghs_scaleSetAgentToken0000000000000000';
let emu: Emulator;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  emu = await emulator(
    {
      subscriptions: [SUB],
      vms: [],
      scaleSets: [
        {
          subscriptionId: SUB,
          resourceGroup: 'rg-pool',
          name: 'pool',
          orchestration: 'Uniform',
          tags: TAG,
          zone: '2',
          instances: 3
        },
        {
          subscriptionId: SUB,
          resourceGroup: 'rg-pool',
          name: 'flex',
          orchestration: 'Flexible',
          instances: [{ tags: TAG }]
        }
      ],
      github: { repository: 'acme/spot-fleet', tokens: [{ token: TOKEN, repositories: ['acme/spot-fleet'] }] }
    },
    { runDispatchedWorkflows: false }
  );
});
afterAll(async () => {
  await Promise.all(agents.map(a => a.stop()));
  await emu.stop();
});

async function imds(path: string, name: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${emu.imdsFor(emu.vm(name))}${path}`, { headers: { Metadata: 'true' } });
  return (await response.json()) as Record<string, unknown>;
}

describe('IMDS inside a scale-set instance', () => {
  test('compute metadata of a Uniform instance: its scale set, its name {ss}_{n}, its own resource ID', async () => {
    const compute = await imds('/metadata/instance/compute?api-version=2021-02-01', 'pool_1');
    expect(compute).toMatchObject({
      vmScaleSetName: 'pool',
      name: 'pool_1',
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg-pool/providers/Microsoft.Compute/virtualMachineScaleSets/pool/virtualMachines/1`,
      vmId: emu.vm('pool_1').vmId,
      priority: 'Spot',
      evictionPolicy: 'deallocate',
      subscriptionId: SUB,
      resourceGroupName: 'rg-pool',
      location: 'eastus',
      vmSize: 'Standard_D2s_v5',
      zone: '2',
      tagsList: []
    });
  });

  test('a Flexible instance is a VM of its scale set', async () => {
    const name = flexibleInstanceName('flex', 0);
    const compute = await imds('/metadata/instance/compute?api-version=2021-02-01', name);
    expect(compute).toMatchObject({
      vmScaleSetName: 'flex',
      name,
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg-pool/providers/Microsoft.Compute/virtualMachines/${name}`
    });
  });

  test('a standalone VM has no scale set in its metadata', async () => {
    emu.model.add({ subscriptionId: SUB, resourceGroup: 'rg-solo', name: 'solo' });
    const compute = await imds('/metadata/instance/compute?api-version=2021-02-01', 'solo');
    expect(compute).not.toHaveProperty('vmScaleSetName');
  });
});

describe('the agent on an instance', () => {
  test('on a Uniform instance it sees the Preempt that names {ss}_{n} as its own', async () => {
    const agent = startAgent(agentEnv(emu, emu.vm('pool_2'), { SPOT_AGENT_GITHUB_TOKEN: TOKEN }));
    agents.push(agent);
    await agent.waitFor(msg('watching Scheduled Events'));
    const event = emu.model.evict(emu.vm('pool_2'))!;
    expect(event.Resources).toEqual(['pool_2']);
    const seen = await agent.waitFor(msg('Preempt scheduled for this VM'));
    expect(seen.eventId).toBe(event.EventId);
  });

  test('on a Flexible instance it dispatches the instance, an ordinary VM ID', async () => {
    const vm = emu.vm(flexibleInstanceName('flex', 0));
    const agent = startAgent(agentEnv(emu, vm, { SPOT_AGENT_GITHUB_TOKEN: TOKEN }));
    agents.push(agent);
    await agent.waitFor(msg('watching Scheduled Events'));
    emu.model.evict(vm);
    await agent.waitFor(msg('repository_dispatch sent'));
    expect(emu.dispatches.map(d => (d.clientPayload as { vmResourceId: string }).vmResourceId)).toContain(
      vm.id
    );
  });
});
