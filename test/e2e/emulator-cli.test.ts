/**
 * `npm run emulator` as a person uses it: it serves until it is told to stop, by SIGINT or SIGTERM,
 * sent to npm or to the emulator's own process; then it stops listening and removes the files it
 * made (its CA certificate, the runs' temporary directories).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { TOOL_CACHES } from '../emulator/scratch.js';

const home = mkdtempSync(join(tmpdir(), 'emulator-cli-test-'));
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group has exited, as it should have
    }
  }
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Starts the emulator as `npm run emulator` would, or its process alone; resolves once it serves. */
async function startEmulator(via: 'npm' | 'process', tmp: string) {
  const args = ['--fleet', 'test/emulator/fleets/fleet.example.yml'];
  // A process group of its own, so that a failing test can still end whatever it started.
  const options = { env: { ...process.env, TMPDIR: tmp }, detached: true };
  const child =
    via === 'npm'
      ? spawn('npm', ['run', '-s', 'emulator', '--', ...args], options)
      : spawn(process.execPath, ['--import', 'tsx', 'test/emulator/cli.ts', ...args], options);
  started.push(child.pid!);
  let out = '';
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('Serving until')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void exited.then(code => {
      clearInterval(timer);
      reject(new Error(`the emulator exited (${code}) before serving:\n${out}`));
    });
  });
  const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  return { child, exited, port };
}

/** Whether something listens on the port: binding it fails then (a probe that no interceptor can fake). */
function listening(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

describe('npm run emulator stops when told to', () => {
  const cases: ['SIGINT' | 'SIGTERM', 'npm' | 'process'][] = [
    ['SIGINT', 'npm'],
    ['SIGTERM', 'npm'],
    ['SIGINT', 'process'],
    ['SIGTERM', 'process']
  ];
  test.each(cases)(
    '%s sent to %s',
    async (signal, via) => {
      const tmp = mkdtempSync(join(home, `${signal}-${via}-`));
      const { child, exited, port } = await startEmulator(via, tmp);
      expect(await listening(port)).toBe(true);
      child.kill(signal);
      // npm passes the signal on and exits with its child, as the emulator's process does itself.
      expect(await exited).not.toBe(0);
      expect(await listening(port)).toBe(false);
      expect(readdirSync(tmp).filter(name => !TOOL_CACHES.test(name))).toEqual([]);
    },
    60_000
  );
});
