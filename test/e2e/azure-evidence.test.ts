/**
 * Azure as it is, not as a naive model has it: Resource Health annotations that arrive minutes
 * late or never, current annotations replaced by a person's later operations, two spellings of
 * `context`, a mass eviction while a large sweep pages, Compute's per-VM read budget and its
 * 20-minute Retry-After, and an instance view caught in the middle of another actor's start. The
 * bundle runs as GitHub runs it; the result is read from the emulator and the run's outputs.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { FleetSpec, VmSpec } from '../emulator/fleets/fleet.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import type { Emulator } from '../emulator/server.js';
import {
  emulator,
  fleetOf,
  ON_TIME_RUNNER,
  githubPost,
  leakedSecrets,
  outcomes,
  preemptPayload,
  results,
  TEST_WORKFLOWS,
  until
} from './harness.js';

const EVIDENCE_WORKFLOWS = new URL('./evidence-workflows', import.meta.url).pathname;
const GH_TOKEN = 'ghs_evidenceScenarioToken0000000000000000';
/** The shipped role and the fallback role: the action may resize, reprice and deallocate. */
const WRITER = [
  ...shippedRoleActions(),
  ...(
    JSON.parse(
      readFileSync(new URL('../../docs/spot-restarter-fallback-role.json', import.meta.url), 'utf8')
    ) as { Actions: string[] }
  ).Actions
];

function fleet(
  vms: Partial<VmSpec>[] | number,
  vars: Record<string, string> = {},
  extra: Partial<FleetSpec> = {}
): FleetSpec {
  return fleetOf(
    vms,
    {
      each: { powerState: 'running' },
      name: i => `vm-${String(i).padStart(4, '0')}`,
      identity: { actions: WRITER },
      vars,
      token: GH_TOKEN
    },
    extra
  );
}

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu)).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

const detail = (run: Parameters<typeof results>[0], name: string) => results(run).find(r => r.name === name)!;

