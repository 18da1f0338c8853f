/**
 * The Spot model (the state table of Microsoft's interruptible-workload guide): VMs, capacity per
 * region/size/zone, the current Spot price, evictions announced through IMDS Scheduled Events,
 * start as a long-running operation, Resource Health annotations — all in emulated time.
 */
import { randomUUID } from 'node:crypto';
import type { ScaledClock } from '../clock.js';
import {
  DEFAULT_PRICE,
  machineDefaults,
  vmIdOf,
  type FleetSpec,
  type PowerState,
  type ScaleSetSpec,
  type VmSpec
} from '../fleets/fleet.js';
import { azureErrors, type ArmError } from './azure-errors.js';
import {
  checkScaleSetSpec,
  liveInstances,
  newScaleSet,
  scaleSetErrors,
  scaleSetMembers,
  type InstanceIdentity,
  type ScaleSet,
  type VmKind
} from './scale-set-model.js';
import { DEFAULT_SIZES, isRestricted, sizeInfo, type SizeRestriction } from './sizes.js';
import { booted, initialGuestHealth, type GuestHealth, type GuestTiming } from './guest-health.js';

export interface ScheduledEvent {
  EventId: string;
  EventStatus: 'Scheduled' | 'Started';
  EventType: 'Freeze' | 'Reboot' | 'Redeploy' | 'Preempt' | 'Terminate';
  ResourceType: 'VirtualMachine';
  Resources: string[];
  NotBefore: string;
  Description: string;
  EventSource: 'Platform' | 'User';
  DurationInSeconds: number;
}

export interface Annotation {
  name: string;
  occurredTime: string;
  reason: string;
  summary: string;
  context: string;
  category: string;
  /** Emulated time at which Resource Graph shows it (annotations lag the state by minutes). */
  visibleAt: number;
  /** Never reaches Resource Graph (Microsoft Learn: "HealthResources table … has missing entries"). */
  missing?: boolean;
}

export interface Vm {
  key: string;
  id: string;
  vmId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  vmSize: string;
  zone?: string;
  osType: 'Linux' | 'Windows';
  priority: string;
  evictionPolicy: string;
  maxPrice: number;
  tags: Record<string, string>;
  /** The tags as Resource Graph still shows them, when a change has not reached it yet (tests set it). */
  argTags?: Record<string, string>;
  powerState: PowerState;
  /** What Resource Graph shows: it follows the truth after a lag. */
  argPowerState: PowerState;
  deleted: boolean;
  /** Every annotation the VM had, oldest first; Resource Graph shows the latest visible one as `current`. */
  annotations: Annotation[];
  /**
   * The status of the VM's last user-initiated operation (Microsoft Learn, "States and billing
   * status of Azure Virtual Machines"): `updating` while one runs (the instance view then shows no
   * time), `failed` after a failed start (`ProvisioningState/failed/<code>`, the power state still
   * deallocated). An eviction is not a user-initiated operation and changes neither it nor its time.
   */
  provisioning: 'succeeded' | 'updating' | 'failed';
  /** The error code of a failed last operation (`ProvisioningState/failed/<code>`). */
  provisioningError?: string;
  events: ScheduledEvent[];
  incarnation: number;
  /** When the VM's last operation finished: the instance view's ProvisioningState time. */
  changedAt: string;
  /** The start under way, which a more recent deallocate or stop preempts. */
  pendingStart?: Operation;
  /** Start calls accepted for this VM (to prove nothing was started twice). */
  startsAccepted: number;
  createdAt: string;
  /** A standalone VM, or an instance of a Flexible or Uniform scale set. */
  kind?: VmKind;
  scaleSet?: ScaleSet;
  /** A Uniform instance's ID within its scale set ("0", "1", …). */
  instanceId?: string;
  /** The guest agent and the Application Health extension, as the instance view shows them (guest-health.ts). */
  guest: GuestHealth;
}

export interface Operation {
  id: string;
  vmKey: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: string;
  endTime?: string;
  error?: ArmError['body']['error'];
}

export interface TimelineEntry {
  at: number;
  vm: string;
  what: string;
}

export interface Timing extends GuestTiming {
  /** Emulated seconds between the Preempt event and the eviction (Azure: at least 30). */
  evictionNoticeS: number;
  /** Emulated seconds a start takes. */
  startDurationS: number;
  /** Emulated seconds from eviction to deallocated. */
  deallocateDurationS: number;
  /** Emulated seconds Resource Graph lags behind the truth. */
  argLagS: number;
  /**
   * Emulated seconds until a Resource Health annotation reaches Resource Graph: "within 5 minutes in
   * general" (Microsoft Learn, "VM availability information in Azure Resource Graph").
   */
  annotationLagS: number;
  /**
   * Emulated seconds from an operation to the `occurredTime` of its annotation: "Timestamp when the
   * annotation was emitted by the Azure platform" (Event Grid schema for Health Resources events),
   * not when the operation began. No bound is published; seconds to minutes is the model.
   */
  annotationEmitS: number;
  /** Emulated seconds a VM starting from deallocated shows PowerState/stopped (with provisioning updating). */
  startShowsStoppedS: number;
  /** Emulated seconds between two Try & restore attempts on an evicted scale-set instance. */
  tryRestoreDelayS: number;
  /** Emulated seconds after the eviction when Try & restore gives up (the scale set's restoreTimeout, PT1H). */
  tryRestoreTimeoutS: number;
}

