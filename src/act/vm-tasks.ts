/**
 * The VMs a run is working on, one piece of work per VM at a time, however many sources name it: its
 * own dispatch, the dispatches of the rest of the wave (read from GitHub as they arrive), the `vms`
 * input, and each sweep. A VM whose outcome may still change within the run (its evidence had not
 * arrived) can be taken again by a later source; any other outcome is the VM's for this run.
 */
import type { Clock } from '../azure/retry.js';
import type { Outcome, VmResult } from '../report/outcomes.js';

/** Outcomes a later source in the same run may still change. */
const TAKEN_AGAIN: Outcome[] = ['awaiting-evidence'];

export class VmTasks {
  private readonly active = new Map<string, Promise<void>>();
  private readonly latest = new Map<string, VmResult>();
  private idle: (() => void)[] = [];
  /** Work that threw rather than ended in an outcome: the run fails with it, as before. */
  private readonly errors: unknown[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly onResult: (result: VmResult) => void
  ) {}

  /** Starts `work` for the VM unless it is under way or already settled for this run; true if started. */
  take(key: string, work: () => Promise<VmResult>): boolean {
    if (!this.open(key)) return false;
    const task = work()
      .then(result => this.settle(key, result))
      .catch(error => void this.errors.push(error))
      .finally(() => {
        this.active.delete(key);
        if (this.active.size === 0) for (const wake of this.idle.splice(0)) wake();
      });
    this.active.set(key, task);
    return true;
  }

  /** Records an outcome decided without any work (not found, not eligible). */
  settle(key: string, result: VmResult): void {
    this.latest.set(key, result);
    this.onResult(result);
  }

  /** Neither under way nor settled for good. */
  open(key: string): boolean {
    if (this.active.has(key)) return false;
    const last = this.latest.get(key);
    return !last || TAKEN_AGAIN.includes(last.outcome);
  }

  get busy(): boolean {
    return this.active.size > 0;
  }

  /** Resolves when no VM is being worked on any more, or after `ms`, whichever comes first. */
  async idleWithin(ms: number): Promise<void> {
    if (!this.busy) return;
    await Promise.race([this.clock.sleep(ms), new Promise<void>(resolve => this.idle.push(resolve))]);
  }

  async settled(): Promise<void> {
    while (this.active.size) await Promise.all(this.active.values());
    if (this.errors.length) throw this.errors[0];
  }

  /** One result per VM: the latest. */
  results(): VmResult[] {
    return [...this.latest.values()];
  }
}