describe('the evidence of why a VM is deallocated', () => {
  test('annotations arrive minutes after the eviction: the first sweep waits for them, the next one starts the VMs', async () => {
    emu = await emulator(fleet(2), {
      timeScale: 20,
      timing: { annotationLagS: 120 },
      workflowsDir: TEST_WORKFLOWS
    });
    for (const n of ['vm-0000', 'vm-0001']) emu.model.evict(emu.vm(n), 'simulated');
    await until(
      () => ['vm-0000', 'vm-0001'].every(n => emu!.vm(n).argPowerState === 'deallocated'),
      15_000,
      'ARG'
    );
    expect(emu.model.settled(emu.vm('vm-0000'))).toBe(false); // the annotation is still on its way
    const [early] = await emu.schedule();
    expect(early!.exitCode).toBe(0);
    expect(outcomes(early)).toEqual({ 'vm-0000': 'awaiting-evidence', 'vm-0001': 'awaiting-evidence' });
    expect(detail(early, 'vm-0000').detail).toMatch(/not started in this run: .*a later run decides/);
    expect(emu.vm('vm-0000').startsAccepted).toBe(0);

    await until(
      () => ['vm-0000', 'vm-0001'].every(n => emu!.model.settled(emu!.vm(n))),
      15_000,
      'the evidence'
    );
    const [later] = await emu.schedule();
    expect(outcomes(later)).toEqual({ 'vm-0000': 'started', 'vm-0001': 'started' });
    // Both of Microsoft's spellings of `context` were used by this fleet's annotations, and read alike.
    const contexts = ['vm-0000', 'vm-0001'].map(n => emu!.model.currentAnnotation(emu!.vm(n))!.context);
    expect(new Set(contexts)).toEqual(new Set(['Platform Initiated', 'Platform-Initiated']));
    expect(detail(later, 'vm-0000').evictedAt).toBeDefined();
  });

  test('a person deallocates a VM evicted last week: the sweep before the new annotation does not start it; the one after calls it user-stopped', async () => {
    emu = await emulator(fleet([{ annotation: 'VirtualMachinePreempted', sinceMinutes: 7 * 24 * 60 }]), {
      timeScale: 20,
      timing: { annotationLagS: 120 },
      workflowsDir: TEST_WORKFLOWS
    });
    const vm = emu.vm('vm-0000');
    emu.model.userDeallocate(vm);
    await until(() => vm.argPowerState === 'deallocated', 10_000, 'ARG');
    expect(emu.model.currentAnnotation(vm)!.name).toBe('VirtualMachinePreempted'); // last week's
    const [early] = await emu.schedule();
    expect(outcomes(early)).toEqual({ 'vm-0000': 'awaiting-evidence' });
    expect(detail(early, 'vm-0000').detail).toContain('is older than its last operation');
    await until(() => emu!.model.settled(vm), 15_000, 'the annotation');
    const [later] = await emu.schedule();
    expect(outcomes(later)).toEqual({ 'vm-0000': 'user-stopped' });
    expect(detail(later, 'vm-0000').detail).toContain('VirtualMachineDeallocationInitiated');
    expect(vm.startsAccepted).toBe(0);
  });

  test('a resize or a max-price change after a person deallocated it replaces the annotation: the history still says user-stopped', async () => {
    emu = await emulator(fleet(3), {
      timeScale: 40,
      timing: { annotationLagS: 30 },
      workflowsDir: TEST_WORKFLOWS
    });
    const [resized, repriced, evicted] = ['vm-0000', 'vm-0001', 'vm-0002'].map(n => emu!.vm(n)) as [
      ReturnType<Emulator['vm']>,
      ReturnType<Emulator['vm']>,
      ReturnType<Emulator['vm']>
    ];
    emu.model.userDeallocate(resized);
    emu.model.userDeallocate(repriced);
    emu.model.evict(evicted, 'simulated');
    await until(() => evicted.powerState === 'deallocated', 10_000, 'the eviction');
    expect(emu.model.resize(resized, 'Standard_D4s_v5')).toBeUndefined();
    expect(emu.model.setMaxPrice(repriced, 0.05)).toBeUndefined();
    // A resize right after an eviction (say, by hand, to help it come back) keeps its cause.
    expect(emu.model.resize(evicted, 'Standard_D4s_v5')).toBeUndefined();
    await until(
      () => [resized, repriced, evicted].every(v => emu!.model.settled(v)),
      15_000,
      'the annotations'
    );
    expect(emu.model.currentAnnotation(resized)!.name).toBe('VirtualMachineSizeChanged');
    expect(emu.model.currentAnnotation(repriced)!.name).toBe('VirtualMachineConfigurationUpdated');
    const [run] = await emu.schedule();
    expect(outcomes(run)).toEqual({
      'vm-0000': 'user-stopped',
      'vm-0001': 'user-stopped',
      'vm-0002': 'started'
    });
    expect(emu.requests.arg).toBeGreaterThanOrEqual(2); // the sweep, then the history of the two
  });

  test('an annotation that never comes: awaiting evidence until the bound, then started, and the report says why', async () => {
    emu = await emulator(
      fleet([
        { powerState: 'deallocated', sinceMinutes: 20 }, // no annotation at all, 20 minutes on
        { powerState: 'deallocated', sinceMinutes: 2 }, // no annotation yet, 2 minutes on
        { powerState: 'deallocated', sinceMinutes: 20, annotation: 'VirtualMachineDeallocationInitiated' }
      ]),
      { timeScale: 40, workflowsDir: TEST_WORKFLOWS }
    );
    const [run] = await emu.schedule();
    expect(run!.exitCode).toBe(0);
    expect(outcomes(run)).toEqual({
      'vm-0000': 'started',
      'vm-0001': 'awaiting-evidence',
      'vm-0002': 'user-stopped'
    });
    expect(detail(run, 'vm-0000').detail).toContain(
      'annotations can go missing, so it is treated as evicted'
    );
    expect(detail(run, 'vm-0001').detail).toMatch(/deallocated \d+ min( \d+ s)? ago/);
  });
});