export const DEFAULT_TIMING: Timing = {
  evictionNoticeS: 30,
  startDurationS: 40,
  deallocateDurationS: 10,
  argLagS: 5,
  annotationLagS: 180,
  annotationEmitS: 20,
  startShowsStoppedS: 3,
  tryRestoreDelayS: 60,
  tryRestoreTimeoutS: 3600,
  agentReadyS: 30,
  appHealthSettleS: 5
};

/**
 * Microsoft Learn, "Resource Health virtual machine Health Annotations": names, context, category.
 * The same pages spell the context two ways ("Customer Initiated" / "User-initiated",
 * "Platform Initiated" / "Platform-Initiated"); the emulator uses both, per VM.
 */
const ANNOTATIONS = {
  VirtualMachinePreempted: {
    reason: 'Preempted',
    summary:
      'This virtual machine was preempted (evicted) by the Azure platform because of capacity or price.',
    initiator: 'platform',
    category: 'Unplanned'
  },
  VirtualMachineDeallocationInitiated: {
    reason: 'Stopping and deallocating',
    summary: 'This virtual machine is stopped and deallocated as requested by an authorized user or process.',
    initiator: 'customer',
    category: 'Not Applicable'
  },
  VirtualMachineStopInitiatedByControlPlane: {
    reason: 'Stopping',
    summary: 'This virtual machine is stopping as requested by an authorized user or process.',
    initiator: 'customer',
    category: 'Not Applicable'
  },
  VirtualMachineStartInitiatedByControlPlane: {
    reason: 'Starting',
    summary: 'This virtual machine is starting as requested by an authorized user or process.',
    initiator: 'customer',
    category: 'Not Applicable'
  },
  VirtualMachineSizeChanged: {
    reason: 'Resizing',
    summary: 'This virtual machine is being resized as requested by an authorized user or process.',
    initiator: 'customer',
    category: 'Not Applicable'
  },
  VirtualMachineConfigurationUpdated: {
    reason: 'Configuration update',
    summary:
      'This virtual machine configuration is being updated as requested by an authorized user or process.',
    initiator: 'customer',
    category: 'Not Applicable'
  }
} as const;
export type AnnotationName = keyof typeof ANNOTATIONS;

const CONTEXT_SPELLINGS = [
  { customer: 'Customer Initiated', platform: 'Platform Initiated' },
  { customer: 'User-initiated', platform: 'Platform-Initiated' }
];

/** Options for an operation's annotation: it can go missing, or take longer than usual. */
export interface AnnotationFault {
  missing?: boolean;
  lagS?: number;
}

/** How much more a Windows Spot VM costs than a Linux one of the same size, here. */
export const WINDOWS_PRICE_FACTOR = 1.8;

export class SpotModel {
  readonly vms = new Map<string, Vm>();
  readonly scaleSets = new Map<string, ScaleSet>();
  readonly operations = new Map<string, Operation>();
  readonly timeline: TimelineEntry[] = [];
  /** The annotation of a VM's next eviction goes missing or lags longer (tests set it). */
  readonly nextFault = new Map<string, AnnotationFault>();
  /**
   * Called as a scale-set start arrives, before Compute checks its instance IDs: a test removes
   * instances here to play autoscale scaling in between the action's last read and its start.
   */
  onScaleSetStart?: (scaleSet: ScaleSet, instanceIds: unknown[] | undefined) => void;
  /** Why each VM was last evicted: Try & restore brings back only capacity evictions. */
  private readonly evictionCauses = new Map<string, 'capacity' | 'price' | 'simulated'>();
  private readonly pools = new Map<string, number>();
  private readonly prices = new Map<string, number>();
  private readonly unavailableSizes: Set<string>;
  /** Every price a size had in a region, oldest first (SpotResources keeps 90 days). */
  private readonly priceHistory = new Map<string, { at: number; price: number }[]>();
  private readonly sizes = new Set(DEFAULT_SIZES);
  readonly restrictions: SizeRestriction[];
  private readonly quotas = new Map<string, number>();
  private readonly evictionRates = new Map<string, string>();
  /** Sizes offered, but not for Spot. */
  readonly spotIncapable: Set<string>;
  /**
   * Capacity a deallocation frees goes to other customers at once (a busy region): a revert's
   * deallocate may not get its capacity back. Off by default (then it returns to the pool).
   */
  othersTakeReleasedCapacity = false;

  constructor(
    fleet: FleetSpec,
    private readonly clock: ScaledClock,
    readonly timing: Timing = DEFAULT_TIMING
  ) {
    for (const p of fleet.pools ?? []) this.pools.set(poolKey(p.location, p.vmSize, p.zone), p.capacity);
    for (const [k, v] of Object.entries(fleet.prices ?? {})) {
      this.prices.set(k.toLowerCase(), v);
      // The price a fleet starts with has held for a day already.
      this.priceHistory.set(k.toLowerCase(), [{ at: clock.now() - 24 * 3_600_000, price: v }]);
    }
    this.unavailableSizes = new Set((fleet.unavailableSizes ?? []).map(s => s.toLowerCase()));
    this.restrictions = [...(fleet.restrictedSizes ?? [])];
    this.spotIncapable = new Set((fleet.spotIncapableSizes ?? []).map(x => x.toLowerCase()));
    for (const [k, v] of Object.entries(fleet.quotas ?? {})) this.quotas.set(k.toLowerCase(), v);
    for (const [k, v] of Object.entries(fleet.evictionRates ?? {}))
      this.evictionRates.set(k.toLowerCase(), v);
    for (const size of [
      ...fleet.vms.map(v => v.vmSize ?? 'Standard_D2s_v5'),
      ...(fleet.pools ?? []).map(p => p.vmSize),
      ...Object.keys(fleet.prices ?? {}).map(k => k.split('/')[1] ?? ''),
      ...(fleet.spotIncapableSizes ?? [])
    ])
      if (sizeInfo(size)) this.sizes.add(size);
    for (const spec of fleet.vms) this.add(spec);
    for (const spec of fleet.scaleSets ?? []) this.addScaleSet(spec);
  }

