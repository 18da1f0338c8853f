/**
 * The agent bundle as a real process, pointed at one emulated VM's IMDS and the emulated GitHub —
 * for the tests and the demo's fast-path act.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../server.js';
import { shippedAgentLaunch } from './shipped-agent.js';
import type { Vm } from '../azure/spot.js';

export const AGENT = fileURLToPath(
  new URL('../../../agent/dist/azure-spot-restarter-agent.cjs', import.meta.url)
);

/** Tests, demo and benchmarks run the agent as it is shipped: the systemd unit's flags and environment. */
const SHIPPED = shippedAgentLaunch();

export interface AgentProcess {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  text: string[];
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
  waitFor(
    predicate: (log: Record<string, unknown>) => boolean,
    timeoutMs?: number
  ): Promise<Record<string, unknown>>;
}

export function agentEnv(emu: Emulator, vm: Vm, env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...SHIPPED.env,
    ...emu.processEnv(),
    SPOT_AGENT_REPOSITORY: 'acme/spot-fleet',
    SPOT_AGENT_IMDS_URL: emu.imdsFor(vm),
    SPOT_AGENT_GITHUB_API_URL: emu.githubUrl,
    SPOT_AGENT_STATE_FILE: join(mkdtempSync(join(tmpdir(), 'agent-')), 'state.json'),
    SPOT_AGENT_POLL_INTERVAL: '200ms',
    SPOT_AGENT_LOG_FORMAT: 'json',
    ...env
  };
}

/** Starts the bundle, by default with the shipped Node.js flags before it. */
export function startAgent(
  env: Record<string, string>,
  args: string[] = [],
  nodeFlags: string[] = SHIPPED.nodeFlags
): AgentProcess {
  const child = spawn(process.execPath, [...nodeFlags, AGENT, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const logs: Record<string, unknown>[] = [];
  const text: string[] = [];
  const waiters: {
    predicate: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let buffer = '';
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      text.push(line);
      try {
        const log = JSON.parse(line) as Record<string, unknown>;
        logs.push(log);
        for (const w of [...waiters]) {
          if (!w.predicate(log)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(log);
        }
      } catch {
        // not a JSON log line (--help, --check)
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', c => text.push(String(c)));
  const exited = new Promise<number | null>(r => child.on('close', code => r(code)));
  return {
    child,
    logs,
    text,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    waitFor: (predicate, timeoutMs = 10_000) => {
      const found = logs.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching log within ${timeoutMs} ms; logs:\n${text.join('\n')}`)),
          timeoutMs
        );
        waiters.push({ predicate, resolve: l => (clearTimeout(timer), resolve(l)) });
      });
    }
  };
}

export const msg = (pattern: string | RegExp) => (log: Record<string, unknown>) =>
  typeof pattern === 'string' ? String(log.msg).includes(pattern) : pattern.test(String(log.msg));
