/**
 * Counting requests over trailing windows on the emulated clock: GitHub's secondary limits
 * (80 a minute and 500 an hour per identity), its queue limits (500 runs per 10 s per repository)
 * and the GITHUB_TOKEN's hourly budget. GitHub does not say whether its windows are fixed or
 * trailing; a trailing window is never kinder, since no boundary resets the count early.
 */
export interface WindowLimit {
  /** Most events allowed in any trailing window of `windowMs`. */
  max: number;
  windowMs: number;
}

export type WindowVerdict = { ok: true } | { ok: false; retryAfterMs: number; limit: WindowLimit };

export class SlidingWindows {
  private readonly events = new Map<string, number[]>();

  constructor(
    private readonly limits: WindowLimit[],
    private readonly now: () => number
  ) {}

  /** Counts one event for `key` if every window has room; otherwise says when the tightest one will. */
  take(key: string): WindowVerdict {
    const verdict = this.check(key);
    if (verdict.ok) this.list(key).push(this.now());
    return verdict;
  }

  check(key: string): WindowVerdict {
    const now = this.now();
    const times = this.list(key);
    const longest = Math.max(...this.limits.map(l => l.windowMs));
    while (times.length && times[0]! <= now - longest) times.shift();
    let worst: { retryAfterMs: number; limit: WindowLimit } | undefined;
    for (const limit of this.limits) {
      const inWindow = times.filter(t => t > now - limit.windowMs);
      if (inWindow.length < limit.max) continue;
      // Room again once the oldest event that keeps the window full has left it.
      const freesAt = inWindow[inWindow.length - limit.max]! + limit.windowMs;
      const retryAfterMs = Math.max(1, freesAt - now);
      if (!worst || retryAfterMs > worst.retryAfterMs) worst = { retryAfterMs, limit };
    }
    return worst ? { ok: false, ...worst } : { ok: true };
  }

  /** Events counted for `key` in the trailing window of `windowMs`. */
  used(key: string, windowMs: number): number {
    const now = this.now();
    return this.list(key).filter(t => t > now - windowMs).length;
  }

  private list(key: string): number[] {
    let times = this.events.get(key);
    if (!times) this.events.set(key, (times = []));
    return times;
  }
}