  add(spec: VmSpec, identity: InstanceIdentity = { kind: 'vm' }): Vm {
    const id =
      identity.id ??
      `/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${spec.name}`;
    const powerState = spec.powerState ?? 'running';
    const vm: Vm = {
      key: id.toLowerCase(),
      id,
      vmId: vmIdOf(spec),
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      name: spec.name,
      ...machineDefaults(spec),
      powerState,
      argPowerState: powerState,
      deleted: false,
      annotations: [],
      provisioning: 'succeeded',
      events: [],
      incarnation: 1,
      startsAccepted: 0,
      changedAt: this.clock.iso(this.clock.now() - (spec.sinceMinutes ?? 0) * 60_000),
      createdAt: this.clock.iso(),
      kind: identity.kind,
      ...(identity.scaleSet ? { scaleSet: identity.scaleSet } : {}),
      ...(identity.instanceId !== undefined ? { instanceId: identity.instanceId } : {}),
      // Reported a minute before the VM's last operation: for a deallocated VM, from before it went down.
      guest: initialGuestHealth(
        spec.guestAgent,
        spec.applicationHealth,
        this.clock.now() - ((spec.sinceMinutes ?? 0) + 1) * 60_000
      )
    };
    // A fleet's past: its annotation began a minute before the state it explains, and has arrived.
    if (spec.annotation) this.annotate(vm, spec.annotation, { lagS: 0 }, Date.parse(vm.changedAt) - 60_000);
    this.vms.set(vm.key, vm);
    if (sizeInfo(vm.vmSize)) this.sizes.add(vm.vmSize);
    return vm;
  }

  get(key: string): Vm | undefined {
    const vm = this.vms.get(key.toLowerCase());
    return vm && !vm.deleted ? vm : undefined;
  }

  /** The current Spot price; Windows carries its licence in it (as SpotResources shows). */
  price(vm: Pick<Vm, 'location' | 'vmSize'> & { osType?: Vm['osType'] }): number {
    const base = this.prices.get(`${vm.location}/${vm.vmSize}`.toLowerCase()) ?? DEFAULT_PRICE;
    return vm.osType === 'Windows' ? Math.round(base * WINDOWS_PRICE_FACTOR * 1e6) / 1e6 : base;
  }

  setPrice(location: string, vmSize: string, price: number): void {
    const key = `${location}/${vmSize}`.toLowerCase();
    this.prices.set(key, price);
    const history = this.priceHistory.get(key) ?? [];
    history.push({ at: this.clock.now(), price });
    this.priceHistory.set(key, history);
  }

  /** A size's prices in a region over the last 90 days, newest first, as SpotResources lists them. */
  prices90Days(location: string, vmSize: string): { at: number; price: number }[] {
    const key = `${location}/${vmSize}`.toLowerCase();
    const since = this.clock.now() - 90 * 24 * 3_600_000;
    const history = this.priceHistory.get(key) ?? [{ at: since, price: DEFAULT_PRICE }];
    return history.filter((h, i) => h.at >= since || i === history.length - 1).reverse();
  }

  evictionRate(location: string, vmSize: string): string {
    return this.evictionRates.get(`${location}/${vmSize}`.toLowerCase()) ?? '0-5';
  }

  /** The sizes a region offers (the same everywhere in this model), Azure-wide unavailable ones aside. */
  offeredSizes(): string[] {
    return [...this.sizes].filter(s => !this.unavailableSizes.has(s.toLowerCase())).sort();
  }

  /** Locations in play: where the fleet's VMs and pools are. */
  locations(): string[] {
    return [...new Set([...this.vms.values()].map(v => v.location.toLowerCase()))].sort();
  }

  restrict(location: string, vmSize: string, zones?: string[]): void {
    this.restrictions.push({ location, vmSize, zones });
  }

  unrestrict(location: string, vmSize: string): void {
    const i = this.restrictions.findIndex(
      r =>
        r.location.toLowerCase() === location.toLowerCase() && r.vmSize.toLowerCase() === vmSize.toLowerCase()
    );
    if (i >= 0) this.restrictions.splice(i, 1);
  }

