/**
 * The preload that puts the action's process on the emulator's clock (runner.ts
 * actionOnEmulatedClock): its `Date` reads emulated time and its timers last emulated time, so a
 * process's hour-long wait at time scale 100 000 ends in about 36 real ms — and without it, it
 * would not end within the test's timeout. And the waits Azure's answers ask for are told on the
 * clock their client keeps.
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { retryHeaders } from '../emulator/azure/arm.js';
import { ScaledClock } from '../emulator/clock.js';

const PRELOAD = fileURLToPath(new URL('../emulator/emulated-clock-preload.mjs', import.meta.url));

function run(script: string, spec: string) {
  return spawnSync(process.execPath, ['--import', PRELOAD, '-e', script], {
    env: { PATH: process.env.PATH ?? '', EMULATED_CLOCK: spec },
    encoding: 'utf8',
    timeout: 30_000
  });
}

describe('emulated-clock-preload.mjs', () => {
  test("a process keeps the clock's time: Date starts at its emulated now, and an hour's timer lasts an emulated hour", () => {
    const emulatedStart = Date.parse('2026-01-01T00:00:00Z');
    const clock = new ScaledClock(100_000, emulatedStart);
    const out = run(
      `const t0 = Date.now(); const d0 = new Date().getTime();
       setTimeout(() => console.log(JSON.stringify({ t0, d0, t1: Date.now(), parsed: new Date(0).getTime() })), 3_600_000);`,
      clock.processSpec()
    );
    expect(out.status).toBe(0);
    const { t0, d0, t1, parsed } = JSON.parse(out.stdout) as {
      t0: number;
      d0: number;
      t1: number;
      parsed: number;
    };
    // The emulated clock began on 1 January 2026, not at the real now.
    expect(t0).toBeGreaterThanOrEqual(emulatedStart);
    expect(Math.abs(t0 - Date.now())).toBeGreaterThan(24 * 3600_000);
    expect(d0).toBeGreaterThanOrEqual(t0);
    expect(t1 - t0).toBeGreaterThanOrEqual(3_600_000);
    // A date given its moment keeps it.
    expect(parsed).toBe(0);
  });

  test('a malformed EMULATED_CLOCK stops the process with a message that names it and the form expected', () => {
    const out = run('console.log("ran")', '20,soon');
    expect(out.status).not.toBe(0);
    expect(out.stdout).not.toContain('ran');
    expect(out.stderr).toContain(
      'EMULATED_CLOCK is "20,soon"; expected "<scale>,<real start ms>,<emulated start ms>"'
    );
  });
});

describe("Retry-After on the client's clock", () => {
  test('a client on the real clock is told the real wait: whole seconds, and the milliseconds in x-ms-retry-after-ms', () => {
    const clock = new ScaledClock(20);
    expect(retryHeaders(30_000, { clock })).toEqual({ 'Retry-After': '2', 'x-ms-retry-after-ms': '1500' });
  });

  test('a client on the emulated clock is told what Azure tells: the emulated seconds, nothing else', () => {
    const clock = new ScaledClock(20, Date.now(), true);
    expect(retryHeaders(30_000, { clock })).toEqual({ 'Retry-After': '30' });
  });

  test('at time scale 1 both clocks are one: whole seconds only', () => {
    expect(retryHeaders(4_200, { clock: new ScaledClock(1) })).toEqual({ 'Retry-After': '5' });
  });
});
