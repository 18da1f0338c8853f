/**
 * The permission check over HTTP (nock), shaped like Permissions_ListForResourceGroup: one request
 * sequence per resource group per run, every nextLink followed on Resource Manager's origin only,
 * NotActions honoured, and a group that cannot be listed is "unknown", never a gap.
 */
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import {
  PermissionCheck,
  ACTIONS_BY_KIND,
  REQUIRED_ACTIONS,
  describeGap,
  type PermissionGap
} from '../../src/azure/permissions.js';
import { ARM, SUB, staticCredential } from '../helpers/arm-nock.js';
import { FEATURE_ACTIONS, featureActionsFor } from '../../src/act/feature-permissions.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const ALL = Object.keys(REQUIRED_ACTIONS);
const path = (rg: string) =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Authorization/permissions`;
const entry = (actions: string[], notActions: string[] = []) => ({
  actions,
  notActions,
  dataActions: [],
  notDataActions: []
});

function checker(found: PermissionGap[] = [], unknown: string[] = []) {
  return new PermissionCheck({
    credential: staticCredential,
    resourceManager: ARM,
    tokenScope: `${ARM}/.default`,
    onGap: g => found.push(g),
    onUnknown: (g, reason) => unknown.push(`${g.resourceGroup}: ${reason}`)
  });
}

describe('PermissionCheck', () => {
  test('the actions of the features a run turns on are checked too, and named with the fallback role', async () => {
    nock(ARM)
      .get(path('rg-f'))
      .query(true)
      .reply(200, { value: [entry(ALL)] });
    const featureActions = featureActionsFor(
      { fallbackSizes: { Standard_D2s_v5: ['Standard_D2as_v5'] }, raiseMaxPrice: { kind: 'no' } },
      false
    );
    const check = new PermissionCheck({
      credential: staticCredential,
      resourceManager: ARM,
      tokenScope: `${ARM}/.default`,
      featureActions
    });
    const [gap] = await check.check([{ subscriptionId: SUB, resourceGroup: 'rg-f' }]);
    expect(gap).toMatchObject({
      missing: [],
      missingForFeatures: Object.keys(FEATURE_ACTIONS['fallback sizes'])
    });
    expect(describeGap(gap!, featureActions)).toContain('docs/spot-restarter-fallback-role.json');
    expect(featureActionsFor({ fallbackSizes: {}, raiseMaxPrice: { kind: 'no' } }, false)).toEqual({});
  });

  test('pages are followed, and a group is listed once however many VMs ask', async () => {
    const scope = nock(ARM)
      .get(path('rg-a'))
      .query({ 'api-version': '2022-04-01' })
      .once()
      .reply(200, {
        value: [entry(['Microsoft.Compute/*/read'])],
        nextLink: `${ARM}${path('rg-a')}?api-version=2022-04-01&$skipToken=1`
      })
      .get(path('rg-a'))
      .query({ 'api-version': '2022-04-01', $skipToken: '1' })
      .once()
      .reply(200, { value: [entry(['*'], ['Microsoft.Compute/virtualMachines/start/action'])] });
    const found: PermissionGap[] = [];
    const check = checker(found);
    const vm = { subscriptionId: SUB, resourceGroup: 'rg-a' };
    const [first, second] = await Promise.all([
      check.check([vm, vm]),
      check.check([{ ...vm, resourceGroup: 'RG-A' }])
    ]);
    expect(scope.isDone()).toBe(true);
    // '*' minus start/action, plus Compute reads: only start is missing.
    expect(first).toEqual([
      expect.objectContaining({
        resourceGroup: 'rg-a',
        missing: ['Microsoft.Compute/virtualMachines/start/action']
      })
    ]);
    expect(second).toHaveLength(1);
    expect(found).toHaveLength(1); // warned once
    expect(describeGap(found[0]!)).toContain(`scope /subscriptions/${SUB}/resourceGroups/rg-a`);
    expect(await check.gaps()).toEqual(found);
  });

  test('a role that grants everything needed: no gap', async () => {
    nock(ARM)
      .get(path('rg-b'))
      .query(true)
      .reply(200, { value: [entry(ALL)] });
    expect(await checker().check([{ subscriptionId: SUB, resourceGroup: 'rg-b' }])).toEqual([]);
  });

  test('a nextLink to another host is not followed, and the group stays unknown', async () => {
    nock(ARM)
      .get(path('rg-c'))
      .query(true)
      .reply(200, { value: [entry([])], nextLink: 'https://elsewhere.test/steal?token=1' });
    const unknown: string[] = [];
    const found: PermissionGap[] = [];
    expect(await checker(found, unknown).check([{ subscriptionId: SUB, resourceGroup: 'rg-c' }])).toEqual([]);
    expect(found).toEqual([]);
    expect(unknown[0]).toContain('leads away from');
  });

  test('an error answer is unknown, not a gap', async () => {
    nock(ARM)
      .get(path('rg-d'))
      .query(true)
      .reply(404, { error: { code: 'ResourceGroupNotFound', message: 'x' } });
    const unknown: string[] = [];
    expect(await checker([], unknown).check([{ subscriptionId: SUB, resourceGroup: 'rg-d' }])).toEqual([]);
    expect(unknown[0]).toContain('404');
  });

  test('a group is judged by what the run needs there: no scale-set action for a group of plain VMs', async () => {
    const vmsOnly = ACTIONS_BY_KIND.vm;
    nock(ARM)
      .get(path('rg-vms'))
      .query(true)
      .reply(200, { value: [entry(vmsOnly)] })
      .get(path('rg-farm'))
      .query(true)
      .reply(200, { value: [entry(vmsOnly)] });
    const found: PermissionGap[] = [];
    const check = checker(found);
    expect(await check.check([{ subscriptionId: SUB, resourceGroup: 'rg-vms', kind: 'vm' }])).toEqual([]);
    const [gap] = await check.check([
      { subscriptionId: SUB, resourceGroup: 'rg-farm', kind: 'vmss-uniform' }
    ]);
    expect(gap!.missing.sort()).toEqual(
      [
        'Microsoft.Compute/virtualMachineScaleSets/read',
        'Microsoft.Insights/autoscalesettings/read',
        'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
        'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read',
        'Microsoft.Compute/virtualMachineScaleSets/start/action'
      ].sort()
    );
    // A Flexible instance found later in the VM group widens what that group needs, and says so once.
    const [widened] = await check.check([
      { subscriptionId: SUB, resourceGroup: 'rg-vms', kind: 'vmss-flex' }
    ]);
    expect(widened!.missing.sort()).toEqual(
      ['Microsoft.Compute/virtualMachineScaleSets/read', 'Microsoft.Insights/autoscalesettings/read'].sort()
    );
    expect(found.map(g => g.resourceGroup)).toEqual(['rg-farm', 'rg-vms']);
    expect(describeGap(found[0]!)).not.toContain('virtualMachines/start/action');
  });

  test('every action of the shipped role is needed by some kind of target', () => {
    const used = new Set(Object.values(ACTIONS_BY_KIND).flat());
    expect([...used].sort()).toEqual(Object.keys(REQUIRED_ACTIONS).sort());
  });
});