  /**
   * Why `vm` may not be allocated as `vmSize` here, if it may not: a size the region does not
   * offer or the subscription may not use (SkuNotAvailable), or the region's Spot vCPU quota.
   * "Use Azure Spot Virtual Machines": "Azure Spot Virtual Machines will have a separate quota pool.
   * Spot quota will be shared between VMs and scale-set instances." "The deallocated VMs will count
   * against your quota" — one pool per region ("Total Regional Spot vCPUs", `lowPriorityCores`),
   * every family, every Spot VM that exists: so starting a deallocated VM never exceeds it, and a
   * resize exceeds it when the new size needs more than is left.
   */
  private sizeRefusal(vm: Vm, vmSize: string, resizing: boolean): ArmError | undefined {
    const info = sizeInfo(vmSize);
    if (
      (resizing && (!info || !this.sizes.has(vmSize))) ||
      this.unavailableSizes.has(vmSize.toLowerCase()) ||
      isRestricted(this.restrictions, vm.location, vmSize, vm.zone)
    )
      return azureErrors.skuNotAvailable(vm.name, vmSize, vm.location, vm.subscriptionId);
    if (!info || vm.priority !== 'Spot') return undefined;
    const limit = this.quotas.get(vm.location.toLowerCase());
    if (limit === undefined) return undefined;
    const usage = [...this.vms.values()]
      .filter(
        v =>
          v !== vm &&
          !v.deleted &&
          v.priority === 'Spot' &&
          v.subscriptionId === vm.subscriptionId &&
          v.location.toLowerCase() === vm.location.toLowerCase()
      )
      .reduce((sum, v) => sum + (sizeInfo(v.vmSize)?.vCPUs ?? 0), 0);
    return usage + info.vCPUs > limit
      ? azureErrors.quotaExceeded(vm.location, limit, usage, info.vCPUs)
      : undefined;
  }

  /** Refusals of a resize that no retry changes: a size not for Spot, or across the temp-disk boundary. */
  private fixedRefusal(vm: Vm, vmSize: string): ArmError | undefined {
    if (vm.priority === 'Spot' && this.spotIncapable.has(vmSize.toLowerCase()))
      return azureErrors.spotNotSupportedForSize(vmSize);
    const from = sizeInfo(vm.vmSize);
    const to = sizeInfo(vmSize);
    if (from && to && from.tempDiskMB > 0 !== to.tempDiskMB > 0) return azureErrors.tempDiskBoundary(vm.name);
    return undefined;
  }

  /**
   * `PATCH …/virtualMachines/{vm}`: tags at any time; the size and the max price only while
   * deallocated, the size only to one the region offers, the subscription may use, and the
   * family's quota allows (Microsoft Learn, "Resize a virtual machine"; "Azure Spot Virtual
   * Machines": the max price is changed on a deallocated VM).
   */
  update(
    vm: Vm,
    patch: { tags?: Record<string, string>; vmSize?: string; maxPrice?: number }
  ): ArmError | Operation | undefined {
    if (patch.vmSize !== undefined && patch.vmSize !== vm.vmSize) {
      if (vm.powerState !== 'deallocated' || vm.provisioning === 'updating')
        return azureErrors.operationNotAllowedWhileRunning(vm.name, 'resize');
      const refused = this.sizeRefusal(vm, patch.vmSize, true) ?? this.fixedRefusal(vm, patch.vmSize);
      if (refused) return refused;
    }
    if (patch.maxPrice !== undefined && patch.maxPrice !== vm.maxPrice) {
      if (vm.powerState !== 'deallocated' || vm.provisioning === 'updating')
        return azureErrors.operationNotAllowedWhileRunning(vm.name, 'max price change');
      // "using up to 5 decimal places" ("Use Azure Spot Virtual Machines").
      if (patch.maxPrice !== -1 && Math.abs(patch.maxPrice * 1e5 - Math.round(patch.maxPrice * 1e5)) > 1e-6)
        return azureErrors.maxPriceInvalid();
      const price = this.price({ ...vm, vmSize: patch.vmSize ?? vm.vmSize });
      if (vm.priority === 'Spot' && patch.maxPrice !== -1 && !(patch.maxPrice > price))
        return azureErrors.updatePriceNotAboveCurrent(patch.maxPrice, price, patch.vmSize ?? vm.vmSize);
    }
    if (patch.tags) {
      vm.tags = { ...patch.tags };
      this.log(
        vm,
        `tags set: ${Object.entries(patch.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`
      );
    }
    const resized = patch.vmSize !== undefined && patch.vmSize !== vm.vmSize;
    const repriced = patch.maxPrice !== undefined && patch.maxPrice !== vm.maxPrice;
    if (resized) this.resize(vm, patch.vmSize!);
    if (repriced) this.setMaxPrice(vm, patch.maxPrice!);
    return resized || repriced ? this.updateOperation(vm) : undefined;
  }

  /**
   * A resize or a new max price is an operation of its own: the VM shows `ProvisioningState/updating`
   * until it ends (a few emulated seconds), and a start meanwhile is refused as "in progress".
   */
  private updateOperation(vm: Vm): Operation {
    const operation = this.beginOperation(vm.key);
    vm.provisioning = 'updating';
    this.clock.after(2000, () => {
      this.endOperation(operation, 'Succeeded');
      vm.provisioning = 'succeeded';
      vm.changedAt = this.clock.iso();
    });
    return operation;
  }

  /** A new asynchronous operation on a VM or scale set (by its key), in progress and open to status reads. */
  private beginOperation(key: string): Operation {
    const operation: Operation = {
      id: randomUUID(),
      vmKey: key,
      status: 'InProgress',
      startTime: this.clock.iso()
    };
    this.operations.set(operation.id, operation);
    return operation;
  }

