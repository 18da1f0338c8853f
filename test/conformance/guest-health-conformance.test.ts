/**
 * The guest side of the emulated instance view — the guest agent's status and the Application
 * Health state — checked against Microsoft's published examples:
 * - azure-rest-api-specs, Microsoft.Compute ComputeRP stable 2024-07-01,
 *   examples/virtualMachineExamples/VirtualMachine_Get_InstanceView.json (the agent Ready:
 *   `ProvisioningState/succeeded`, Info, "Ready", "GuestAgent is running and accepting new configurations.")
 *   and examples/virtualMachineScaleSetExamples/VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json
 *   (running, the agent Not Ready: `vmAgentVersion` "Unknown", `ProvisioningState/Unavailable`, Warning,
 *   "Not Ready", "VM status blob is found but not yet populated.", `extensionHandlers: null`);
 * - Microsoft Learn, "Using Application Health extension with Azure Virtual Machines", View VMHealth:
 *   `"vmHealth": {"status": {"code": "HealthState/unknown", "level": "Warning", "displayStatus":
 *   "The VM health is unknown", "time": …}}`;
 * - Microsoft Learn, "Azure Virtual Machine Scale Sets … Application Health extension", View VMHealth
 *   for a single instance: scale-set instances carry `vmHealth` in their instance view too.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { emulator, until } from '../e2e/harness.js';
import { DEFAULT_APP } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { virtualMachineScaleSetVMInstanceView, vmInstanceView } from './azure-schemas.js';
import { conforms } from './conforms.js';
import { httpsCall, signIn } from './https-call.js';

const [SUB] = subscriptionIds(1) as [string];
const SECRET = 'conformance-secret';
let emu: Emulator;
let token = '';

interface Status {
  code: string;
  level: string;
  displayStatus: string;
  message?: string;
  time?: string;
}
interface View {
  statuses: Status[];
  vmAgent: { vmAgentVersion: string; statuses: Status[]; extensionHandlers: unknown };
  vmHealth?: { status: Status };
  extensions?: { type: string; typeHandlerVersion: string; substatuses: Status[] }[];
}

const vmPath = (name: string) =>
  `/subscriptions/${SUB}/resourceGroups/rg-batch/providers/Microsoft.Compute/virtualMachines/${name}`;

async function viewOf(name: string, schema: object = vmInstanceView): Promise<View> {
  const answer = await httpsCall(emu, 'GET', `${vmPath(name)}/instanceView?api-version=2024-07-01`, {
    auth: token
  });
  expect(answer.status).toBe(200);
  conforms(schema, answer.body);
  return answer.body as View;
}

const published = {
  ready: {
    code: 'ProvisioningState/succeeded',
    level: 'Info',
    displayStatus: 'Ready',
    message: 'GuestAgent is running and accepting new configurations.'
  },
  notReady: {
    code: 'ProvisioningState/Unavailable',
    level: 'Warning',
    displayStatus: 'Not Ready',
    message: 'VM status blob is found but not yet populated.'
  },
  unknown: { code: 'HealthState/unknown', level: 'Warning', displayStatus: 'The VM health is unknown' }
};

beforeAll(async () => {
  const vm = (name: string, extra: object = {}) => ({
    subscriptionId: SUB,
    resourceGroup: 'rg-batch',
    name,
    tags: TAG,
    ...extra
  });
  emu = await emulator(
    {
      subscriptions: [SUB],
      apps: [{ clientId: DEFAULT_APP, secret: SECRET }],
      vms: [
        vm('vm-running'),
        vm('vm-app', { applicationHealth: { states: 'rich', settlesTo: 'unknown' } }),
        vm('vm-down', { powerState: 'deallocated', sinceMinutes: 10 }),
        vm('vm-stuck', { powerState: 'deallocated', guestAgent: 'never' })
      ],
      scaleSets: [
        {
          subscriptionId: SUB,
          resourceGroup: 'rg-pool',
          name: 'pool',
          orchestration: 'Uniform',
          tags: TAG,
          applicationHealth: { states: 'rich' },
          instances: 2
        }
      ]
    },
    { timing: { agentReadyS: 60 } }
  );
  token = await signIn(emu, DEFAULT_APP, SECRET);
});
afterAll(() => emu.stop());

describe('the guest agent (vmAgent)', () => {
  test('a running VM: Ready, as in VirtualMachine_Get_InstanceView.json', async () => {
    const view = await viewOf('vm-running');
    expect(view.vmAgent.statuses).toEqual([{ ...published.ready, time: expect.any(String) }]);
    expect(view.vmHealth).toBeUndefined(); // no Application Health extension, no vmHealth
  });

  test('after a start: the old Ready until it runs, then Not Ready (the published shape), then Ready', async () => {
    const vm = emu.vm('vm-down');
    const before = await viewOf('vm-down');
    // Reported before the deallocation: a reader must not take it for this start's.
    expect(Date.parse(before.vmAgent.statuses[0]!.time!)).toBeLessThan(Date.parse(vm.changedAt));
    emu.model.start(vm);
    await until(() => vm.powerState === 'running', 10_000, 'the start');
    const running = await viewOf('vm-down');
    expect(running.statuses.map(s => s.code)).toContain('PowerState/running');
    expect(running.vmAgent).toEqual({
      vmAgentVersion: 'Unknown',
      statuses: [{ ...published.notReady, time: expect.any(String) }],
      extensionHandlers: null
    });
    await until(() => vm.guest.agentReady, 10_000, 'the agent');
    const ready = await viewOf('vm-down');
    expect(ready.vmAgent.statuses).toEqual([{ ...published.ready, time: expect.any(String) }]);
    expect(Date.parse(ready.vmAgent.statuses[0]!.time!)).toBeGreaterThan(Date.parse(vm.changedAt));
  });

  test('guestAgent never: running, and Not Ready for good', async () => {
    const vm = emu.vm('vm-stuck');
    emu.model.start(vm);
    await until(() => vm.powerState === 'running', 10_000, 'the start');
    await new Promise(r => setTimeout(r, emu.clock.real(emu.model.timing.agentReadyS * 2000)));
    expect((await viewOf('vm-stuck')).vmAgent.statuses).toEqual([
      { ...published.notReady, time: expect.any(String) }
    ]);
  });
});

describe('Application Health (vmHealth)', () => {
  test('a VM whose application cannot answer (Rich Health States): HealthState/unknown, as Microsoft shows it', async () => {
    const view = await viewOf('vm-app');
    expect(view.vmHealth).toEqual({ status: { ...published.unknown, time: expect.any(String) } });
    expect(view.extensions).toEqual([
      expect.objectContaining({
        type: 'Microsoft.ManagedServices.ApplicationHealthLinux',
        typeHandlerVersion: '2.0'
      })
    ]);
  });

  test('a Uniform instance reports vmHealth in its own instance view', async () => {
    const path = `/subscriptions/${SUB}/resourceGroups/rg-pool/providers/Microsoft.Compute/virtualMachineScaleSets/pool/virtualMachines/1/instanceView?api-version=2024-07-01`;
    const answer = await httpsCall(emu, 'GET', path, { auth: token });
    expect(answer.status).toBe(200);
    conforms(virtualMachineScaleSetVMInstanceView, answer.body);
    expect((answer.body as View).vmHealth?.status).toMatchObject({
      code: 'HealthState/healthy',
      level: 'Info'
    });
  });
});
