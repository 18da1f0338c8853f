/**
 * Emulated time. With a time scale of 100, a 30 s eviction notice passes in 300 ms of real time;
 * everything the emulator schedules (notices, starts, token expiry, bucket refills) uses it.
 */
export class ScaledClock {
  private readonly realStart = Date.now();
  constructor(
    readonly scale = 1,
    private readonly emulatedStart = Date.now(),
    /**
     * Azure's clients keep emulated time (the action on the emulated clock: runner.ts
     * actionOnEmulatedClock). Then the durations Azure's answers carry (Retry-After, Resource Graph's
     * quota reset) are emulated ones, as Azure's are; otherwise they are the real time an emulated
     * duration takes, so that a client on the real clock waits as long as Azure asks. (GitHub's
     * answers go to the agents, which keep real time.)
     */
    readonly azureClientsOnEmulatedClock = false
  ) {}

  /** Emulated now, in ms since the epoch. */
  now(): number {
    return this.emulatedStart + (Date.now() - this.realStart) * this.scale;
  }

  /** A duration as Azure's clients should read it (see azureClientsOnEmulatedClock). */
  forAzureClients(emulatedMs: number): number {
    return this.azureClientsOnEmulatedClock ? emulatedMs : this.real(emulatedMs);
  }

  /** Real milliseconds that an emulated duration takes. */
  real(emulatedMs: number): number {
    return emulatedMs / this.scale;
  }

  /** Runs `fn` after an emulated delay; the timer never keeps the process alive. */
  after(emulatedMs: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(fn, Math.max(0, this.real(emulatedMs)));
    timer.unref();
    return timer;
  }

  /** The emulated moment of a real one (e.g. a log line's timestamp). */
  emulatedAt(realMs: number): number {
    return this.emulatedStart + (realMs - this.realStart) * this.scale;
  }

  /** The real moment of an emulated one. */
  realAt(emulatedMs: number): number {
    return this.realStart + (emulatedMs - this.emulatedStart) / this.scale;
  }

  /**
   * The clock as emulated-clock-preload.mjs reads it from `EMULATED_CLOCK`: a process started with
   * it keeps this clock's time, and its timers run at this clock's pace.
   */
  processSpec(): string {
    return `${this.scale},${this.realStart},${this.emulatedStart}`;
  }

  iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }
}
