/**
 * The systemd unit, checked the way systemd checks it: `systemd-analyze verify` loads it from the
 * place install.sh installs it to, in a root that holds what install.sh writes beside it (the
 * bundle, the settings file) and what the VM brings (systemd's own units, /usr/bin/env). systemd
 * only warns about a directive it cannot use and then runs the service without it, so a clean
 * verify is one that says nothing at all.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { debianTool } from './debian-tool.js';

const UNIT = 'agent/install/linux/azure-spot-restarter-agent.service';
const INSTALLER = 'agent/install/linux/install.sh';
const unit = readFileSync(UNIT, 'utf8');
const systemdAnalyze = debianTool('systemd-analyze', 'systemd');

/** Where install.sh puts things, read from install.sh itself. */
function installerPaths() {
  const script = readFileSync(INSTALLER, 'utf8');
  const assignments = script.split('\n').filter(l => /^(prefix|config)=/.test(l));
  const read = spawnSync('bash', ['-c', `${assignments.join('\n')}\nprintf '%s\\n' "$prefix" "$config"`], {
    encoding: 'utf8'
  });
  const [prefix, config] = read.stdout.trim().split('\n');
  const unitPath = /^install -m 0644 "\$here\/azure-spot-restarter-agent\.service" (\S+)$/m.exec(script)?.[1];
  expect(prefix).toMatch(/^\//);
  expect(config).toMatch(/^\//);
  expect(unitPath).toMatch(/^\/etc\/systemd\/system\//);
  return {
    bundle: `${prefix}/azure-spot-restarter-agent.cjs`,
    envFile: `${config}/agent.env`,
    unitPath: unitPath!
  };
}

/** systemd's own units, where this machine keeps them (Debian: /usr/lib/systemd/system). */
const SYSTEM_UNITS = ['/usr/lib/systemd/system', '/lib/systemd/system'].find(d =>
  existsSync(join(d, 'sysinit.target'))
);

/** A root file system as install.sh leaves it, with the given unit text installed. */
function installedRoot(unitText: string): string {
  const root = mkdtempSync(join(tmpdir(), 'unit-root-'));
  const paths = installerPaths();
  const put = (path: string, text: string, mode = 0o644) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    chmodSync(join(root, path), mode);
  };
  put(paths.unitPath, unitText);
  put(paths.bundle, '#!/usr/bin/env node\n');
  put(paths.envFile, 'SPOT_AGENT_REPOSITORY=acme/spot-restarts\n', 0o600);
  if (SYSTEM_UNITS) cpSync(SYSTEM_UNITS, join(root, 'usr/lib/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  copyFileSync('/usr/bin/env', join(root, 'usr/bin/env'));
  chmodSync(join(root, 'usr/bin/env'), 0o755);
  return root;
}

function verify(unitText: string) {
  const root = installedRoot(unitText);
  const name = installerPaths().unitPath.split('/').pop()!;
  return systemdAnalyze.run(['verify', `--root=${root}`, name]);
}

describe('the systemd unit', () => {
  systemdAnalyze.test('systemd-analyze verify, where install.sh installs it, says nothing', () => {
    const result = verify(unit);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  test('names the files install.sh writes', () => {
    const { bundle, envFile } = installerPaths();
    expect(unit.split('\n')).toContain(`EnvironmentFile=${envFile}`);
    expect(unit).toMatch(new RegExp(`^ExecStart=.* ${bundle.replace(/[.]/g, '\\.')}$`, 'm'));
  });

  // What the verify above would say if the unit were wrong: each of these is a mistake systemd
  // ignores or refuses at boot.
  for (const [mistake, from, to, said] of [
    ['a misspelt hardening directive', 'ProtectHome=true', 'ProtectHom=true', "Unknown key 'ProtectHom'"],
    ['a Restart= value systemd does not know', 'Restart=always', 'Restart=sometimes', 'restart specifier'],
    [
      'a program the VM does not have',
      'ExecStart=/usr/bin/env node',
      'ExecStart=/usr/local/bin/node',
      'is not executable'
    ]
  ])
    systemdAnalyze.test(`${mistake} is reported`, () => {
      expect(unit).toContain(from);
      const result = verify(unit.replace(from!, to!));
      expect(result.stdout + result.stderr).toContain(said);
    });

  systemdAnalyze.test('its sandbox rates OK or better in systemd-analyze security', () => {
    const security = systemdAnalyze.run(['security', '--offline=true', UNIT]);
    const level = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(security.stdout);
    expect(level).not.toBeNull();
    expect(Number(level![1])).toBeLessThanOrEqual(4.0);
  });
});