describe('paging while Azure moves', () => {
  test('a mass eviction while a 2 500-VM sweep pages: every row once, nothing skipped, each VM started once', async () => {
    emu = await emulator(fleet(2500), {
      timeScale: 100,
      timing: { annotationLagS: 20 },
      workflowsDir: TEST_WORKFLOWS
    });
    // One VM in ten: 250 starts, more than Resource Manager's burst of 200 writes.
    const wave = Array.from({ length: 2500 }, (_, i) => `vm-${String(i).padStart(4, '0')}`).filter(
      (_, i) => i % 10 === 0
    );
    // The first wave is down and its evidence in before the sweep; the second comes while it pages.
    for (const n of wave.slice(0, 125)) emu.model.evict(emu.vm(n), 'simulated');
    await until(
      () => wave.slice(0, 125).every(n => emu!.model.settled(emu!.vm(n))),
      30_000,
      'the first wave'
    );
    emu.faults.add({ target: 'arg', kind: 'slow', delayMs: 400 });
    const sweep = emu.schedule();
    await until(() => (emu!.requests.arg ?? 0) >= 1, 10_000, 'the first page');
    for (const n of wave.slice(125)) emu.model.evict(emu.vm(n), 'simulated');
    const [run] = await sweep;
    expect(run!.exitCode).toBe(0);
    expect(run!.log).toContain('Sweep: 2500 Spot VM(s) with eviction policy Deallocate');
    const first = results(run);
    expect(new Set(first.map(r => r.id)).size).toBe(first.length);
    expect(first.filter(r => r.outcome === 'started').length).toBeGreaterThanOrEqual(125);

    emu.faults.clear();
    await until(
      () => wave.every(n => emu!.vm(n).powerState !== 'deallocating' && emu!.model.settled(emu!.vm(n))),
      30_000,
      'the second wave'
    );
    const [again] = await emu.schedule();
    expect(again!.exitCode).toBe(0);
    await until(
      () => wave.every(n => emu!.vm(n).powerState === 'running'),
      30_000,
      'every evicted VM running'
    );
    expect(wave.filter(n => emu!.vm(n).startsAccepted !== 1)).toEqual([]);
    expect(
      Array.from({ length: 2500 }, (_, i) => `vm-${String(i).padStart(4, '0')}`).filter(
        n => !wave.includes(n) && emu!.vm(n).startsAccepted > 0
      )
    ).toEqual([]);
  }, 120_000);
});

describe("Compute's own limits", () => {
  test('a 429 with Retry-After: 1200 is never slept through: the VM fails fast and says why', async () => {
    emu = await emulator(
      fleet([{ powerState: 'deallocated', annotation: 'VirtualMachinePreempted' }], { RETRY_FOR: '30s' }),
      { timeScale: 1, githubLimits: ON_TIME_RUNNER, workflowsDir: TEST_WORKFLOWS }
    );
    emu.faults.add({ target: 'instanceView', kind: '429', retryAfterS: 1200 });
    // Slept through, the run would outlast the test's minute; it ends at once, saying why.
    const [run] = await emu.schedule();
    const vm = detail(run, 'vm-0000');
    expect(vm.outcome).toBe('failed');
    expect(vm.detail).toContain('would have us wait 1200 s, past the time this run has for it');
    expect(vm.errorCode).toBe('TooManyRequests');
  }, 90_000);
});

describe('the instance view in transit', () => {
  test('a VM another actor is starting shows PowerState/stopped, updating, no time: already-running, not skipped, not started again', async () => {
    emu = await emulator(fleet([{ powerState: 'deallocated', annotation: 'VirtualMachinePreempted' }]), {
      timeScale: 1,
      timing: { startShowsStoppedS: 30, argLagS: 60 },
      githubLimits: ON_TIME_RUNNER,
      workflowsDir: TEST_WORKFLOWS
    });
    const vm = emu.vm('vm-0000');
    emu.model.start(vm); // somebody else's start
    expect(vm.powerState).toBe('stopped');
    expect(vm.provisioning).toBe('updating');
    const [run] = await emu.schedule();
    expect(outcomes(run)).toEqual({ 'vm-0000': 'already-running' });
    expect(detail(run, 'vm-0000').detail).toContain('another operation is starting it');
    expect(vm.startsAccepted).toBe(1);
  });
});

