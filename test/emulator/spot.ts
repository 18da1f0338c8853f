/**
 * The Spot model (the state table of Microsoft's interruptible-workload guide): VMs, capacity per
 * region/size/zone, the current Spot price, evictions announced through IMDS Scheduled Events,
 * start as a long-running operation, Resource Health annotations — all in emulated time.
 */
import { randomUUID } from 'node:crypto';
import type { ScaledClock } from './clock.js';
import { DEFAULT_PRICE, vmIdOf, type FleetSpec, type PowerState, type VmSpec } from './fleet.js';
import { azureErrors, type ArmError } from './azure-errors.js';

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
  priority: string;
  evictionPolicy: string;
  maxPrice: number;
  tags: Record<string, string>;
  powerState: PowerState;
  /** What Resource Graph shows: it follows the truth after a lag. */
  argPowerState: PowerState;
  deleted: boolean;
  annotation?: Annotation;
  events: ScheduledEvent[];
  incarnation: number;
  /** When the VM's last operation finished: the instance view's ProvisioningState time. */
  changedAt: string;
  /** Start calls accepted for this VM (to prove nothing was started twice). */
  startsAccepted: number;
  createdAt: string;
}

export interface Operation {
  id: string;
  vmKey: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  error?: ArmError['body']['error'];
}

export interface TimelineEntry {
  at: number;
  vm: string;
  what: string;
}

export interface Timing {
  /** Emulated seconds between the Preempt event and the eviction (Azure: at least 30). */
  evictionNoticeS: number;
  /** Emulated seconds a start takes. */
  startDurationS: number;
  /** Emulated seconds from eviction to deallocated. */
  deallocateDurationS: number;
  /** Emulated seconds Resource Graph lags behind the truth. */
  argLagS: number;
}

export const DEFAULT_TIMING: Timing = {
  evictionNoticeS: 30,
  startDurationS: 40,
  deallocateDurationS: 10,
  argLagS: 5
};

const ANNOTATIONS: Record<string, Omit<Annotation, 'occurredTime' | 'name'>> = {
  VirtualMachinePreempted: {
    reason: 'Preempted',
    summary:
      'This virtual machine was preempted (evicted) by the Azure platform because of capacity or price.',
    context: 'Platform Initiated',
    category: 'Unplanned'
  },
  VirtualMachineDeallocationInitiated: {
    reason: 'Stopping and deallocating',
    summary: 'This virtual machine is stopped and deallocated as requested by an authorized user or process.',
    context: 'Customer Initiated',
    category: 'Not Applicable'
  }
};

export class SpotModel {
  readonly vms = new Map<string, Vm>();
  readonly operations = new Map<string, Operation>();
  readonly timeline: TimelineEntry[] = [];
  private readonly pools = new Map<string, number>();
  private readonly prices = new Map<string, number>();
  private readonly unavailableSizes: Set<string>;

  constructor(
    fleet: FleetSpec,
    private readonly clock: ScaledClock,
    readonly timing: Timing = DEFAULT_TIMING
  ) {
    for (const p of fleet.pools ?? []) this.pools.set(poolKey(p.location, p.vmSize, p.zone), p.capacity);
    for (const [k, v] of Object.entries(fleet.prices ?? {})) this.prices.set(k.toLowerCase(), v);
    this.unavailableSizes = new Set((fleet.unavailableSizes ?? []).map(s => s.toLowerCase()));
    for (const spec of fleet.vms) this.add(spec);
  }

  add(spec: VmSpec): Vm {
    const id = `/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${spec.name}`;
    const powerState = spec.powerState ?? 'running';
    const vm: Vm = {
      key: id.toLowerCase(),
      id,
      vmId: vmIdOf(spec),
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      name: spec.name,
      location: spec.location ?? 'eastus',
      vmSize: spec.vmSize ?? 'Standard_D2s_v5',
      zone: spec.zone,
      priority: spec.priority ?? 'Spot',
      evictionPolicy: spec.evictionPolicy ?? 'Deallocate',
      maxPrice: spec.maxPrice ?? -1,
      tags: spec.tags ?? {},
      powerState,
      argPowerState: powerState,
      deleted: false,
      events: [],
      incarnation: 1,
      startsAccepted: 0,
      changedAt: this.clock.iso(),
      createdAt: this.clock.iso()
    };
    if (spec.annotation) this.annotate(vm, spec.annotation);
    this.vms.set(vm.key, vm);
    return vm;
  }

  get(key: string): Vm | undefined {
    const vm = this.vms.get(key.toLowerCase());
    return vm && !vm.deleted ? vm : undefined;
  }

