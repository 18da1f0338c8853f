/**
 * The Linux installer refuses bad settings before it changes anything on the machine (these tests
 * only take the refusing paths: CI runs as root). The unit's hardening is what the docs promise;
 * test/installers checks it with systemd's own tools.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';

const INSTALL = 'agent/install/linux/install.sh';

function install(args: string[], env: Record<string, string> = {}) {
  return spawnSync('bash', [INSTALL, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env }
  });
}

describe('agent/install/linux/install.sh', () => {
  test('is valid bash', () => {
    expect(spawnSync('bash', ['-n', INSTALL]).status).toBe(0);
  });

  test.each([
    [['--repository', 'not-a-repo'], '--repository must be owner/repo'],
    [['--repository', 'acme/spot', '--bundle', '/nonexistent/agent.cjs'], 'agent bundle not found'],
    [['--repository', 'acme/spot'], 'give GitHub credentials'],
    [['--frobnicate'], 'unknown option --frobnicate']
  ])('%j is refused with exit 2 and says why', (args, message) => {
    const result = install(args);
    if (process.getuid?.() !== 0 && !args.includes('--frobnicate')) {
      expect(result.stderr).toContain('run as root');
      return;
    }
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  test('the systemd unit restarts always, never for bad settings, and is hardened', () => {
    const unit = readFileSync('agent/install/linux/azure-spot-restarter-agent.service', 'utf8');
    for (const line of [
      'Restart=always',
      'RestartPreventExitStatus=2 78',
      'NoNewPrivileges=true',
      'ProtectSystem=strict',
      'PrivateTmp=true',
      'StateDirectory=azure-spot-restarter-agent',
      'User=spot-agent'
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
  });
});
