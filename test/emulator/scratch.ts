/**
 * One temporary directory for everything a standing process of the emulator makes (the CA, each
 * run's RUNNER_TEMP, the agents' state files), so that it leaves nothing behind: it points this
 * process's temporary directory (TMPDIR, which os.tmpdir() reads on every call) into a directory of
 * its own, and removes that directory when asked, or when the process is told to stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Scratch {
  dir: string;
  /** Removes the directory and points TMPDIR back; safe to call twice. */
  remove(): void;
}

export function scratchTmpdir(prefix: string): Scratch {
  const before = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.env.TMPDIR = dir;
  let removed = false;
  return {
    dir,
    remove() {
      if (removed) return;
      removed = true;
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/**
 * Stops on SIGINT and SIGTERM alike (Ctrl-C, `kill`, or npm passing either on): runs `stop`, then
 * exits with the shell's code for the signal (130, 143). A second signal exits at once.
 */
export function stopOnSignals(stop: () => Promise<void> | void): void {
  let stopping = false;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143]
  ] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(code);
      stopping = true;
      void Promise.resolve()
        .then(stop)
        .catch(() => undefined)
        .finally(() => process.exit(code));
    });
  }
}

/** Caches that tools keep in the temporary directory across runs, on purpose: tsx's and npm's. */
export const TOOL_CACHES = /^(tsx-\d+|node-compile-cache)$/;