  private endOperation(
    operation: Operation,
    status: Exclude<Operation['status'], 'InProgress'>,
    error?: Operation['error']
  ): void {
    operation.status = status;
    operation.endTime = this.clock.iso();
    if (error) operation.error = error;
  }

  /** Free Spot capacity of a pool; absent pools have plenty. */
  capacity(location: string, vmSize: string, zone?: string): number {
    return this.pools.get(poolKey(location, vmSize, zone)) ?? Number.POSITIVE_INFINITY;
  }

  setCapacity(location: string, vmSize: string, capacity: number, zone?: string): void {
    this.pools.set(poolKey(location, vmSize, zone), capacity);
  }

  /** A person (or a script) deallocates the VM: the annotation says so, minutes later (or never). */
  userDeallocate(vm: Vm, fault: AnnotationFault = {}): void {
    this.preemptStart(vm);
    this.annotate(vm, 'VirtualMachineDeallocationInitiated', fault);
    this.setPower(vm, 'deallocated');
    this.release(vm);
    this.log(vm, `deallocated by a user${fault.missing ? ' (its annotation will never arrive)' : ''}`);
  }

  /** A person powers the VM off without deallocating it: it keeps its allocation (and can be evicted). */
  userStop(vm: Vm, fault: AnnotationFault = {}): void {
    this.preemptStart(vm);
    this.annotate(vm, 'VirtualMachineStopInitiatedByControlPlane', fault);
    this.setPower(vm, 'stopped');
    this.log(vm, 'stopped by a user (still allocated)');
  }

  /**
   * A VM's past, for a test: annotations emitted `minutesAgo` (already in Resource Graph), and the
   * instance view's time of its last user operation.
   */
  setPast(
    vm: Vm,
    annotations: { name: AnnotationName; minutesAgo: number }[],
    lastOperationMinutesAgo?: number
  ): void {
    for (const a of annotations)
      this.annotate(vm, a.name, { lagS: 0 }, this.clock.now() - a.minutesAgo * 60_000);
    if (lastOperationMinutesAgo !== undefined)
      vm.changedAt = this.clock.iso(this.clock.now() - lastOperationMinutesAgo * 60_000);
  }

  /**
   * A more recent operation preempts a start under way: its operation ends `Canceled` with
   * `OperationPreempted` ("The operation has been preempted by a more recent operation.", as
   * reported in Azure/azure-sdk-for-java#1783; not on a Microsoft page), and the VM does not come up.
   */
  private preemptStart(vm: Vm): void {
    const op = vm.pendingStart;
    vm.pendingStart = undefined;
    if (!op || op.status !== 'InProgress') return;
    this.endOperation(op, 'Canceled', {
      code: 'OperationPreempted',
      message: 'Operation execution has been preempted by a more recent operation.'
    });
    this.log(vm, 'start preempted by a more recent operation');
  }

  /** A customer operation on a deallocated VM: resize. Its annotation replaces the one that explains the deallocation. */
  resize(vm: Vm, vmSize: string, fault: AnnotationFault = {}): ArmError | undefined {
    if (vm.powerState !== 'deallocated')
      return azureErrors.operationNotAllowedWhileRunning(vm.name, 'resize');
    vm.vmSize = vmSize;
    this.annotate(vm, 'VirtualMachineSizeChanged', fault);
    vm.changedAt = this.clock.iso();
    this.log(vm, `resized to ${vmSize}`);
    return undefined;
  }

  /** Changing the max price needs a deallocated VM (Microsoft Learn, "Azure Spot Virtual Machines"). */
  setMaxPrice(vm: Vm, maxPrice: number, fault: AnnotationFault = {}): ArmError | undefined {
    if (vm.powerState !== 'deallocated')
      return azureErrors.operationNotAllowedWhileRunning(vm.name, 'max price change');
    vm.maxPrice = maxPrice;
    this.annotate(vm, 'VirtualMachineConfigurationUpdated', fault);
    vm.changedAt = this.clock.iso();
    this.log(vm, `max price set to ${maxPrice}`);
    return undefined;
  }

  /** The annotation Resource Graph shows now: the latest that has arrived. */
  currentAnnotation(vm: Vm): Annotation | undefined {
    const now = this.clock.now();
    return vm.annotations.filter(a => !a.missing && a.visibleAt <= now).at(-1);
  }

  /** Resource Graph shows the VM as it is: its power state and every annotation that will ever arrive. */
  settled(vm: Vm): boolean {
    const now = this.clock.now();
    return vm.argPowerState === vm.powerState && vm.annotations.every(a => a.missing || a.visibleAt <= now);
  }

  /** The annotations that have reached Resource Graph (HealthResourceChanges keeps 14 days). */
  visibleAnnotations(vm: Vm): Annotation[] {
    const now = this.clock.now();
    return vm.annotations.filter(
      a => !a.missing && a.visibleAt <= now && Date.parse(a.occurredTime) >= now - 14 * 24 * 3_600_000
    );
  }

