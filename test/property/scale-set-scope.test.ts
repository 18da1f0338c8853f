/**
 * The scope rule for scale-set instances, as a property: over random fleets of Flexible and
 * Uniform scale sets — the opt-in tag on the instance, on its scale set, on both or neither, Spot
 * settings on the instance (Flexible) or the scale set (Uniform), Try & restore on or off — the
 * action's own queries (src/discovery.ts, evaluated by the emulator's Resource Graph) and its own
 * judge start exactly the instances an oracle written from the issue allows.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { buildQueries, toRecord, type VmRecord } from '../../src/discover/discovery.js';
import { judge } from '../../src/judge/eligibility.js';
import { runQuery } from '../emulator/azure/kql.js';
import { SUBS, TAG } from './fleets.js';

const tagArb = fc.option(
  fc.record({
    name: fc.constantFrom('AttemptRestartAfterEviction', 'attemptRESTARTafterEviction', 'Other'),
    value: fc.constantFrom('true', 'TRUE', 'false')
  }),
  { nil: undefined }
);

const scaleSetArb = fc.record({
  sub: fc.constantFrom(...SUBS),
  group: fc.constantFrom('rg-a', 'rg-b'),
  orchestration: fc.constantFrom('Uniform', 'Flexible'),
  priority: fc.constantFrom('Spot', 'Regular'),
  evictionPolicy: fc.constantFrom('Deallocate', 'Delete'),
  tryRestore: fc.boolean(),
  tag: tagArb,
  instances: fc.array(
    fc.record({ tag: tagArb, power: fc.constantFrom('deallocated', 'running', 'deallocating') }),
    { minLength: 1, maxLength: 4 }
  )
});

const inputsArb = fc.record({
  subscriptions: fc.subarray(SUBS),
  resourceGroups: fc.subarray(['rg-a', 'rg-b']),
  takeOverTryRestore: fc.boolean()
});

type ScaleSet = typeof scaleSetArb extends fc.Arbitrary<infer T> ? T : never;
type Inputs = typeof inputsArb extends fc.Arbitrary<infer T> ? T : never;

const tags = (t: ScaleSet['tag']) => (t ? { [t.name]: t.value } : {});
const optedIn = (t: ScaleSet['tag']) =>
  !!t && t.name.toLowerCase() === 'attemptrestartaftereviction' && t.value.toLowerCase() === 'true';

interface Instance {
  id: string;
  ss: ScaleSet;
  i: ScaleSet['instances'][number];
}

function layout(sets: ScaleSet[]) {
  const instances: Instance[] = [];
  const resources: Record<string, unknown>[] = [];
  const computeresources: Record<string, unknown>[] = [];
  sets.forEach((ss, s) => {
    const name = `ss${s}`;
    const ssId = `/subscriptions/${ss.sub}/resourceGroups/${ss.group}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;
    resources.push({
      id: ssId,
      name,
      type: 'microsoft.compute/virtualmachinescalesets',
      resourceGroup: ss.group,
      subscriptionId: ss.sub,
      tags: tags(ss.tag),
      sku: { name: 'Standard_D2s_v5', capacity: ss.instances.length },
      properties: {
        orchestrationMode: ss.orchestration,
        ...(ss.orchestration === 'Uniform'
          ? {
              virtualMachineProfile: {
                priority: ss.priority,
                evictionPolicy: ss.evictionPolicy,
                billingProfile: { maxPrice: -1 }
              }
            }
          : {}),
        spotRestorePolicy: { enabled: ss.tryRestore }
      }
    });
    ss.instances.forEach((i, n) => {
      const power = { extended: { instanceView: { powerState: { code: `PowerState/${i.power}` } } } };
      if (ss.orchestration === 'Uniform') {
        const id = `${ssId}/virtualMachines/${n}`;
        instances.push({ id, ss, i });
        computeresources.push({
          id,
          name: `${name}_${n}`,
          type: 'microsoft.compute/virtualmachinescalesets/virtualmachines',
          resourceGroup: ss.group,
          subscriptionId: ss.sub,
          location: 'eastus',
          tags: tags(i.tag),
          zones: null,
          properties: { instanceId: String(n), ...power }
        });
      } else {
        const id = `/subscriptions/${ss.sub}/resourceGroups/${ss.group}/providers/Microsoft.Compute/virtualMachines/${name}_${n}`;
        instances.push({ id, ss, i });
        resources.push({
          id,
          name: `${name}_${n}`,
          type: 'microsoft.compute/virtualmachines',
          resourceGroup: ss.group,
          subscriptionId: ss.sub,
          location: 'eastus',
          tags: tags(i.tag),
          zones: null,
          properties: {
            priority: ss.priority,
            evictionPolicy: ss.evictionPolicy,
            hardwareProfile: { vmSize: 'Standard_D2s_v5' },
            billingProfile: { maxPrice: -1 },
            virtualMachineScaleSet: { id: ssId },
            ...power
          }
        });
      }
    });
  });
  return {
    instances,
    tables: { resources, computeresources, healthresources: [], healthresourcechanges: [] }
  };
}

/** The rule, without the action's code. */
function oracle(x: Instance, inputs: Inputs): boolean {
  return (
    x.ss.priority === 'Spot' &&
    x.ss.evictionPolicy === 'Deallocate' &&
    x.i.power === 'deallocated' &&
    (optedIn(x.i.tag) || optedIn(x.ss.tag)) &&
    (!x.ss.tryRestore || inputs.takeOverTryRestore) &&
    (!inputs.subscriptions.length || inputs.subscriptions.includes(x.ss.sub)) &&
    (!inputs.resourceGroups.length || inputs.resourceGroups.includes(x.ss.group))
  );
}

function actionStarts(sets: ScaleSet[], inputs: Inputs): string[] {
  const { tables } = layout(sets);
  const scoped = {
    ...tables,
    resources: tables.resources.filter(
      r => !inputs.subscriptions.length || inputs.subscriptions.includes(String(r.subscriptionId))
    ),
    computeresources: tables.computeresources.filter(
      r => !inputs.subscriptions.length || inputs.subscriptions.includes(String(r.subscriptionId))
    )
  };
  const found: VmRecord[] = [];
  for (const { query } of buildQueries({
    candidatesOnly: true,
    resourceGroups: inputs.resourceGroups,
    withAnnotations: false
  })) {
    for (const row of runQuery(query(), scoped).rows as Record<string, unknown>[]) found.push(toRecord(row));
  }
  return found
    .filter(vm => vm.powerState === 'PowerState/deallocated') // the instance view agrees in this fleet
    .filter(vm => judge(vm, { ...inputs, tag: TAG }).eligible)
    .map(vm => vm.id)
    .sort();
}

describe('the scope rule for scale-set instances', () => {
  test('exactly the evicted, opted-in instances in scope, with the tag on the instance or its scale set, Try & restore left to Azure', () => {
    fc.assert(
      fc.property(fc.array(scaleSetArb, { maxLength: 6 }), inputsArb, (sets, inputs) => {
        const expected = layout(sets)
          .instances.filter(x => oracle(x, inputs))
          .map(x => x.id)
          .sort();
        expect(actionStarts(sets, inputs)).toEqual(expected);
      }),
      { numRuns: 200 }
    );
  });
});
