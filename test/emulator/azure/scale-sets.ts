/**
 * Scale sets in the emulated Resource Manager and Resource Graph: the Compute operations the action
 * uses on them, and their rows in `resources` and `computeresources`.
 *
 * Shapes follow azure-rest-api-specs, specification/compute/resource-manager/Microsoft.Compute/
 * ComputeRP/stable/2024-11-01/virtualMachineScaleSet.json (VirtualMachineScaleSets_Get →
 * VirtualMachineScaleSet; VirtualMachineScaleSets_Start: body VirtualMachineScaleSetVMInstanceIDs
 * `{instanceIds}`, optional, 200/202 with Location, long-running; examples
 * VirtualMachineScaleSet_Start_MaximumSet_Gen.json and VirtualMachineScaleSet_Create_WithSpotRestorePolicy.json)
 * and virtualMachineScaleSetVM.json (VirtualMachineScaleSetVMs_Get → VirtualMachineScaleSetVM with
 * `instanceId` and `sku`; VirtualMachineScaleSetVMs_GetInstanceView → VirtualMachineScaleSetVMInstanceView).
 * Actions: Microsoft Learn, "Azure permissions for Compute" (Microsoft.Compute/virtualMachineScaleSets/…).
 */
import {
  admit,
  argExtended,
  argPlacement,
  armError,
  argVm,
  computeThrottled,
  instanceView,
  methodNotAllowed,
  operationUrl,
  startAccepted,
  type ArmOptions
} from './arm.js';
import { json, type Request, type Response } from '../http.js';
import { liveInstances, scaleSetErrors, scaleSetId, type ScaleSet } from './scale-set-model.js';
import type { Vm } from './spot.js';

export const SCALE_SET_ACTIONS = {
  read: 'Microsoft.Compute/virtualMachineScaleSets/read',
  autoscaleRead: 'Microsoft.Insights/autoscalesettings/read',
  start: 'Microsoft.Compute/virtualMachineScaleSets/start/action',
  instanceRead: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
  instanceView: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read'
};

const SCALE_SET_PATH =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/([^/]+)(?:\/(start)|\/virtualMachines\/([^/]+)(\/instanceView)?)?$/i;

export type ScaleSetKind = 'scaleSet' | 'scaleSetStart' | 'scaleSetVm' | 'scaleSetVmInstanceView';

export function scaleSetKind(req: Request): ScaleSetKind | undefined {
  const m = SCALE_SET_PATH.exec(req.path);
  if (!m) return undefined;
  if (m[4]) return 'scaleSetStart';
  if (m[5]) return m[6] ? 'scaleSetVmInstanceView' : 'scaleSetVm';
  return 'scaleSet';
}

export const isScaleSetKind = (kind: string): kind is ScaleSetKind => kind.startsWith('scaleSet');

const ACTION_OF: Record<ScaleSetKind, string> = {
  scaleSet: SCALE_SET_ACTIONS.read,
  scaleSetStart: SCALE_SET_ACTIONS.start,
  scaleSetVm: SCALE_SET_ACTIONS.instanceRead,
  scaleSetVmInstanceView: SCALE_SET_ACTIONS.instanceView
};

export function handleScaleSet(req: Request, kind: ScaleSetKind, principal: string, o: ArmOptions): Response {
  const [, sub, rg, name, , instanceId] = SCALE_SET_PATH.exec(req.path)!;
  const subscription = sub!.toLowerCase();
  const isWrite = kind === 'scaleSetStart';
  if (req.method !== (isWrite ? 'POST' : 'GET')) {
    return methodNotAllowed(req.method);
  }
  const ssId = scaleSetId({ subscriptionId: sub!, resourceGroup: rg!, name: name! });
  const scope = instanceId ? `${ssId}/virtualMachines/${instanceId}` : ssId;
  const action = ACTION_OF[kind];
  const admitted = admit(o, principal, action, scope, subscription, isWrite);
  if ('refused' in admitted) return admitted.refused;
  const limitHeader = admitted.headers;
  const scaleSet = o.model.getScaleSet(ssId);
  if (!scaleSet)
    return armError(
      scaleSetErrors.notFound(rg!, 'Microsoft.Compute/virtualMachineScaleSets', name!),
      limitHeader
    );
  const region = scaleSet.location.toLowerCase();

  if (kind === 'scaleSet') {
    const read = o.throttles.scaleSetRead(subscription, region, scaleSet.key);
    if (!read.ok) return computeThrottled(read, o);
    return json(200, scaleSetResource(scaleSet), {
      ...limitHeader,
      'x-ms-ratelimit-remaining-resource': read.header
    });
  }

  if (kind === 'scaleSetStart') {
    let ids: unknown[] | undefined;
    try {
      const body = req.json() as { instanceIds?: unknown } | null;
      if (body?.instanceIds !== undefined && body.instanceIds !== null) {
        if (!Array.isArray(body.instanceIds)) throw new Error('instanceIds is not an array');
        ids = body.instanceIds;
      }
    } catch (error) {
      return json(
        400,
        {
          error: {
            code: 'InvalidRequestContent',
            message: `The request content was invalid and could not be deserialized: '${(error as Error).message}'.`
          }
        },
        limitHeader
      );
    }
    const update = o.throttles.scaleSetUpdate(subscription, region);
    if (!update.ok) return computeThrottled(update, o);
    const started = o.model.startScaleSet(scaleSet, ids);
    if ('error' in started) return armError(started.error, limitHeader);
    return startAccepted(operationUrl(req, o, sub!, scaleSet.location, started.operation.id), {
      ...limitHeader,
      'x-ms-ratelimit-remaining-resource': update.header
    });
  }

  const vm = liveInstances(scaleSet).find(
    v => scaleSet.orchestration === 'Uniform' && v.instanceId === instanceId
  );
  if (!vm)
    return armError(
      scaleSetErrors.notFound(
        rg!,
        'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
        `${name}/${instanceId}`
      ),
      limitHeader
    );
  const read = o.throttles.scaleSetVmRead(subscription, region, vm.key);
  if (!read.ok) return computeThrottled(read, o);
  return json(200, kind === 'scaleSetVm' ? scaleSetVmResource(vm) : scaleSetVmInstanceView(vm), {
    ...limitHeader,
    'x-ms-ratelimit-remaining-resource': read.header
  });
}