  /**
   * Azure evicts the VM: a Preempt event first, then after the notice (or once the VM approves the
   * event) deallocation or deletion, per its policy. `capacity` also takes the capacity away.
   */
  evict(vm: Vm, cause: 'capacity' | 'price' | 'simulated' = 'capacity'): ScheduledEvent | undefined {
    // A stopped VM keeps its allocation (only deallocation releases it), so it can be evicted too.
    if (!['running', 'stopped'].includes(vm.powerState) || vm.provisioning === 'updating') return undefined;
    if (vm.events.some(e => e.EventType === 'Preempt')) return undefined;
    if (cause === 'price') {
      if (vm.maxPrice === -1) return undefined; // −1 is never evicted for price
      this.setPrice(vm.location, vm.vmSize, Math.max(this.price(vm), vm.maxPrice) + 0.01);
    }
    if (cause === 'capacity') this.setCapacity(vm.location, vm.vmSize, 0, vm.zone);
    const notBefore = this.clock.now() + this.timing.evictionNoticeS * 1000;
    const event: ScheduledEvent = {
      EventId: randomUUID().toUpperCase(),
      EventStatus: 'Scheduled',
      EventType: 'Preempt',
      ResourceType: 'VirtualMachine',
      Resources: [vm.name],
      NotBefore: new Date(notBefore).toUTCString(),
      Description: 'Virtual machine is being preempted.',
      EventSource: 'Platform',
      DurationInSeconds: -1
    };
    vm.events.push(event);
    vm.incarnation++;
    this.evictionCauses.set(vm.key, cause);
    this.log(vm, `Preempt scheduled (${cause}), NotBefore ${event.NotBefore}`);
    this.clock.after(this.timing.evictionNoticeS * 1000, () => this.completeEviction(vm, event.EventId));
    return event;
  }

  /**
   * An event with no consequence in this model (Freeze, Reboot, …), or one naming other VMs — what
   * the VM's IMDS shows in an availability set. Removed with `withdraw`.
   */
  announce(vm: Vm, eventType: ScheduledEvent['EventType'], resources: string[] = [vm.name]): ScheduledEvent {
    const event: ScheduledEvent = {
      EventId: randomUUID().toUpperCase(),
      EventStatus: 'Scheduled',
      EventType: eventType,
      ResourceType: 'VirtualMachine',
      Resources: resources,
      NotBefore: new Date(this.clock.now() + 15 * 60_000).toUTCString(),
      Description:
        eventType === 'Freeze' ? 'Host server is undergoing maintenance.' : `${eventType} scheduled.`,
      EventSource: 'Platform',
      DurationInSeconds: eventType === 'Freeze' ? 9 : -1
    };
    vm.events.push(event);
    vm.incarnation++;
    return event;
  }

  withdraw(vm: Vm, eventId: string): void {
    vm.events = vm.events.filter(e => e.EventId !== eventId);
    vm.incarnation++;
  }

  /** StartRequests: the VM says it is ready, so the event may go ahead now. */
  approve(vm: Vm, eventId: string): boolean {
    const event = vm.events.find(e => e.EventId.toLowerCase() === eventId.toLowerCase());
    if (!event) return false;
    this.log(vm, `event ${event.EventType} approved by the VM`);
    this.completeEviction(vm, event.EventId);
    return true;
  }

  private completeEviction(vm: Vm, eventId: string): void {
    const event = vm.events.find(e => e.EventId === eventId);
    if (!event || event.EventStatus === 'Started') return;
    event.EventStatus = 'Started';
    vm.incarnation++;
    this.setPower(vm, 'deallocating', true, true);
    // The annotation is emitted as the eviction begins; the deallocation ends later.
    if (vm.evictionPolicy !== 'Delete')
      this.annotate(vm, 'VirtualMachinePreempted', this.nextFault.get(vm.key));
    this.nextFault.delete(vm.key);
    this.log(vm, 'evicted: deallocating');
    this.clock.after(this.timing.deallocateDurationS * 1000, () => {
      vm.events = vm.events.filter(e => e.EventId !== eventId);
      vm.incarnation++;
      // The capacity an eviction frees is Azure's again, not ours: nothing goes back to the pool.
      if (vm.evictionPolicy === 'Delete') {
        vm.deleted = true;
        this.log(vm, 'deleted (eviction policy Delete)');
        return;
      }
      this.setPower(vm, 'deallocated', false, true);
      this.log(vm, 'deallocated');
      if (vm.scaleSet?.spotRestore) this.scheduleTryRestore(vm, this.clock.now());
    });
  }

