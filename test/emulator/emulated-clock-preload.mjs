/**
 * Runs a process (the action, as the emulated runner starts it) on the emulator's clock: with
 * `EMULATED_CLOCK=<scale>,<real start>,<emulated start>` in its environment, `Date` reads emulated
 * time and every timer's delay is divided by the scale. A run at time scale 20 then spends
 * its polls, its retry intervals, its pacing and the refills of its request budgets at the pace
 * it would on Azure, measured on the same clock as the emulated Azure and GitHub — instead of
 * twenty times slower, as the action's own real-time clock would have it. Only what runs in the
 * process's own time changes: sockets, TLS and the CPU keep real time (a real second of work is
 * `scale` emulated seconds, which the measurements state).
 * Loaded with `node --import`; plain JavaScript, so no loader is needed for it.
 */
const spec = process.env.EMULATED_CLOCK;
if (spec) {
  const [scale, realStart, emulatedStart] = spec.split(',').map(Number);
  if (!(scale > 0) || !Number.isFinite(realStart) || !Number.isFinite(emulatedStart))
    throw new Error(`EMULATED_CLOCK is "${spec}"; expected "<scale>,<real start ms>,<emulated start ms>"`);
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const now = () => emulatedStart + (realNow() - realStart) * scale;
  class EmulatedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now());
      else super(...args);
    }
    static now() {
      return now();
    }
  }
  globalThis.Date = EmulatedDate;
  const scaled = real =>
    function (fn, ms, ...args) {
      return real(fn, typeof ms === 'number' ? ms / scale : ms, ...args);
    };
  globalThis.setTimeout = scaled(globalThis.setTimeout);
  globalThis.setInterval = scaled(globalThis.setInterval);
}