/** The scale set's Spot settings: on the model of its instances (Uniform; Flexible when it has one). */
function scaleSetProperties(ss: ScaleSet) {
  return {
    orchestrationMode: ss.orchestration,
    uniqueId: ss.uniqueId,
    provisioningState: 'Succeeded',
    timeCreated: ss.createdAt,
    platformFaultDomainCount: 1,
    ...(ss.orchestration === 'Uniform'
      ? { upgradePolicy: { mode: 'Manual' }, singlePlacementGroup: true, overprovision: false }
      : {}),
    ...(ss.hasProfile
      ? {
          virtualMachineProfile: {
            priority: ss.priority,
            storageProfile: { osDisk: { osType: ss.osType, createOption: 'FromImage' } },
            ...(ss.priority === 'Spot'
              ? { evictionPolicy: ss.evictionPolicy, billingProfile: { maxPrice: ss.maxPrice } }
              : {})
          }
        }
      : {}),
    spotRestorePolicy: { enabled: ss.spotRestore, restoreTimeout: ss.restoreTimeout ?? 'PT1H' }
  };
}

/** `GET …/virtualMachineScaleSets/{ss}`: VirtualMachineScaleSet. */
export function scaleSetResource(ss: ScaleSet) {
  return {
    name: ss.name,
    id: ss.id,
    type: 'Microsoft.Compute/virtualMachineScaleSets',
    location: ss.location,
    tags: ss.tags,
    sku: { name: ss.vmSize, tier: 'Standard', capacity: liveInstances(ss).length },
    ...(ss.zone ? { zones: [ss.zone] } : {}),
    properties: scaleSetProperties(ss)
  };
}

/** `GET …/virtualMachineScaleSets/{ss}/virtualMachines/{id}`: VirtualMachineScaleSetVM (Uniform). */
export function scaleSetVmResource(vm: Vm) {
  return {
    name: vm.name,
    id: vm.id,
    type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
    location: vm.location,
    tags: vm.tags,
    instanceId: vm.instanceId!,
    sku: { name: vm.vmSize, tier: 'Standard' },
    ...(vm.zone ? { zones: [vm.zone] } : {}),
    properties: {
      latestModelApplied: true,
      modelDefinitionApplied: 'VirtualMachineScaleSet',
      vmId: vm.vmId,
      hardwareProfile: {},
      provisioningState: 'Succeeded',
      timeCreated: vm.createdAt
    }
  };
}

/**
 * `GET …/virtualMachines/{id}/instanceView`: VirtualMachineScaleSetVMInstanceView — the same statuses
 * as a VM's (updating with no time during an operation, stopped for a moment while starting), and
 * the computer name a Uniform scale set gives its instances (prefix + six base-36 digits).
 */
export function scaleSetVmInstanceView(vm: Vm) {
  return {
    platformUpdateDomain: 0,
    platformFaultDomain: 0,
    ...instanceView(vm),
    computerName: `${vm.scaleSet!.name}${Number(vm.instanceId).toString(36).padStart(6, '0')}`
  };
}

// ---- Resource Graph ----------------------------------------------------------------------------

