/**
 * The emulated platform's Try & restore and autoscale settings, as Microsoft documents them:
 * - "Azure Spot Virtual Machines for Virtual Machine Scale Sets" (learn.microsoft.com/azure/
 *   virtual-machine-scale-sets/use-spot): Try & restore "attempts to restore Azure Spot Virtual
 *   Machines evicted due to capacity"; "Try & restore is disabled in scale sets that use Autoscale."
 * - Compute spec `SpotRestorePolicy.restoreTimeout`: "Timeout value expressed as an ISO 8601 time
 *   duration after which the platform will not try to restore the VMSS SPOT instances".
 * - Autoscale settings: azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/
 *   stable/2015-04-01/examples/getAutoscaleSetting.json (`properties.enabled`,
 *   `properties.targetResourceUri`); Resource Graph lists `microsoft.insights/autoscalesettings` in
 *   `resources` ("Azure Resource Graph table and resource type reference"), and returns only what
 *   the caller may read.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { emulator, until } from '../e2e/harness.js';
import { DEFAULT_APP, type ScaleSetSpec } from '../emulator/fleets/fleet.js';
import { shippedRoleActions } from '../emulator/azure/rbac.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { httpsCall, RESOURCE_GRAPH, signIn } from './https-call.js';

const [SUB] = subscriptionIds(1) as [string];
const SECRET = 'try-restore-conformance';
const BLIND_APP = '0b1c2d3e-0000-4000-8000-0000000000b1';

let emu: Emulator;
const tokens: Record<string, string> = {};

const farm = (name: string, extra: Partial<ScaleSetSpec> = {}): ScaleSetSpec => ({
  subscriptionId: SUB,
  resourceGroup: 'rg-farm',
  name,
  orchestration: 'Uniform',
  tags: TAG,
  spotRestore: true,
  instances: 1,
  ...extra
});

beforeAll(async () => {
  emu = await emulator(
    {
      subscriptions: [SUB],
      apps: [
        { clientId: DEFAULT_APP, secret: SECRET },
        {
          clientId: BLIND_APP,
          secret: SECRET,
          actions: shippedRoleActions().filter(a => a !== 'Microsoft.Insights/autoscalesettings/read')
        }
      ],
      vms: [],
      scaleSets: [
        farm('capacity'),
        farm('autoscaled', { autoscale: true }),
        farm('price', { maxPrice: 0.5 }),
        farm('short', { restoreTimeout: 'PT30S' })
      ]
    },
    // The platform tries a minute after the eviction; the short scale set gives up after 30 s.
    { timeScale: 1000, timing: { tryRestoreDelayS: 60 } }
  );
  for (const app of [DEFAULT_APP, BLIND_APP]) tokens[app] = await signIn(emu, app, SECRET);
});
afterAll(() => emu.stop());

describe('autoscale settings in Resource Graph', () => {
  const query =
    "resources | where type =~ 'microsoft.insights/autoscalesettings' | project id, type, properties";

  test('an enabled setting targets its scale set, in the shape of getAutoscaleSetting.json; the target may differ in case', async () => {
    const answer = await httpsCall(emu, 'POST', RESOURCE_GRAPH, {
      auth: tokens[DEFAULT_APP],
      body: { subscriptions: [SUB], query }
    });
    const rows = (answer.body as { data: { type: string; properties: Record<string, unknown> }[] }).data;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.type).toBe('microsoft.insights/autoscalesettings');
    expect(rows[0]!.properties).toMatchObject({ enabled: true, profiles: expect.any(Array) });
    const target = String(rows[0]!.properties.targetResourceUri);
    expect(target.toLowerCase()).toBe(emu.scaleSet('autoscaled').id.toLowerCase());
    expect(target).not.toBe(emu.scaleSet('autoscaled').id);
  });

  test('an identity without Microsoft.Insights/autoscalesettings/read is shown none', async () => {
    const answer = await httpsCall(emu, 'POST', RESOURCE_GRAPH, {
      auth: tokens[BLIND_APP],
      body: { subscriptions: [SUB], query }
    });
    expect(answer.status).toBe(200);
    expect((answer.body as { data: unknown[] }).data).toEqual([]);
  });
});

describe("the platform's Try & restore", () => {
  test('restores a capacity eviction; not under autoscale, not a price eviction, not past restoreTimeout', async () => {
    // The short scale set's instance has no capacity until its timeout has passed.
    emu.model.setCapacity('eastus', 'Standard_D2s_v5', 0);
    emu.model.evict(emu.vm('capacity_0'), 'capacity');
    emu.model.evict(emu.vm('autoscaled_0'), 'capacity');
    emu.model.evict(emu.vm('price_0'), 'price');
    emu.model.evict(emu.vm('short_0'), 'capacity');
    await until(
      () =>
        ['capacity_0', 'autoscaled_0', 'price_0', 'short_0'].every(
          n => emu.vm(n).powerState === 'deallocated'
        ),
      20_000,
      'the evictions'
    );
    // Capacity returns after the short timeout; the price falls back under every max price.
    await new Promise(resolve => emu.clock.after(45_000, () => resolve(undefined)));
    emu.model.setCapacity('eastus', 'Standard_D2s_v5', 100);
    emu.model.setPrice('eastus', 'Standard_D2s_v5', 0.01);
    await until(
      () => emu.vm('capacity_0').powerState === 'running',
      20_000,
      'the capacity eviction to be restored'
    );
    const said = (vm: string) => emu.model.timeline.filter(t => t.vm === vm).map(t => t.what);
    expect(said('autoscaled_0')).toContain('Try & restore: off, the scale set uses autoscale');
    expect(said('price_0')).toContain('Try & restore: not for a price eviction');
    expect(said('short_0')).toContain('Try & restore gave up: restore timeout reached');
    for (const vm of ['autoscaled_0', 'price_0', 'short_0'])
      expect(emu.vm(vm).powerState).toBe('deallocated');
  });
});
