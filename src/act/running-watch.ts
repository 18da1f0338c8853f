/**
 * Confirms started VMs in bulk: one listing of a subscription's VMs with their power states
 * (VirtualMachines_ListAll with `statusOnly=true`: "enables fetching run time status of all Virtual
 * Machines in the subscription"), a page per a few hundred VMs, instead of polling each start
 * operation several times. Compute counts a listing as "High Cost Get VM" (300 a minute per
 * subscription, "Compute throttling limits"); one every `poll-interval` (5 s by default) spends a few.
 * A VM the listing shows running is started; one it shows down again is looked at through its own
 * operation (which says why); one still on its way waits for the next listing.
 */
import type { ComputeFor } from '../azure/clients.js';
import type { Clock } from '../azure/retry.js';
import type { VmRecord } from '../discover/discovery.js';

/** What a listing shows of a started VM. `unavailable`: no listing (e.g. a role on resource groups only). */
export type Seen = 'running' | 'on its way' | 'down' | 'unavailable';

interface Subscription {
  /** VMs waiting for the next listing, by lower-case ID. */
  waiting: Map<string, ((seen: Seen) => void)[]>;
  looping: boolean;
  /** The listing was refused once: the rest of the run polls operations instead. */
  refused: boolean;
}

export class RunningWatch {
  private readonly subscriptions = new Map<string, Subscription>();
  constructor(
    private readonly deps: { clock: Clock; compute: ComputeFor },
    /** How often a subscription with VMs on their way is listed: the run's `poll-interval`. */
    private readonly everyMs: number
  ) {}

  /** How the first listing that starts after now shows the VM. */
  next(vm: Pick<VmRecord, 'id' | 'subscriptionId'>): Promise<Seen> {
    const key = vm.subscriptionId.toLowerCase();
    let sub = this.subscriptions.get(key);
    if (!sub) this.subscriptions.set(key, (sub = { waiting: new Map(), looping: false, refused: false }));
    if (sub.refused) return Promise.resolve('unavailable');
    const id = vm.id.toLowerCase();
    const seen = new Promise<Seen>(resolve => sub.waiting.set(id, [...(sub.waiting.get(id) ?? []), resolve]));
    if (!sub.looping) {
      sub.looping = true;
      void this.loop(vm.subscriptionId, sub);
    }
    return seen;
  }

  private async loop(subscriptionId: string, sub: Subscription): Promise<void> {
    while (sub.waiting.size) {
      await this.deps.clock.sleep(this.everyMs);
      // VMs that ask while this listing runs wait for the next one: it may have begun before their start.
      const waiting = sub.waiting;
      sub.waiting = new Map();
      const states = new Map<string, Seen>();
      try {
        for await (const vm of this.deps
          .compute(subscriptionId)
          .virtualMachines.listAll({ statusOnly: 'true' })) {
          if (vm.id && waiting.has(vm.id.toLowerCase()))
            states.set(vm.id.toLowerCase(), seenIn(vm.instanceView?.statuses ?? []));
        }
      } catch {
        sub.refused = true;
        for (const resolves of [...waiting.values(), ...sub.waiting.values()])
          for (const r of resolves) r('unavailable');
        sub.waiting = new Map();
        break;
      }
      // Absent from the listing (deleted, or not readable): its operation says what happened.
      for (const [id, resolves] of waiting) for (const r of resolves) r(states.get(id) ?? 'down');
    }
    sub.looping = false;
  }
}

/** A VM's statuses, as its instance view has them. */
function seenIn(statuses: { code?: string }[]): Seen {
  const codes = statuses.map(s => s.code?.toLowerCase() ?? '');
  const power = codes.find(c => c.startsWith('powerstate/')) ?? '';
  const updating = codes.includes('provisioningstate/updating');
  if (power === 'powerstate/running' && !updating) return 'running';
  if (power === 'powerstate/deallocated' && !updating) return 'down';
  return 'on its way';
}