  /**
   * Start: refused at once for an unknown size or a price above the max; accepted otherwise, and the
   * operation fails later if there is no capacity (as Azure's allocation does).
   */
  start(vm: Vm): { error: ArmError } | { operation: Operation; alreadyRunning: boolean } {
    if (['starting', 'deallocating', 'stopping'].includes(vm.powerState) || vm.provisioning === 'updating') {
      return {
        error: azureErrors.operationInProgress(vm.name, vm.powerState === 'starting' ? 'start' : 'deallocate')
      };
    }
    const operation = this.beginOperation(vm.key);
    if (vm.powerState === 'running') {
      this.endOperation(operation, 'Succeeded');
      return { operation, alreadyRunning: true };
    }
    const refused = this.sizeRefusal(vm, vm.vmSize, false);
    if (refused) {
      this.log(vm, `start refused: ${refused.body.error.code} for ${vm.vmSize}`);
      return { error: refused };
    }
    const price = this.price(vm);
    if (vm.priority === 'Spot' && vm.maxPrice !== -1 && vm.maxPrice < price) {
      this.log(vm, `start refused: price ${price} above max ${vm.maxPrice}`);
      return { error: azureErrors.priceAboveMax(vm.maxPrice, price, vm.vmSize, vm.location) };
    }
    vm.startsAccepted++;
    const pool = poolKey(vm.location, vm.vmSize, vm.zone);
    if (this.capacity(vm.location, vm.vmSize, vm.zone) < 1) {
      this.log(vm, 'start accepted, allocation failed: no capacity');
      // The start is annotated like any other (nothing published says a failed one is not), and
      // the VM shows the failure as its provisioning state, with its time (the observed form).
      this.annotate(vm, 'VirtualMachineStartInitiatedByControlPlane');
      vm.provisioning = 'updating';
      this.clock.after(1000, () => {
        const error = azureErrors.startAllocationFailed(Boolean(vm.zone)).body.error;
        this.endOperation(operation, 'Failed', error);
        vm.provisioning = 'failed';
        vm.provisioningError = allocationCode(error);
        vm.changedAt = this.clock.iso();
      });
      return { operation, alreadyRunning: false };
    }
    if (this.pools.has(pool)) this.pools.set(pool, this.pools.get(pool)! - 1);
    this.annotate(vm, 'VirtualMachineStartInitiatedByControlPlane');
    // Starting from deallocated, the instance view shows PowerState/stopped for a moment.
    this.setPower(vm, 'stopped', true);
    this.clock.after(this.timing.startShowsStoppedS * 1000, () => {
      if (vm.powerState === 'stopped' && vm.provisioning === 'updating') this.setPower(vm, 'starting');
    });
    this.log(vm, 'start accepted');
    vm.pendingStart = operation;
    this.clock.after(this.timing.startDurationS * 1000, () => {
      if (operation.status !== 'InProgress') return; // preempted
      vm.pendingStart = undefined;
      this.setPower(vm, 'running');
      this.endOperation(operation, 'Succeeded');
      this.log(vm, 'running');
    });
    return { operation, alreadyRunning: false };
  }

  private release(vm: Vm): void {
    if (this.othersTakeReleasedCapacity) return;
    const pool = poolKey(vm.location, vm.vmSize, vm.zone);
    if (this.pools.has(pool)) this.pools.set(pool, this.pools.get(pool)! + 1);
  }

  /**
   * While an operation runs the provisioning state is `updating` and the instance view shows no
   * time; when it ends, the time is the end of the operation.
   */
  private setPower(
    vm: Vm,
    state: PowerState,
    inProgress = ['starting', 'deallocating', 'stopping'].includes(state),
    platform = false
  ): void {
    if (state === 'running' && vm.powerState !== 'running') booted(vm.guest, this.clock, this.timing);
    vm.powerState = state;
    // The platform's own operations (an eviction) are not user-initiated: the provisioning state
    // and its time stay those of the last user operation.
    if (!platform) {
      vm.provisioning = inProgress ? 'updating' : 'succeeded';
      vm.provisioningError = undefined;
      if (!inProgress) vm.changedAt = this.clock.iso();
    }
    this.clock.after(this.timing.argLagS * 1000, () => {
      if (vm.powerState === state) vm.argPowerState = state;
    });
  }

  /** `at`: a past annotation's own time; otherwise it is emitted `annotationEmitS` after now. */
  private annotate(vm: Vm, name: AnnotationName, fault: AnnotationFault = {}, at?: number): void {
    const { initiator, ...text } = ANNOTATIONS[name];
    const spelling = CONTEXT_SPELLINGS[hash(vm.name) % CONTEXT_SPELLINGS.length]!;
    const emitted = at ?? this.clock.now() + this.timing.annotationEmitS * 1000;
    vm.annotations.push({
      name,
      occurredTime: new Date(emitted).toISOString(),
      ...text,
      context: spelling[initiator],
      visibleAt: Math.max(emitted, this.clock.now() + (fault.lagS ?? this.timing.annotationLagS) * 1000),
      missing: fault.missing
    });
    // Emitted in order, as one VM's annotations are: the history is read by occurredTime.
    vm.annotations.sort((a, b) => Date.parse(a.occurredTime) - Date.parse(b.occurredTime));
  }

  // ---- scale sets ------------------------------------------------------------------------------

  addScaleSet(spec: ScaleSetSpec): ScaleSet {
    checkScaleSetSpec(spec, `scaleSets[${this.scaleSets.size}]`);
    const scaleSet = newScaleSet(spec, this.clock);
    this.scaleSets.set(scaleSet.key, scaleSet);
    for (const member of scaleSetMembers(scaleSet, spec.instances))
      scaleSet.instances.push(
        this.add(
          { ...member.spec, applicationHealth: member.spec.applicationHealth ?? spec.applicationHealth },
          member.identity
        )
      );
    return scaleSet;
  }

  getScaleSet(key: string): ScaleSet | undefined {
    return this.scaleSets.get(key.toLowerCase());
  }

