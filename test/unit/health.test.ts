/**
 * verify-health: the verdict on one instance view (a table written from Microsoft's published
 * shapes), and the wait for it with the real Compute client talking HTTP (intercepted by nock).
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { verifyHealth } from '../../src/act/health.js';
import { LOW_COST_GET_VM, ResourceBudget } from '../../src/azure/resource-budget.js';
import { healthViewOf, type HealthView } from '../../src/discover/vm-health.js';
import { judgeHealth, type HealthCheck, type HealthVerdict } from '../../src/judge/health.js';
import type { VmResult } from '../../src/report/outcomes.js';
import { ARM, computeClient, vm, vmPath, expectEveryAnswerUsed } from '../helpers/arm-nock.js';
import { fakeClock } from '../helpers/fake-clock.js';

/** spec example VirtualMachine_Get_InstanceView.json (2024-07-01): the agent Ready. */
const READY = {
  code: 'ProvisioningState/succeeded',
  level: 'Info',
  displayStatus: 'Ready',
  message: 'GuestAgent is running and accepting new configurations.',
  time: '2026-11-21T12:01:30+00:00'
};
/** spec example VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json: Not Ready. */
const NOT_READY = {
  code: 'ProvisioningState/Unavailable',
  level: 'Warning',
  displayStatus: 'Not Ready',
  message: 'VM status blob is found but not yet populated.',
  time: '2026-11-21T12:00:32+00:00'
};
const DEALLOCATED_AT = Date.parse('2026-11-21T11:50:00Z');

function view(
  power: string,
  parts: {
    agent?: object;
    vmHealth?: string;
    healthTime?: string;
    extensionVersion?: string;
    substatus?: string;
  } = {}
) {
  return {
    statuses: [
      {
        code: 'ProvisioningState/succeeded',
        level: 'Info',
        displayStatus: 'Provisioning succeeded',
        time: '2026-11-21T12:00:30Z'
      },
      { code: power, level: 'Info', displayStatus: `VM ${power.replace('PowerState/', '')}` }
    ],
    ...(parts.agent ? { vmAgent: { vmAgentVersion: '2.7.41491.949', statuses: [parts.agent] } } : {}),
    ...(parts.vmHealth
      ? {
          vmHealth: {
            status: {
              code: parts.vmHealth,
              level: parts.vmHealth === 'HealthState/healthy' ? 'Info' : 'Warning',
              displayStatus: `The VM health is ${parts.vmHealth.split('/')[1]}`,
              time: parts.healthTime ?? '2026-11-21T12:01:40+00:00'
            }
          }
        }
      : {}),
    ...(parts.extensionVersion
      ? {
          extensions: [
            {
              name: 'HealthExtension',
              type: 'Microsoft.ManagedServices.ApplicationHealthLinux',
              typeHandlerVersion: parts.extensionVersion,
              statuses: [
                {
                  code: 'ProvisioningState/succeeded',
                  level: 'Info',
                  displayStatus: 'Provisioning succeeded'
                }
              ],
              substatuses: parts.substatus
                ? [
                    {
                      code: 'ComponentStatus/AppHealthStatus/failed',
                      level: 'Error',
                      message: parts.substatus
                    }
                  ]
                : []
            }
          ]
        }
      : {})
  };
}

const judged = (v: ReturnType<typeof view>, check: 'guest-agent' | 'application-health') =>
  judgeHealth(healthViewOf(JSON.parse(JSON.stringify(v)) as never) as HealthView, check, DEALLOCATED_AT);