  price(vm: Pick<Vm, 'location' | 'vmSize'>): number {
    return this.prices.get(`${vm.location}/${vm.vmSize}`.toLowerCase()) ?? DEFAULT_PRICE;
  }

  setPrice(location: string, vmSize: string, price: number): void {
    this.prices.set(`${location}/${vmSize}`.toLowerCase(), price);
  }

  /** Free Spot capacity of a pool; absent pools have plenty. */
  capacity(location: string, vmSize: string, zone?: string): number {
    return this.pools.get(poolKey(location, vmSize, zone)) ?? Number.POSITIVE_INFINITY;
  }

  setCapacity(location: string, vmSize: string, capacity: number, zone?: string): void {
    this.pools.set(poolKey(location, vmSize, zone), capacity);
  }

  /** A person (or a script) deallocates the VM: the annotation says so. */
  userDeallocate(vm: Vm): void {
    this.setPower(vm, 'deallocated');
    this.release(vm);
    this.annotate(vm, 'VirtualMachineDeallocationInitiated');
    this.log(vm, 'deallocated by a user');
  }

  /**
   * Azure evicts the VM: a Preempt event first, then after the notice (or once the VM approves the
   * event) deallocation or deletion, per its policy. `capacity` also takes the capacity away.
   */
  evict(vm: Vm, cause: 'capacity' | 'price' | 'simulated' = 'capacity'): ScheduledEvent | undefined {
    if (vm.powerState !== 'running' || vm.events.some(e => e.EventType === 'Preempt')) return undefined;
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
    this.setPower(vm, 'deallocating');
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
      this.setPower(vm, 'deallocated');
      this.annotate(vm, 'VirtualMachinePreempted');
      this.log(vm, 'deallocated');
    });
  }

  /**
   * Start: refused at once for an unknown size or a price above the max; accepted otherwise, and the
   * operation fails later if there is no capacity (as Azure's allocation does).
   */
  start(vm: Vm): { error: ArmError } | { operation: Operation; alreadyRunning: boolean } {
    if (['starting', 'deallocating', 'stopping'].includes(vm.powerState)) {
      return {
        error: azureErrors.operationInProgress(vm.name, vm.powerState === 'starting' ? 'start' : 'deallocate')
      };
    }
    const operation: Operation = {
      id: randomUUID(),
      vmKey: vm.key,
      status: 'InProgress',
      startTime: this.clock.iso()
    };
    this.operations.set(operation.id, operation);
    if (vm.powerState === 'running') {
      operation.status = 'Succeeded';
      operation.endTime = this.clock.iso();
      return { operation, alreadyRunning: true };
    }
    if (this.unavailableSizes.has(vm.vmSize.toLowerCase())) {
      return { error: azureErrors.skuNotAvailable(vm.name, vm.vmSize, vm.location, vm.subscriptionId) };
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
      this.clock.after(1000, () => {
        operation.status = 'Failed';
        operation.endTime = this.clock.iso();
        operation.error = azureErrors.startAllocationFailed(Boolean(vm.zone)).body.error;
      });
      return { operation, alreadyRunning: false };
    }
    if (this.pools.has(pool)) this.pools.set(pool, this.pools.get(pool)! - 1);
    this.setPower(vm, 'starting');
    this.log(vm, 'start accepted');
    this.clock.after(this.timing.startDurationS * 1000, () => {
      this.setPower(vm, 'running');
      operation.status = 'Succeeded';
      operation.endTime = this.clock.iso();
      this.log(vm, 'running');
    });
    return { operation, alreadyRunning: false };
  }

  private release(vm: Vm): void {
    const pool = poolKey(vm.location, vm.vmSize, vm.zone);
    if (this.pools.has(pool)) this.pools.set(pool, this.pools.get(pool)! + 1);
  }

  private setPower(vm: Vm, state: PowerState): void {
    vm.powerState = state;
    if (state === 'running' || state === 'deallocated' || state === 'stopped')
      vm.changedAt = this.clock.iso();
    this.clock.after(this.timing.argLagS * 1000, () => {
      if (vm.powerState === state) vm.argPowerState = state;
    });
  }

  private annotate(vm: Vm, name: keyof typeof ANNOTATIONS): void {
    vm.annotation = { name, occurredTime: this.clock.iso(), ...ANNOTATIONS[name]! };
  }

  log(vm: Vm, what: string): void {
    this.timeline.push({ at: this.clock.now(), vm: vm.name, what });
  }
}

function poolKey(location: string, vmSize: string, zone?: string): string {
  return `${location}|${vmSize}|${zone ?? ''}`.toLowerCase();
}