/**
 * The five ways the rule went wrong, each reproduced on an emulator that behaves as Azure does (a
 * failed start leaves `ProvisioningState/failed/<code>`, an eviction does not move the instance
 * view's time, the action's writes are annotated as a customer's, `occurredTime` is the emit time,
 * capacity a deallocation frees can go to others), each checked over consecutive runs.
 */
describe('decided by the order of Azure events, safe in both directions', () => {
  const options = {
    timeScale: 40,
    timing: { annotationLagS: 30, annotationEmitS: 20 },
    workflowsDir: EVIDENCE_WORKFLOWS
  };
  const restart = async () => {
    const [run] = await emu!.schedule('restart.yml');
    if (run!.exitCode !== 0) console.log(run!.log.slice(-3000));
    expect(run!.exitCode).toBe(0);
    return run;
  };
  const settled = (...names: string[]) =>
    until(() => names.every(n => emu!.model.settled(emu!.vm(n))), 20_000, 'the evidence');
  const LIST = { SpotRestarterFallbackSizes: 'Standard_D2as_v5' };

  test("1. the action's own resize, max-price raise and revert deallocate are not a person's: every run tries again, and each VM runs once capacity returns", async () => {
    emu = await emulator(
      fleet(
        [
          { tags: LIST }, // resized by the fallback
          { maxPrice: 0.01 }, // its max price raised
          {
            vmSize: 'Standard_D2as_v5',
            tags: { ...LIST, SpotRestarterPreferredSize: 'Standard_D2s_v5' }
          } // reverted
        ],
        { RAISE_MAX_PRICE: 'to-current' }
      ),
      options
    );
    const [resized, repriced, reverted] = ['vm-0000', 'vm-0001', 'vm-0002'].map(n => emu!.vm(n)) as [
      ReturnType<Emulator['vm']>,
      ReturnType<Emulator['vm']>,
      ReturnType<Emulator['vm']>
    ];
    emu.model.evict(resized, 'capacity');
    emu.model.evict(repriced, 'capacity');
    emu.model.setCapacity('eastus', 'Standard_D2as_v5', 0);
    // A busy region: the capacity the revert's deallocate frees goes to others at once.
    emu.model.othersTakeReleasedCapacity = true;
    await until(
      () => resized.powerState === 'deallocated' && repriced.powerState === 'deallocated',
      20_000,
      'the evictions'
    );
    await settled('vm-0000', 'vm-0001');

    const [revert] = await emu.schedule('revert.yml');
    expect(outcomes(revert)).toMatchObject({ 'vm-0002': 'failed' });
    expect(reverted.powerState).toBe('deallocated');

    const first = await restart();
    expect(outcomes(first)).toEqual({
      'vm-0000': 'capacity-unavailable',
      'vm-0001': 'capacity-unavailable',
      'vm-0002': 'capacity-unavailable'
    });
    expect(resized.vmSize).toBe('Standard_D2as_v5'); // the fallback's resize
    expect(repriced.maxPrice).toBe(0.02001); // the raise: five decimals, strictly above the current price
    // Every write of the action is annotated as a customer's operation, and has reached Resource Graph.
    await settled('vm-0000', 'vm-0001', 'vm-0002');
    expect(resized.annotations.map(a => a.name)).toContain('VirtualMachineSizeChanged');
    expect(repriced.annotations.map(a => a.name)).toContain('VirtualMachineConfigurationUpdated');
    expect(reverted.annotations.map(a => a.name)).toContain('VirtualMachineDeallocationInitiated');

    const starts = [resized, repriced, reverted].map(v => v.startsAccepted);
    const second = await restart();
    expect(outcomes(second)).toEqual(outcomes(first));
    expect([resized, repriced, reverted].every((v, i) => v.startsAccepted > starts[i]!)).toBe(true);
    expect(results(second).find(r => r.name === 'vm-0002')!.detail).not.toContain('deallocated by a person');

    emu.model.setCapacity('eastus', 'Standard_D2s_v5', 10);
    emu.model.setCapacity('eastus', 'Standard_D2as_v5', 10);
    const third = await restart();
    for (const outcome of Object.values(outcomes(third))) expect(outcome).toMatch(/^started/);
    await until(
      () => [resized, repriced, reverted].every(v => v.powerState === 'running'),
      20_000,
      'running'
    );
  }, 120_000);

  test('2. a failed start does not reset the clock: each run tries again, and the VM starts once capacity returns', async () => {
    emu = await emulator(
      fleet(
        [
          { powerState: 'deallocated', sinceMinutes: 20 }, // its annotation lost
          { powerState: 'deallocated', sinceMinutes: 20, annotation: 'VirtualMachinePreempted' }
        ],
        {},
        { pools: [{ location: 'eastus', vmSize: 'Standard_D2s_v5', capacity: 0 }] }
      ),
      options
    );
    const lost = emu.vm('vm-0000');
    const first = await restart();
    expect(outcomes(first)).toEqual({ 'vm-0000': 'capacity-unavailable', 'vm-0001': 'capacity-unavailable' });
    await until(() => lost.provisioning === 'failed', 10_000, 'the failed start');
    const second = await restart();
    expect(outcomes(second)).toEqual({
      'vm-0000': 'capacity-unavailable',
      'vm-0001': 'capacity-unavailable'
    });
    expect(detail(second, 'vm-0000').errorCode).toBeDefined();
    expect([lost.startsAccepted, emu.vm('vm-0001').startsAccepted]).toEqual([2, 2]);
    emu.model.setCapacity('eastus', 'Standard_D2s_v5', 10);
    const third = await restart();
    expect(outcomes(third)).toEqual({ 'vm-0000': 'started', 'vm-0001': 'started' });
  }, 90_000);

  test('3. an eviction does not move the instance view time: a VM re-evicted minutes after its start is started, by the sweep and by the dispatch, without waiting', async () => {
    emu = await emulator(fleet([{ sinceMinutes: 5 }, { sinceMinutes: 5 }]), options);
    const [swept, dispatched] = [emu.vm('vm-0000'), emu.vm('vm-0001')];
    for (const vm of [swept, dispatched])
      emu.model.setPast(vm, [{ name: 'VirtualMachineStartInitiatedByControlPlane', minutesAgo: 6 }], 5);
    const before = swept.changedAt;
    emu.model.evict(swept, 'simulated');
    await until(() => swept.powerState === 'deallocated', 10_000, 'the eviction');
    expect(swept.changedAt).toBe(before);
    await settled('vm-0000');
    const first = await restart();
    expect(outcomes(first)).toMatchObject({ 'vm-0000': 'started' });
    await until(() => swept.powerState === 'running', 20_000, 'running');
    // Re-evicted within the bound of that start: the order still says eviction.
    emu.model.evict(swept, 'simulated');
    await until(() => swept.powerState === 'deallocated', 10_000, 'the second eviction');
    await settled('vm-0000');
    const second = await restart();
    expect(outcomes(second)).toMatchObject({ 'vm-0000': 'started' });
    expect(swept.startsAccepted).toBe(2);

    // The fast path: the agent's Preempt is the evidence before any annotation has arrived.
    const event = emu.model.evict(dispatched, 'simulated')!;
    expect(
      (
        await githubPost(emu, '/repos/acme/spot-fleet/dispatches', GH_TOKEN, {
          event_type: 'spot-vm-preempted',
          client_payload: preemptPayload(dispatched, event, { detectedAt: emu!.clock.iso() })
        })
      ).status
    ).toBe(204);
    const [fast] = await emu.settle();
    expect(outcomes(fast)).toEqual({ 'vm-0001': 'started' });
    expect(detail(fast, 'vm-0001').detail).not.toContain('awaiting');
    expect(emu.model.currentAnnotation(dispatched)?.name).not.toBe('VirtualMachinePreempted');
  }, 90_000);

  test("4. a person's deallocation an hour ago, the instance view's time months older: never started", async () => {
    emu = await emulator(
      fleet([
        { powerState: 'deallocated', sinceMinutes: 90 * 24 * 60 },
        { powerState: 'deallocated', sinceMinutes: 90 * 24 * 60 }
      ]),
      options
    );
    emu.model.setPast(emu.vm('vm-0000'), [{ name: 'VirtualMachineDeallocationInitiated', minutesAgo: 60 }]);
    // The control: an eviction an hour ago, which (as in Azure) did not move the time either.
    emu.model.setPast(emu.vm('vm-0001'), [{ name: 'VirtualMachinePreempted', minutesAgo: 60 }]);
    const first = await restart();
    expect(outcomes(first)).toEqual({ 'vm-0000': 'user-stopped', 'vm-0001': 'started' });
    expect(detail(first, 'vm-0000').detail).toContain('VirtualMachineDeallocationInitiated');
    const second = await restart();
    expect(outcomes(second)).toMatchObject({ 'vm-0000': 'user-stopped' });
    expect(emu.vm('vm-0000')).toMatchObject({ powerState: 'deallocated', startsAccepted: 0 });
  }, 60_000);

  test('5. a person powered it off, then Azure evicted it: the history says so, and it stays off', async () => {
    emu = await emulator(fleet(2), options);
    const [stopped, control] = [emu.vm('vm-0000'), emu.vm('vm-0001')];
    emu.model.userStop(stopped);
    await settled('vm-0000');
    emu.model.evict(stopped, 'simulated');
    emu.model.evict(control, 'simulated');
    await until(() => [stopped, control].every(v => v.powerState === 'deallocated'), 10_000, 'the evictions');
    await settled('vm-0000', 'vm-0001');
    expect(emu.model.currentAnnotation(stopped)!.name).toBe('VirtualMachinePreempted');
    const first = await restart();
    expect(outcomes(first)).toEqual({ 'vm-0000': 'user-stopped', 'vm-0001': 'started' });
    expect(detail(first, 'vm-0000').detail).toMatch(
      /VirtualMachineStopInitiatedByControlPlane.*the eviction at .* came after it/
    );
    const second = await restart();
    expect(outcomes(second)).toMatchObject({ 'vm-0000': 'user-stopped' });
    expect(stopped.startsAccepted).toBe(0);
  }, 60_000);
});