describe('judgeHealth: one instance view', () => {
  test.each([
    [
      'guest-agent',
      view('PowerState/running', { agent: READY }),
      'healthy',
      'guest agent: Ready (ProvisioningState/succeeded)'
    ],
    [
      'guest-agent',
      view('PowerState/running', { agent: NOT_READY }),
      'waiting',
      'Not Ready (ProvisioningState/Unavailable): VM status blob is found but not yet populated.'
    ],
    ['guest-agent', view('PowerState/running'), 'waiting', 'no guest agent status'],
    [
      'guest-agent',
      view('PowerState/running', { agent: { ...READY, time: '2026-11-21T11:40:00Z' } }),
      'waiting',
      'reported before the start'
    ],
    ['guest-agent', view('PowerState/starting', { agent: READY }), 'waiting', 'power state starting'],
    ['guest-agent', view('PowerState/deallocated', { agent: READY }), 'down', 'down again'],
    [
      'application-health',
      view('PowerState/running', { vmHealth: 'HealthState/healthy', extensionVersion: '2.0' }),
      'healthy',
      'HealthState/healthy'
    ],
    [
      'application-health',
      view('PowerState/running', { vmHealth: 'HealthState/unknown', extensionVersion: '2.0' }),
      'waiting',
      'The VM health is unknown'
    ],
    [
      'application-health',
      view('PowerState/running', { vmHealth: 'HealthState/initializing', extensionVersion: '2.0' }),
      'waiting',
      'initializing'
    ],
    [
      'application-health',
      view('PowerState/running', {
        vmHealth: 'HealthState/unhealthy',
        extensionVersion: '2.0',
        substatus: 'Application found to be unhealthy'
      }),
      'unhealthy',
      'extension: Application found to be unhealthy'
    ],
    // Binary Health States have no Initializing: Unhealthy right after a start is not yet a verdict.
    [
      'application-health',
      view('PowerState/running', { vmHealth: 'HealthState/unhealthy', extensionVersion: '1.0' }),
      'waiting',
      'HealthState/unhealthy'
    ],
    [
      'application-health',
      view('PowerState/running', {
        vmHealth: 'HealthState/healthy',
        healthTime: '2026-11-21T11:00:00Z',
        extensionVersion: '2.0'
      }),
      'waiting',
      'reported before the start'
    ],
    [
      'application-health',
      view('PowerState/running', { agent: READY }),
      'waiting',
      'no Application Health extension'
    ],
    [
      'application-health',
      view('PowerState/running', { extensionVersion: '2.0' }),
      'waiting',
      'no Application Health state (vmHealth) in the instance view yet'
    ]
  ] as [HealthCheck, ReturnType<typeof view>, HealthVerdict['state'], string][])(
    '%s #%#',
    (check, v, state, said) => {
      const verdict = judged(v, check);
      expect(verdict.state).toBe(state);
      expect(verdict.said).toContain(said);
    }
  );

  test('a scale-set instance without vmHealth: the report says it shows once the instance runs the latest model', () => {
    const v = healthViewOf(view('PowerState/running', { agent: READY }) as never);
    expect(judgeHealth(v, 'application-health', DEALLOCATED_AT, true).said).toContain(
      'once it runs the latest model of its scale set'
    );
    expect(judgeHealth(v, 'application-health', DEALLOCATED_AT).said).not.toContain('latest model');
  });

  test('a 404 is a VM that no longer exists', () => {
    expect(judgeHealth({ power: 'gone', updating: false }, 'guest-agent').state).toBe('down');
  });

  test('codes are matched without regard to case (HealthState/Healthy is seen in the wild)', () => {
    const v = view('PowerState/running', { vmHealth: 'HealthState/Healthy' });
    expect(judged(v, 'application-health').state).toBe('healthy');
  });
});

// ---- the wait ---------------------------------------------------------------------------------

afterEach(expectEveryAnswerUsed);

function deps(check: 'guest-agent' | 'application-health', timeoutMs = 60_000) {
  const client = computeClient();
  const clock = fakeClock('2026-11-21T12:01:00Z');
  return {
    clock,
    compute: () => client,
    vmReads: new ResourceBudget(clock, LOW_COST_GET_VM),
    pollIntervalMs: 5000,
    inFlight: new Map<string, number>(),
    health: { check, timeoutMs }
  };
}

function started(clock: { now(): number }): VmResult {
  return {
    ...{ id: vmPath('vm1'), name: 'vm1', resourceGroup: 'rg-spot', subscriptionId: vm('vm1').subscriptionId },
    outcome: 'started',
    detail: 'started',
    source: 'sweep',
    attempts: 1,
    durationMs: 1000,
    deallocatedAt: new Date(DEALLOCATED_AT).toISOString(),
    runningAt: new Date(clock.now()).toISOString()
  };
}

const replies = (bodies: object[]) => {
  const scope = nock(ARM);
  for (const body of bodies)
    scope
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .reply(200, body);
  return scope;
};

