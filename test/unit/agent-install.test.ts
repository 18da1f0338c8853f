/**
 * The agent's installers start it the way the benchmark measured it: the systemd unit's Node.js
 * flags (read by the tests, the demo and the bench) are the Windows task's too.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { shippedAgentLaunch } from '../emulator/agents/shipped-agent.js';

/** The Node.js flags of the Windows task: its Arguments less the settings file and the bundle. */
function windowsTaskNodeFlags(): string[] {
  const task = readFileSync('agent/install/windows/azure-spot-restarter-agent.task.xml', 'utf8');
  const args = /<Arguments>([^<]*)<\/Arguments>/.exec(task)?.[1];
  if (args === undefined) throw new Error('the Windows task has no <Arguments>');
  const words = args.split(' ');
  expect(words[0]).toBe('--env-file="{{ENV_FILE}}"');
  expect(words.at(-1)).toBe('"{{BUNDLE}}"');
  return words.slice(1, -1);
}

describe('the shipped agent launch', () => {
  test('the Windows task passes the same Node.js flags as the systemd unit', () => {
    const { nodeFlags } = shippedAgentLaunch();
    expect(nodeFlags.length).toBeGreaterThan(0);
    expect(windowsTaskNodeFlags()).toEqual(nodeFlags);
  });

  test('install.sh runs --check with the flags it reads from the same unit', () => {
    const script = readFileSync('agent/install/linux/install.sh', 'utf8');
    const line = script.split('\n').find(l => l.startsWith('node_flags=$(sed'));
    expect(line).toBeDefined();
    expect(script).toMatch(/node \$node_flags "\$prefix\/azure-spot-restarter-agent\.cjs" --check/);
    const read = spawnSync('bash', ['-c', `here=agent/install/linux; ${line}; printf '%s' "$node_flags"`], {
      encoding: 'utf8'
    });
    expect(read.stdout.split(' ')).toEqual(shippedAgentLaunch().nodeFlags);
  });

  test('reads the flags of ExecStart and every Environment= assignment, quoted or not', () => {
    const unit = [
      '[Service]',
      'Environment=MALLOC_ARENA_MAX=2 "A=with space"',
      'Environment=B=1',
      'ExecStart=/usr/bin/env node --jitless --max-semi-space-size=1 /opt/x/azure-spot-restarter-agent.cjs'
    ].join('\n');
    expect(shippedAgentLaunch(unit)).toEqual({
      nodeFlags: ['--jitless', '--max-semi-space-size=1'],
      env: { MALLOC_ARENA_MAX: '2', A: 'with space', B: '1' }
    });
  });

  test('a unit without a node ExecStart is refused by name', () => {
    expect(() => shippedAgentLaunch('[Service]\nExecStart=/bin/true')).toThrow(/ExecStart= should run node/);
    expect(() => shippedAgentLaunch('[Service]')).toThrow(/has no ExecStart= line/);
  });
});
