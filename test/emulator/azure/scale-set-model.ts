/**
 * Virtual machine scale sets in the Spot model. Every instance is a `Vm` of the model (same state
 * machine: eviction, start, capacity, price, annotations); this file says how a scale set's spec
 * becomes those instances and what identity each one has in Azure:
 * - Uniform: `{scaleSetId}/virtualMachines/{n}`, named `{ss}_{n}` (Microsoft Learn, "Instance IDs
 *   for Azure virtual machine scale set virtual machines"); priority, eviction policy and max price
 *   belong to the scale set's `virtualMachineProfile`.
 * - Flexible: an ordinary VM `…/virtualMachines/{ss}_{8 hex}` with the scale set's settings copied
 *   onto it, and `properties.virtualMachineScaleSet.id` pointing back.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ScaledClock } from '../clock.js';
import { machineDefaults, type InstanceSpec, type ScaleSetSpec, type VmSpec } from '../fleets/fleet.js';
import type { ArmError } from './azure-errors.js';
import type { Vm } from './spot.js';

export type VmKind = 'vm' | 'vmss-flex' | 'vmss-uniform';

export interface ScaleSet {
  key: string;
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  orchestration: 'Uniform' | 'Flexible';
  location: string;
  vmSize: string;
  zone?: string;
  priority: string;
  evictionPolicy: string;
  maxPrice: number;
  osType: 'Linux' | 'Windows';
  /** Whether the spec named a priority: a Flexible scale set shows a virtualMachineProfile only then. */
  hasProfile: boolean;
  tags: Record<string, string>;
  spotRestore: boolean;
  /** `spotRestorePolicy.restoreTimeout` as given, and in seconds (undefined: the model's default). */
  restoreTimeout?: string;
  restoreTimeoutS?: number;
  /** An enabled autoscale setting targets it: Try & restore is off. */
  autoscale: boolean;
  /** ComputeResources shows its instances' IDs in lower case. */
  lowerCaseInstanceIds: boolean;
  uniqueId: string;
  createdAt: string;
  /** Its instances, in instance-ID order (deleted ones stay here, marked deleted). */
  instances: Vm[];
  /** Scale-set start calls received, refused ones too (tests assert one call per batch). */
  startCalls: number;
}

/** Who an instance is in Azure: passed to `SpotModel.add` next to its VmSpec. */
export interface InstanceIdentity {
  id?: string;
  kind: VmKind;
  scaleSet?: ScaleSet;
  instanceId?: string;
}

export const scaleSetId = (spec: Pick<ScaleSetSpec, 'subscriptionId' | 'resourceGroup' | 'name'>) =>
  `/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${spec.name}`;

/** A fleet file's scale set, checked before it is built: the error names the field and what it expects. */
export function checkScaleSetSpec(spec: ScaleSetSpec, where: string): void {
  const fail = (field: string, expected: string, value: unknown) => {
    throw new Error(`${where}.${field} is ${JSON.stringify(value)}: expected ${expected}`);
  };
  for (const field of ['subscriptionId', 'resourceGroup', 'name'] as const)
    if (typeof spec[field] !== 'string' || !spec[field]) fail(field, 'a non-empty string', spec[field]);
  if (spec.orchestration !== 'Uniform' && spec.orchestration !== 'Flexible')
    fail('orchestration', "'Uniform' or 'Flexible'", spec.orchestration);
  const { instances } = spec;
  if (typeof instances === 'number') {
    if (!Number.isInteger(instances) || instances < 0)
      fail('instances', 'a whole number ≥ 0 or a list', instances);
  } else if (!Array.isArray(instances))
    fail('instances', 'a whole number ≥ 0 or a list of instances', instances);
  if (spec.evictionPolicy !== undefined && !['Deallocate', 'Delete'].includes(spec.evictionPolicy))
    fail('evictionPolicy', "'Deallocate' or 'Delete'", spec.evictionPolicy);
}

