/**
 * Resource Graph's documented limits, end to end: the bundle as GitHub runs it, against an
 * emulated Resource Graph that enforces them (test/conformance/resource-graph-conformance.test.ts
 * cites each). One bad table, a shrinking fleet or a spent quota costs nothing but itself.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from '@jest/globals';
import { DEFAULT_APP, type FleetSpec, type VmSpec } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import type { RunRecord } from '../emulator/github/runner.js';
import type { RunReport } from '../../src/report/run-report.js';
import { emulator, leakedSecrets, ON_TIME_RUNNER, outcomes, TEST_WORKFLOWS, until } from './harness.js';

const SUBS = subscriptionIds(3);
const [SUB] = SUBS as [string];
const SECRET = 'graph-limits-secret';

let emu: Emulator | undefined;
afterEach(async () => {
  if (emu) expect(leakedSecrets(emu)).toEqual([]);
  await emu?.stop();
  emu = undefined;
});

const vm = (name: string, extra: Partial<VmSpec> = {}): VmSpec => ({
  subscriptionId: SUB,
  resourceGroup: 'rg-pool',
  name,
  tags: TAG,
  ...extra
});
const evicted = { powerState: 'deallocated', annotation: 'VirtualMachinePreempted' } as const;
const userStopped = { powerState: 'deallocated', annotation: 'VirtualMachineDeallocationInitiated' } as const;

function fleet(extra: Partial<FleetSpec> = {}): FleetSpec {
  return {
    subscriptions: [SUB],
    apps: [{ clientId: DEFAULT_APP, secret: SECRET }],
    vms: [vm('solo-evicted', evicted), vm('solo-stopped', userStopped), vm('solo-running')],
    scaleSets: [
      {
        subscriptionId: SUB,
        resourceGroup: 'rg-pool',
        name: 'render',
        orchestration: 'Uniform',
        tags: TAG,
        // ComputeResources gives these IDs in lower case: `/virtualmachines/`, not `/virtualMachines/`.
        lowerCaseInstanceIds: true,
        instances: [evicted, evicted, userStopped, { powerState: 'running' }]
      }
    ],
    github: { repository: 'acme/spot-fleet', secrets: { AZURE_CLIENT_SECRET: SECRET } },
    ...extra
  };
}

const reportOf = (run: RunRecord) =>
  JSON.parse(readFileSync(run.outputs['result-file']!, 'utf8')) as RunReport;

describe("Resource Graph's join limit (three joins, one of them cross-table)", () => {
  test('a sweep finds standalone VMs and lower-case Uniform instances, with the annotations the judge needs, in queries Azure accepts', async () => {
    emu = await emulator(fleet(), { workflowsDir: TEST_WORKFLOWS });
    const [run] = await emu.schedule('restart-with-vars.yml');
    expect(run!.exitCode).toBe(0);
    expect(outcomes(run)).toEqual({
      'solo-evicted': 'started',
      'solo-stopped': 'user-stopped',
      render_0: 'started',
      render_1: 'started',
      // Only its annotation, read by ID apart from the instances' query, tells a person stopped it.
      render_2: 'user-stopped'
    });
    // Every query stayed within the limit: the emulator would have refused it with a 400.
    expect(emu.answers['arg:400'] ?? 0).toBe(0);
    const annotationQueries = emu.argQueries.filter(q => q.startsWith('healthresources\n'));
    expect(annotationQueries).toHaveLength(1);
    expect(annotationQueries[0]).toContain(
      `${SUB}/resourcegroups/rg-pool/providers/microsoft.compute/virtualmachinescalesets/render/virtualmachines/2`
    );
    expect(emu.scaleSet('render').startCalls).toBe(1);
    await until(
      () => ['render_0', 'render_1'].every(n => emu!.vm(n).powerState === 'running'),
      20_000,
      'the instances to run'
    );
    expect(emu.vm('render_2').startsAccepted).toBe(0);
  });

  test("a table whose query is refused costs only that table's VMs: the others are started, and the refusal is reported with Resource Graph's reasons", async () => {
    emu = await emulator(fleet(), { workflowsDir: TEST_WORKFLOWS });
    emu.missingTables.add('computeresources');
    const [run] = await emu.schedule('restart-with-vars.yml');
    expect(run!.exitCode).toBe(0);
    expect(outcomes(run)).toEqual({ 'solo-evicted': 'started', 'solo-stopped': 'user-stopped' });
    const warnings = reportOf(run!).discovery.warnings!;
    expect(warnings).toHaveLength(1);
    // details[]' codes and messages, not only "Please provide below info when asking for support".
    expect(warnings[0]).toContain('Uniform scale-set instances (table computeresources)');
    expect(warnings[0]).toContain('InvalidQuery: Query is invalid.');
    expect(warnings[0]).toContain("Table 'computeresources' could not be found");
    expect(run!.summary).toContain('### What Resource Graph left out (warning)');
    expect(run!.log).toContain('::warning title=Resource Graph::');
  });
});

describe('a deletion while paging (Microsoft Learn, "Guidance for pagination")', () => {
  test('autoscale deleting 100 VMs after the first page loses none of the VMs that were there through the sweep', async () => {
    // 1 300 Spot VMs; the evicted ones sit just past the first 1 000 in ID order, where a
    // $skipToken walk lands once 100 earlier rows are deleted between its pages.
    const vms = Array.from({ length: 1300 }, (_, i) =>
      vm(`vm-${String(i).padStart(4, '0')}`, i >= 1000 && i < 1080 ? evicted : {})
    );
    emu = await emulator(fleet({ vms, scaleSets: [] }), { workflowsDir: TEST_WORKFLOWS });
    const doomed = vms.slice(0, 100).map(v => v.name);
    emu.beforeQuery = (_, n) => {
      if (n === 2) for (const name of doomed) emu!.model.scaleIn(emu!.vm(name));
    };
    const [run] = await emu.schedule('restart-with-vars.yml');
    expect(run!.exitCode).toBe(0);
    const found = outcomes(run);
    const wanted = vms.filter(v => v.powerState === 'deallocated').map(v => v.name);
    expect(Object.keys(found).sort()).toEqual(wanted);
    expect(Object.values(found).every(o => o === 'started')).toBe(true);
    // Read as hash partitions of tolower(id) after the first answer counted more than a page.
    expect(emu.argQueries.filter(q => q.includes('hash(tolower(id), 2)'))).toHaveLength(2);
  });
});

describe('Resource Graph scope and quota (Microsoft Learn, "Guidance for throttled requests")', () => {
  test("once an answer says the user's quota is spent, no query of the run goes out before it resets: no 429", async () => {
    // Time as Azure keeps it (a window of 5 real seconds), with quick starts to keep the run short.
    emu = await emulator(fleet(), {
      workflowsDir: TEST_WORKFLOWS,
      throttling: true,
      timeScale: 1,
      timing: { startDurationS: 1 },
      githubLimits: ON_TIME_RUNNER
    });
    // Another tool of the same identity spends 13 of the window's 15 queries just before the run's first.
    emu.beforeQuery = (_, n) => {
      if (n === 1) for (let i = 0; i < 13; i++) emu!.throttles.arg(DEFAULT_APP);
    };
    const [run] = await emu.schedule('restart-with-vars.yml');
    expect(run!.exitCode).toBe(0);
    expect(outcomes(run)).toMatchObject({
      'solo-evicted': 'started',
      render_0: 'started',
      render_2: 'user-stopped'
    });
    // VMs, Uniform instances, their annotations: the third query waited for the window to reset.
    expect(emu.argQueries.length).toBeGreaterThanOrEqual(3);
    expect(emu.answers['arg:429'] ?? 0).toBe(0);
    expect(run!.log).toContain('Resource Graph quota used up');
  });

  test('at tenant scope, the cut at the subscription limit is reported instead of silently missing VMs', async () => {
    emu = await emulator(
      fleet({
        subscriptions: SUBS,
        // The documented limit is 10 000; two make the same cut with a small fleet.
        tenantSubscriptionLimit: 2,
        vms: SUBS.map((s, i) => vm(`evicted-${i}`, { ...evicted, subscriptionId: s })),
        scaleSets: [],
        github: {
          repository: 'acme/spot-fleet',
          secrets: { AZURE_CLIENT_SECRET: SECRET },
          vars: { AZURE_SUBSCRIPTIONS: '' }
        }
      }),
      { workflowsDir: TEST_WORKFLOWS }
    );
    const [run] = await emu.schedule('restart-with-vars.yml');
    expect(run!.exitCode).toBe(0);
    expect(Object.keys(outcomes(run))).toHaveLength(2);
    expect(reportOf(run!).discovery.warnings).toEqual([
      expect.stringContaining('x-ms-tenant-subscription-limit-hit: true')
    ]);
    expect(run!.summary).toContain('x-ms-tenant-subscription-limit-hit');
  });
});
