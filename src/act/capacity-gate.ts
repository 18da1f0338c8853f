/**
 * Capacity retries for a whole pool at once. Azure's Spot capacity is per region, size and zone:
 * when a wave takes a size back, every VM of that pool fails to start for the same reason and
 * would retry on its own, each every retry-interval — hundreds of start calls a minute that spend
 * Compute's update budget of the region and find nothing. Instead, once a start in a pool fails
 * for capacity, the pool's VMs wait at its gate: one of them, in turn, tries again as a probe
 * (every retry-interval divided among the VMs that waited, never more often than six a
 * retry-interval), and a start that gets under way lets the next ones through — four for each at
 * first, then, once a step of returning capacity has shown its size, that many at once — so the
 * pool follows capacity as it comes back in steps, and a failure closes the gate again. A VM of
 * the pool found while the gate is closed joins the queue at once rather than spend a start (and
 * the budgets a start spends) to learn what its pool already knows.
 */
import type { Clock } from '../azure/retry.js';
import type { VmRecord } from '../discover/discovery.js';

/** Probes of one pool per retry-interval at most: 5 s apart at the default 30 s. */
const MAX_PROBES_PER_INTERVAL = 6;
/**
 * Until the pool has shown how much capacity comes back at a time, each start that gets under way
 * lets this many more try: a step of n VMs is found in about log4(n) polls.
 */
const GRANT_PER_SUCCESS = 4;

interface Waiter {
  deadline: number;
  resolve: (go: boolean) => void;
}

export class CapacityGate {
  private readonly waiters: Waiter[] = [];
  /** The most VMs that waited here at once: a pool in a wave keeps probing at the wave's pace as it empties. */
  private peak = 0;
  private tokens = 0;
  /** Until when the last probe counts as under test: one that never reports is given up on. */
  private probingUntil = 0;
  private pumping = false;
  /** Starts let through as probes, and by starts under way (for the log and the tests). */
  probes = 0;
  granted = 0;

  /** Closed by a capacity failure: VMs of the pool that have not tried yet queue rather than try. */
  closed = false;
  /** Azure's last capacity refusal in this pool, for the VMs that never got to try. */
  lastFailure?: { code?: string; detail: string };
  /**
   * Counts the gate's openings: a start carries the one it began in, so that the failure of a start
   * sent in an earlier step, arriving late, does not close the step that has just begun.
   */
  epoch = 0;
  /** Whether the current step is open (a start got under way since the last failure). */
  private ramping = false;
  /** Starts under way in this opening, and in the last one: the size of a step of capacity. */
  private opening = 0;
  private lastOpening = 0;

  constructor(
    private readonly clock: Clock,
    private readonly retryIntervalMs: number
  ) {}

  /**
   * A start in this pool, begun in opening `epoch`, failed for capacity: the gate closes and what
   * was granted is forfeited — unless the start is older than the current opening.
   */
  failed(epoch: number, code: string | undefined, detail: string): void {
    this.lastFailure = { code, detail };
    this.closed = true;
    if (epoch < this.epoch && this.ramping) return;
    if (this.opening > 0) this.lastOpening = this.opening;
    this.opening = 0;
    this.ramping = false;
    this.tokens = 0;
    this.probingUntil = 0;
  }

  /** Waits for a turn: true when the VM may try, false when `deadline` comes first. */
  wait(deadline: number): Promise<boolean> {
    return new Promise<boolean>(resolve => {
      this.waiters.push({ deadline, resolve });
      this.peak = Math.max(this.peak, this.waiters.length);
      void this.pump();
    });
  }

  /**
   * A start in this pool is under way (not refused for capacity): let more of the pool try. Once a
   * step's size is known, the start that opens the next one lets that many through at once, and
   * each start after them one more, so the pool follows steps of the same size in two polls
   * without sending dozens that must fail.
   */
  underWay(): void {
    this.probingUntil = 0;
    if (!this.ramping) {
      this.ramping = true;
      this.epoch++;
    }
    this.opening++;
    this.tokens +=
      this.lastOpening === 0
        ? GRANT_PER_SUCCESS
        : this.opening === 1
          ? Math.max(GRANT_PER_SUCCESS, this.lastOpening - 1)
          : 1;
    this.release();
    // Nobody left waiting: the pool has capacity again, newcomers try on their own.
    if (!this.waiters.length) this.closed = false;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  private release(): void {
    while (this.tokens > 0 && this.waiters.length) {
      this.tokens--;
      this.granted++;
      this.waiters.shift()!.resolve(true);
    }
  }

  /**
   * Looks every retry-interval / 6: lets a probe through when the waiting VMs' share of the
   * interval has passed since the last one (the whole interval for a lone VM, as before the gate),
   * and tells the VMs whose time is up.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let lastProbe = this.clock.now();
    try {
      while (this.waiters.length) {
        await this.clock.sleep(this.retryIntervalMs / MAX_PROBES_PER_INTERVAL);
        const now = this.clock.now();
        for (const w of this.waiters.filter(w => w.deadline <= now)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(false);
        }
        const every = this.retryIntervalMs / Math.min(this.peak, MAX_PROBES_PER_INTERVAL);
        // One probe at a time: the next only once the last one has failed or got under way.
        if (now - lastProbe >= every && now >= this.probingUntil && this.waiters.length) {
          lastProbe = now;
          this.probingUntil = now + this.retryIntervalMs;
          this.probes++;
          this.waiters.shift()!.resolve(true);
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** One gate per pool: region, size and zone. */
export class CapacityGates {
  private readonly gates = new Map<string, CapacityGate>();

  constructor(
    private readonly clock: Clock,
    private readonly retryIntervalMs: number
  ) {}

  for(vm: Pick<VmRecord, 'location' | 'vmSize' | 'zone'>): CapacityGate {
    const key = `${vm.location}|${vm.vmSize}|${vm.zone ?? ''}`.toLowerCase();
    let gate = this.gates.get(key);
    if (!gate) this.gates.set(key, (gate = new CapacityGate(this.clock, this.retryIntervalMs)));
    return gate;
  }
}