export function newScaleSet(spec: ScaleSetSpec, clock: ScaledClock): ScaleSet {
  const id = scaleSetId(spec);
  return {
    key: id.toLowerCase(),
    id,
    subscriptionId: spec.subscriptionId,
    resourceGroup: spec.resourceGroup,
    name: spec.name,
    orchestration: spec.orchestration,
    ...machineDefaults(spec),
    hasProfile: spec.orchestration === 'Uniform' || spec.priority !== undefined,
    spotRestore: spec.spotRestore ?? false,
    restoreTimeout: spec.restoreTimeout,
    restoreTimeoutS: spec.restoreTimeout === undefined ? undefined : isoSeconds(spec.restoreTimeout),
    autoscale: spec.autoscale ?? false,
    lowerCaseInstanceIds: spec.lowerCaseInstanceIds ?? false,
    uniqueId: randomUUID(),
    createdAt: clock.iso(),
    instances: [],
    startCalls: 0
  };
}

/** An ISO 8601 duration of days, hours, minutes and seconds (`PT1H`, `P1DT30M`) in seconds. */
export function isoSeconds(text: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text);
  if (!m || text.toUpperCase() === 'P' || text.toUpperCase().endsWith('T'))
    throw new Error(`restoreTimeout is ${JSON.stringify(text)}: expected an ISO 8601 duration such as PT1H`);
  return Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

/** A Flexible instance's name: `{ss}_` and 8 lowercase hex digits, the same for the same scale set and index. */
export function flexibleInstanceName(scaleSetName: string, index: number): string {
  return `${scaleSetName}_${createHash('sha256').update(`${scaleSetName}|${index}`).digest('hex').slice(0, 8)}`;
}

/** The VmSpec and identity of each instance a scale-set spec describes. */
export function scaleSetMembers(
  scaleSet: ScaleSet,
  instances: ScaleSetSpec['instances']
): { spec: VmSpec; identity: InstanceIdentity }[] {
  const list: InstanceSpec[] =
    typeof instances === 'number' ? Array.from({ length: instances }, () => ({})) : instances;
  return list.map((instance, n) => {
    const uniform = scaleSet.orchestration === 'Uniform';
    const name = uniform ? `${scaleSet.name}_${n}` : flexibleInstanceName(scaleSet.name, n);
    const spec: VmSpec = {
      subscriptionId: scaleSet.subscriptionId,
      resourceGroup: scaleSet.resourceGroup,
      name,
      location: scaleSet.location,
      vmSize: scaleSet.vmSize,
      zone: instance.zone ?? scaleSet.zone,
      priority: scaleSet.priority as VmSpec['priority'],
      evictionPolicy: scaleSet.evictionPolicy as VmSpec['evictionPolicy'],
      maxPrice: scaleSet.maxPrice,
      osType: scaleSet.osType,
      tags: instance.tags ?? {},
      powerState: instance.powerState,
      annotation: instance.annotation,
      sinceMinutes: instance.sinceMinutes,
      guestAgent: instance.guestAgent,
      applicationHealth: instance.applicationHealth
    };
    return {
      spec,
      identity: uniform
        ? { id: `${scaleSet.id}/virtualMachines/${n}`, kind: 'vmss-uniform', scaleSet, instanceId: String(n) }
        : { kind: 'vmss-flex', scaleSet }
    };
  });
}

/** Instances that exist (eviction policy Delete removes them): the scale set's `sku.capacity`. */
export function liveInstances(scaleSet: ScaleSet): Vm[] {
  return scaleSet.instances.filter(vm => !vm.deleted);
}

/**
 * What Compute answers for instance IDs it cannot use (400 InvalidParameter, target instanceIds:
 * the messages Azure returns, as quoted in Azure/azure-cli#9926 and microsoft/onefuzz#2547).
 */
export const scaleSetErrors = {
  invalidInstanceId: (instanceId: string): ArmError => ({
    status: 400,
    body: {
      error: {
        code: 'InvalidParameter',
        message: `The provided instanceId ${instanceId} is invalid. It must be a non-negative integer or the character "*".`,
        target: 'instanceIds'
      }
    }
  }),
  notAnActiveInstance: (instanceId: string): ArmError => ({
    status: 400,
    body: {
      error: {
        code: 'InvalidParameter',
        message: `The provided instanceId ${instanceId} is not an active Virtual Machine Scale Set VM instanceId.`,
        target: 'instanceIds'
      }
    }
  }),
  notFound: (resourceGroup: string, type: string, name: string): ArmError => ({
    status: 404,
    body: {
      error: {
        code: 'ResourceNotFound',
        message: `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
      }
    }
  })
};