  /**
   * `POST …/virtualMachineScaleSets/{ss}/start` with `instanceIds` (absent: every instance): one
   * operation for all of them. Each deallocated instance is started as a VM is (and counted in its
   * `startsAccepted`); running ones are left alone; the operation ends when every started instance
   * has, and fails with the allocation error if any of them found no capacity — those stay
   * deallocated, and only their instance views say which.
   */
  startScaleSet(scaleSet: ScaleSet, instanceIds?: unknown[]): { error: ArmError } | { operation: Operation } {
    scaleSet.startCalls++;
    this.onScaleSetStart?.(scaleSet, instanceIds);
    const live = liveInstances(scaleSet);
    let named = live;
    if (instanceIds !== undefined) {
      named = [];
      for (const raw of instanceIds) {
        const wanted = String(raw);
        if (scaleSet.orchestration === 'Uniform' && !/^\d+$/.test(wanted))
          return { error: scaleSetErrors.invalidInstanceId(wanted) };
        const vm = live.find(v => (v.instanceId ?? v.name).toLowerCase() === wanted.toLowerCase());
        if (!vm) return { error: scaleSetErrors.notAnActiveInstance(wanted) };
        if (!named.includes(vm)) named.push(vm);
      }
    }
    const busy = named.find(
      vm => ['starting', 'deallocating', 'stopping'].includes(vm.powerState) || vm.provisioning === 'updating'
    );
    if (busy)
      return {
        error: azureErrors.operationInProgress(
          busy.name,
          busy.powerState === 'starting' ? 'start' : 'deallocate'
        )
      };
    const parts: Operation[] = [];
    for (const vm of named) {
      if (vm.powerState === 'running') continue;
      const started = this.start(vm);
      // Size and price are the scale set's, so a refusal comes with the first instance, before any start.
      if ('error' in started) {
        if (parts.length === 0) return started;
        parts.push({
          id: '',
          vmKey: vm.key,
          status: 'Failed',
          startTime: '',
          error: started.error.body.error
        });
        continue;
      }
      parts.push(started.operation);
    }
    const operation = this.beginOperation(scaleSet.key);
    const settle = () => {
      if (parts.some(p => p.status === 'InProgress')) {
        this.clock.after(1000, settle);
        return;
      }
      const failed = parts.find(p => p.status === 'Failed');
      this.endOperation(operation, failed ? 'Failed' : 'Succeeded', failed?.error);
    };
    settle();
    return { operation };
  }

  /**
   * Try & restore (Microsoft Learn, "Azure Spot Virtual Machines for Virtual Machine Scale Sets"):
   * the platform keeps trying to bring an evicted instance back when capacity and price allow,
   * until the scale set's restore timeout — no start call, so `startsAccepted` does not move.
   */
  private scheduleTryRestore(vm: Vm, evictedAt: number): void {
    const ss = vm.scaleSet!;
    // "Try & restore is disabled in scale sets that use Autoscale"; it restores VMs "evicted due to capacity".
    if (ss.autoscale) {
      this.log(vm, 'Try & restore: off, the scale set uses autoscale');
      return;
    }
    if (this.evictionCauses.get(vm.key) === 'price') {
      this.log(vm, 'Try & restore: not for a price eviction');
      return;
    }
    const timeoutS = ss.restoreTimeoutS ?? this.timing.tryRestoreTimeoutS;
    this.clock.after(this.timing.tryRestoreDelayS * 1000, () => {
      // Someone started it already, or a person deallocated it since: not an evicted instance any more.
      if (vm.deleted || vm.powerState !== 'deallocated' || vm.provisioning === 'updating') return;
      if (vm.annotations.at(-1)?.name !== 'VirtualMachinePreempted') return;
      if (this.clock.now() - evictedAt >= timeoutS * 1000) {
        this.log(vm, 'Try & restore gave up: restore timeout reached');
        return;
      }
      const price = this.price(vm);
      const allowed =
        !this.unavailableSizes.has(vm.vmSize.toLowerCase()) &&
        (vm.maxPrice === -1 || vm.maxPrice >= price) &&
        this.capacity(vm.location, vm.vmSize, vm.zone) >= 1;
      if (!allowed) {
        this.scheduleTryRestore(vm, evictedAt);
        return;
      }
      const pool = poolKey(vm.location, vm.vmSize, vm.zone);
      if (this.pools.has(pool)) this.pools.set(pool, this.pools.get(pool)! - 1);
      this.setPower(vm, 'stopped', true);
      this.clock.after(this.timing.startShowsStoppedS * 1000, () => {
        if (vm.powerState === 'stopped' && vm.provisioning === 'updating') this.setPower(vm, 'starting');
      });
      this.log(vm, 'Try & restore: starting');
      this.clock.after(this.timing.startDurationS * 1000, () => {
        this.setPower(vm, 'running');
        this.log(vm, 'restored by Try & restore');
      });
    });
  }

  /** Autoscale's scale-in (or a person) deletes the instance: it is gone from every table at once. */
  scaleIn(vm: Vm): void {
    if (vm.powerState === 'running') this.release(vm);
    vm.deleted = true;
    this.log(vm, 'deleted (scale-in)');
  }

  log(vm: Vm, what: string): void {
    this.timeline.push({ at: this.clock.now(), vm: vm.name, what });
  }
}

/** The code a failed start leaves in `ProvisioningState/failed/<code>`: the innermost allocation error's. */
function allocationCode(error: ArmError['body']['error']): string {
  const nested = [...(error.details ?? []), ...(error.innererror ? [error.innererror] : [])] as {
    code?: string;
  }[];
  return nested.find(e => e.code && /Allocation/i.test(e.code))?.code ?? error.code;
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

function poolKey(location: string, vmSize: string, zone?: string): string {
  return `${location}|${vmSize}|${zone ?? ''}`.toLowerCase();
}
