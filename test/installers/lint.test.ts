/**
 * `npm run lint:installers` (part of `npm run lint`) fails on what Windows or bash would trip over:
 * a PowerShell syntax error, a cmdlet, parameter or type not checked against Windows PowerShell
 * 5.1 and PowerShell 7, and a shellcheck warning in install.sh or in the script cloud-init writes.
 * Each is shown once on a broken copy of the shipped file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readPowerShell } from '../../scripts/installers/powershell.js';
import { CMDLETS, TYPES } from '../../scripts/installers/powershell-reference.js';
import { debianTool } from './debian-tool.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const INSTALL_PS1 = 'agent/install/windows/install.ps1';
const INSTALL_SH = 'agent/install/linux/install.sh';
const CLOUD_CONFIG = 'agent/install/cloud-init/cloud-config.yml';
const shellcheck = debianTool('shellcheck', 'shellcheck');

function lint(files: string[] = []) {
  return spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/lint-installers.ts', ...files], {
    cwd: ROOT,
    encoding: 'utf8'
  });
}

/** A copy of a shipped file with one change, in a folder of its own. */
function brokenCopy(file: string, from: string | RegExp, to: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const broken = text.replace(from, to);
  expect(broken).not.toBe(text);
  const copy = join(mkdtempSync(join(tmpdir(), 'lint-')), basename(file));
  writeFileSync(copy, broken);
  return copy;
}

describe('npm run lint:installers', () => {
  shellcheck.test('passes the shipped installers', () => {
    const result = lint();
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('clean');
    expect(result.status).toBe(0);
  });

  // Every broken copy of install.ps1 in one run of the lint (each run loads the grammar anew).
  const line =
    readFileSync(join(ROOT, INSTALL_PS1), 'utf8')
      .split('\n')
      .findIndex(l => l.startsWith('if (-not $node)')) + 1;
  const appended = (text: string) => [/\n$/, `\n${text}\n`] as const;
  const brokenScripts = [
    // A missing brace: the if's block is never opened.
    [
      'a PowerShell syntax error, naming the line',
      /^if \(-not \$node\) \{/m,
      'if (-not $node) ',
      `install.ps1:${line}:`,
      'PowerShell syntax error'
    ],
    [
      'an unterminated string',
      "throw 'Run this script as Administrator.'",
      "throw 'Run this script as Administrator.",
      ':',
      'PowerShell syntax error'
    ],
    [
      'a cmdlet not checked for 5.1 and 7',
      ...appended('Remove-Item -LiteralPath $dataDir'),
      ':',
      'Remove-Item is not in'
    ],
    [
      'a parameter not checked for 5.1 and 7',
      ...appended('Copy-Item -LiteralPath $Bundle -FromSession $s'),
      ':',
      'Copy-Item -FromSession is not in'
    ],
    [
      'an abbreviated parameter',
      ...appended('Get-Content -LiteralPath $taskTemplate -Enc UTF8'),
      ':',
      'Get-Content -Enc is not in'
    ],
    [
      'a .NET type not checked for .NET Framework and .NET',
      ...appended('$c = [System.Net.WebClient]::new()'),
      ':',
      'type [System.Net.WebClient] is not in'
    ],
    [
      'a type given to New-Object',
      ...appended('$c = New-Object System.Net.WebClient'),
      ':',
      'type [System.Net.WebClient] is not in'
    ]
  ] as const;
  const copies = brokenScripts.map(([, from, to]) => brokenCopy(INSTALL_PS1, from, to));
  let run: ReturnType<typeof lint>;
  beforeAll(() => {
    run = lint(copies);
  });

  brokenScripts.forEach(([mistake, , , where, said], i) =>
    test(`fails on ${mistake}`, () => {
      expect(run.status).toBe(1);
      const lines = run.stderr.split('\n').filter(l => l.includes(copies[i]!.split('/').slice(-2).join('/')));
      expect(lines.some(l => l.includes(where) && l.includes(said))).toBe(true);
    })
  );

  shellcheck.test('fails on a shellcheck warning in install.sh', () => {
    // The word-splitting the --check line had: a drain command with a space broke it.
    const result = lint([
      brokenCopy(INSTALL_SH, 'env "${settings[@]}" node', `env $(grep -v '^#' "$config/agent.env") node`)
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/install\.sh:\d+:\d+: warning: .*\[SC2046\]/);
  });

  shellcheck.test('fails on a shellcheck warning in the script cloud-init writes', () => {
    const result = lint([
      brokenCopy(
        CLOUD_CONFIG,
        'cd "${SPOT_AGENT_DIR:-/root/spot-agent}"',
        'cd ${SPOT_AGENT_DIR:-/root/spot-agent}'
      )
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /cloud-config\.yml write_files\[1\] \/root\/spot-agent\/install-agent\.sh:\d+:\d+: .*\[SC2086\]/
    );
  });
});

describe('the list of what install.ps1 may use', () => {
  test('lists only what install.ps1 uses, so it stays a record of what was checked', async () => {
    const script = await readPowerShell(readFileSync(join(ROOT, INSTALL_PS1), 'utf8'));
    const used = new Set(script.commands.map(c => c.name.toLowerCase()));
    expect(Object.keys(CMDLETS).filter(c => !used.has(c.toLowerCase()))).toEqual([]);
    const types = new Set([
      ...script.types.map(t => t.name.toLowerCase()),
      ...script.commands
        .filter(c => c.name === 'New-Object')
        .map(c => c.firstArgument!.replace(/\(.*$/s, '').toLowerCase())
    ]);
    expect(Object.keys(TYPES).filter(t => !types.has(t.toLowerCase()))).toEqual([]);
  });
});
