/**
 * Confirms started VMs in bulk: one listing of a subscription's VMs with their power states
 * (VirtualMachines_ListAll with `statusOnly=true`: "enables fetching run time status of all Virtual
 * Machines in the subscription"), a page per a few hundred VMs, instead of polling each start
 * operation several times. Compute counts a listing as "High Cost Get VM" (300 a minute per
 * subscription, "Compute throttling limits"); one every `poll-interval`, and no more than a page a
 * second, spends a small share of it.
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
  /** When the last listing ended, and how many pages it took. */
  listedAt: number;
  pages: number;
}

const MS_PER_PAGE = 1000;

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
    if (!sub)
      this.subscriptions.set(
        key,
        (sub = { waiting: new Map(), looping: false, refused: false, listedAt: 0, pages: 0 })
      );
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
      // A listing costs a request per page: at most one page a second per subscription (a fifth of
      // "High Cost Get VM"), however short poll-interval is — counted from the last listing, which
      // may have been another loop's (one ends whenever no VM is waiting for a moment).
      const clock = this.deps.clock;
      await clock.sleep(Math.max(this.everyMs, sub.listedAt + sub.pages * MS_PER_PAGE - clock.now()));
      let pages = 0;
      // VMs that ask while this listing runs wait for the next one: it may have begun before their start.
      const waiting = sub.waiting;
      sub.waiting = new Map();
      const states = new Map<string, Seen>();
      try {
        for await (const page of this.deps
          .compute(subscriptionId)
          .virtualMachines.listAll({ statusOnly: 'true' })
          .byPage()) {
          pages++;
          for (const vm of page)
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
      sub.pages = pages;
      sub.listedAt = this.deps.clock.now();
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