describe('a start preempted by a more recent operation', () => {
  test("a person's deallocate preempts our start: user-stopped at once, and in the next run", async () => {
    emu = await emulator(fleet(1), {
      timeScale: 40,
      timing: { annotationLagS: 30, annotationEmitS: 20, startDurationS: 300 },
      workflowsDir: EVIDENCE_WORKFLOWS
    });
    const vm = emu.vm('vm-0000');
    emu.model.evict(vm, 'simulated');
    await until(() => vm.powerState === 'deallocated' && emu!.model.settled(vm), 20_000, 'the evidence');
    const running = emu.schedule('restart.yml');
    await until(() => vm.startsAccepted === 1, 20_000, 'our start');
    emu.model.userDeallocate(vm); // a person, while our start is under way
    const [first] = await running;
    expect(outcomes(first)).toEqual({ 'vm-0000': 'user-stopped' });
    expect(detail(first, 'vm-0000').detail).toContain('a more recent operation preempted our start');
    await until(() => emu!.model.settled(vm), 20_000, "the person's annotation");
    const [second] = await emu.schedule('restart.yml');
    expect(outcomes(second)).toEqual({ 'vm-0000': 'user-stopped' });
    expect(vm).toMatchObject({ powerState: 'deallocated', startsAccepted: 1 });
  }, 60_000);
});