describe('verifyHealth: the wait', () => {
  test('Not Ready twice, then Ready: started, with healthyAt and the reads it took', async () => {
    replies([
      view('PowerState/running', { agent: NOT_READY }),
      view('PowerState/running', { agent: NOT_READY }),
      view('PowerState/running', { agent: READY })
    ]);
    const d = deps('guest-agent');
    const before = started(d.clock);
    const result = await verifyHealth(vm('vm1'), before, d, d.clock.now() + 60_000);
    expect(result.outcome).toBe('started');
    expect(result.health).toMatchObject({ check: 'guest-agent', state: 'healthy', reads: 3 });
    expect(Date.parse(result.healthyAt!) - Date.parse(before.runningAt!)).toBe(10_000);
    expect(result.detail).toBe('started; healthy (guest-agent) 10 s after it ran');
    expect(d.inFlight.get(before.subscriptionId)).toBe(0);
  });

  test('never Ready: started-unhealthy at the timeout, with what the agent said, never past it', async () => {
    const scope = nock(ARM)
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .times(100)
      .reply(200, view('PowerState/running', { agent: NOT_READY }));
    const d = deps('guest-agent', 30_000);
    const before = started(d.clock);
    const result = await verifyHealth(vm('vm1'), before, d, d.clock.now() + 60_000);
    scope.persist(false);
    nock.cleanAll();
    expect(result.outcome).toBe('started-unhealthy');
    expect(result.health?.state).toBe('timed-out');
    expect(result.detail).toContain('not healthy (guest-agent) within 30 s');
    expect(result.detail).toContain('VM status blob is found but not yet populated.');
    expect(result.healthyAt).toBeUndefined();
    expect(d.clock.now() - Date.parse(before.runningAt!)).toBeLessThanOrEqual(30_000);
    expect(result.health!.reads).toBe(7); // at 0, 5, …, 30 s
  });

  test('Rich Health States report Unhealthy: started-unhealthy at once, with the reason', async () => {
    replies([
      view('PowerState/running', {
        vmHealth: 'HealthState/unhealthy',
        extensionVersion: '2.0',
        substatus: 'Application found to be unhealthy'
      })
    ]);
    const d = deps('application-health');
    const result = await verifyHealth(vm('vm1'), started(d.clock), d, d.clock.now() + 60_000);
    expect(result).toMatchObject({ outcome: 'started-unhealthy', health: { state: 'unhealthy', reads: 1 } });
    expect(result.detail).toContain('Azure reports it unhealthy: Application Health');
    expect(result.detail).toContain('Application found to be unhealthy');
  });

  test('Binary Health States: Unhealthy while the application starts, then Healthy', async () => {
    replies([
      view('PowerState/running', { vmHealth: 'HealthState/unhealthy', extensionVersion: '1.0' }),
      view('PowerState/running', { vmHealth: 'HealthState/healthy', extensionVersion: '1.0' })
    ]);
    const d = deps('application-health');
    const result = await verifyHealth(vm('vm1'), started(d.clock), d, d.clock.now() + 60_000);
    expect(result).toMatchObject({ outcome: 'started', health: { state: 'healthy', reads: 2 } });
  });

  test('evicted again while waiting: started-unhealthy, down', async () => {
    replies([
      view('PowerState/running', { agent: NOT_READY }),
      view('PowerState/deallocating', { agent: NOT_READY })
    ]);
    const d = deps('guest-agent');
    const result = await verifyHealth(vm('vm1'), started(d.clock), d, d.clock.now() + 60_000);
    expect(result).toMatchObject({ outcome: 'started-unhealthy', health: { state: 'down' } });
  });

  test("the VM's deadline bounds the wait: never more than health-timeout past it", async () => {
    nock(ARM)
      .get(`${vmPath('vm1')}/instanceView`)
      .query(true)
      .times(100)
      .reply(200, view('PowerState/running', { agent: NOT_READY }));
    const d = deps('guest-agent', 20_000);
    // The start itself ran long: the VM's deadline passed 15 s before it ran.
    const before = started(d.clock);
    const result = await verifyHealth(vm('vm1'), before, d, d.clock.now() - 15_000);
    nock.cleanAll();
    expect(result.outcome).toBe('started-unhealthy');
    expect(d.clock.now() - Date.parse(before.runningAt!)).toBeLessThanOrEqual(5000);
    expect(result.detail).toContain('within 5.0 s');
  });

  test('none, or an outcome other than a start: the result is left as it is, nothing is read', async () => {
    const d = deps('guest-agent');
    const skipped: VmResult = { ...started(d.clock), outcome: 'already-running' };
    expect(await verifyHealth(vm('vm1'), skipped, d, d.clock.now())).toBe(skipped);
    const plain = started(d.clock);
    expect(await verifyHealth(vm('vm1'), plain, { ...d, health: undefined }, d.clock.now())).toBe(plain);
  });
});
