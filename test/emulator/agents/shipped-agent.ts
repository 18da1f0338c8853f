/**
 * How the agent is shipped: the Node.js flags and the environment that the systemd unit starts it
 * with, read from the unit itself, so a benchmark measures the process users run and cannot drift
 * from it. (The Windows task passes the same Node.js flags; test/unit/agent-install.test.ts holds the two together.)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SYSTEMD_UNIT = fileURLToPath(
  new URL('../../../agent/install/linux/azure-spot-restarter-agent.service', import.meta.url)
);
export interface AgentLaunch {
  /** Flags given to node before the bundle, e.g. `--jitless`. */
  nodeFlags: string[];
  /** Variables the unit sets with `Environment=` (not the per-VM settings of the EnvironmentFile). */
  env: Record<string, string>;
}

export function shippedAgentLaunch(unit = readFileSync(SYSTEMD_UNIT, 'utf8')): AgentLaunch {
  const env: Record<string, string> = {};
  let nodeFlags: string[] | undefined;
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('Environment=')) {
      // systemd: space-separated assignments, each optionally in double quotes.
      for (const m of line.slice('Environment='.length).matchAll(/"([^"]*)"|(\S+)/g)) {
        const assignment = m[1] ?? m[2]!;
        const eq = assignment.indexOf('=');
        if (eq > 0) env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
      }
    } else if (line.startsWith('ExecStart=')) {
      const words = line.slice('ExecStart='.length).split(/\s+/);
      const node = words.findIndex(w => w === 'node' || w.endsWith('/node'));
      const bundle = words.findIndex(w => w.endsWith('azure-spot-restarter-agent.cjs'));
      if (node < 0 || bundle < node)
        throw new Error(`${SYSTEMD_UNIT}: ExecStart= should run node … azure-spot-restarter-agent.cjs`);
      nodeFlags = words.slice(node + 1, bundle);
    }
  }
  if (!nodeFlags) throw new Error(`${SYSTEMD_UNIT} has no ExecStart= line`);
  return { nodeFlags, env };
}