/** A scale set's row in `resources`: ARG lower-cases `type`. */
export function argScaleSet(ss: ScaleSet, tenantId: string) {
  return {
    id: ss.id,
    name: ss.name,
    type: 'microsoft.compute/virtualmachinescalesets',
    ...argPlacement(ss, tenantId),
    managedBy: '',
    sku: { name: ss.vmSize, tier: 'Standard', capacity: liveInstances(ss).length },
    plan: null,
    properties: scaleSetProperties(ss),
    tags: ss.tags,
    identity: null,
    zones: ss.zone ? [ss.zone] : null,
    extendedLocation: null
  };
}

/**
 * A Uniform instance's row in `computeresources` (Microsoft Learn, Resource Graph sample queries for
 * ComputeResources: `type =~ 'microsoft.compute/virtualmachinescalesets/virtualmachines'`,
 * `properties.extended.instanceView.powerState.code`); the power state lags as in `resources`.
 */
export function argScaleSetVm(vm: Vm, tenantId: string) {
  return {
    id: vm.scaleSet?.lowerCaseInstanceIds ? vm.id.toLowerCase() : vm.id,
    name: vm.name,
    type: 'microsoft.compute/virtualmachinescalesets/virtualmachines',
    ...argPlacement(vm, tenantId),
    managedBy: '',
    sku: { name: vm.vmSize },
    plan: null,
    properties: {
      instanceId: vm.instanceId,
      vmId: vm.vmId,
      latestModelApplied: true,
      provisioningState: 'Succeeded',
      timeCreated: vm.createdAt,
      extended: argExtended(vm)
    },
    tags: vm.tags,
    identity: null,
    zones: vm.zone ? [vm.zone] : null,
    extendedLocation: null
  };
}

/**
 * The row of a VM or an instance, in its table, if the principal may read it: Uniform instances go
 * to `computeresources` and need the scale-set instance read action; VMs and Flexible instances
 * (ordinary VMs with `properties.virtualMachineScaleSet.id`) go to `resources`.
 */
export function argRowOf(
  vm: Vm,
  canRead: (action: string) => boolean,
  tenantId: string,
  vmReadAction: string
): { table: 'resources' | 'computeresources'; row: Record<string, unknown> } | undefined {
  if (vm.kind === 'vmss-uniform')
    return canRead(SCALE_SET_ACTIONS.instanceRead)
      ? { table: 'computeresources', row: argScaleSetVm(vm, tenantId) }
      : undefined;
  return canRead(vmReadAction) ? { table: 'resources', row: argVm(vm, tenantId) } : undefined;
}

/**
 * Scale-set rows of `resources` in the requested scope that the principal may read, and the
 * autoscale settings that target them (each only to a principal that may read it: Resource Graph
 * returns what the caller can read).
 */
export function argScaleSets(o: ArmOptions, principal: string, scope: string[]): Record<string, unknown>[] {
  const sets = [...o.model.scaleSets.values()].filter(ss => scope.includes(ss.subscriptionId.toLowerCase()));
  return [
    ...sets
      .filter(ss => o.rbac.can(principal, SCALE_SET_ACTIONS.read, ss.id))
      .map(ss => argScaleSet(ss, o.tenantId)),
    ...sets
      .filter(ss => ss.autoscale)
      .map(ss => argAutoscaleSetting(ss, o.tenantId))
      .filter(row => o.rbac.can(principal, SCALE_SET_ACTIONS.autoscaleRead, row.id))
  ];
}

/**
 * An autoscale setting's row, shaped on azure-rest-api-specs specification/monitor/resource-manager/
 * Microsoft.Insights/stable/2015-04-01/examples/getAutoscaleSetting.json (`properties.enabled`,
 * `properties.targetResourceUri`), its type lower-cased as Resource Graph lists it. The target's
 * case is not the scale set's own (resource IDs come back in differing case), so it must be
 * compared without case.
 */
export function argAutoscaleSetting(ss: ScaleSet, tenantId: string) {
  const id = `/subscriptions/${ss.subscriptionId}/resourceGroups/${ss.resourceGroup}/providers/microsoft.insights/autoscalesettings/${ss.name}-autoscale`;
  return {
    id,
    name: `${ss.name}-autoscale`,
    type: 'microsoft.insights/autoscalesettings',
    ...argPlacement(ss, tenantId),
    properties: {
      name: `${ss.name}-autoscale`,
      enabled: true,
      targetResourceUri: ss.id.replace(
        `/resourceGroups/${ss.resourceGroup}/`,
        `/resourceGroups/${ss.resourceGroup.toUpperCase()}/`
      ),
      profiles: [
        {
          name: 'default',
          capacity: { minimum: '0', maximum: '100', default: String(liveInstances(ss).length) },
          rules: []
        }
      ]
    },
    tags: {}
  };
}
