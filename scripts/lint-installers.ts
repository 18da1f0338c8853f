/**
 * Lints the agent's installers the way their platforms will read them, without the platforms:
 * - each PowerShell script is parsed with a PowerShell grammar, so a syntax error fails, and may
 *   call only the cmdlets, name only the parameters and use only the types that
 *   scripts/installers/powershell-reference.ts lists as present in Windows PowerShell 5.1 and 7;
 * - each shell script, and each one that cloud-config.yml writes, goes through shellcheck.
 *
 *   tsx scripts/lint-installers.ts [FILE ...]    (default: the installers in agent/install)
 *
 * shellcheck is Debian's (apt-get install shellcheck). Without it the shell scripts are skipped
 * with a message, except in CI (CI=true), where a missing shellcheck is an error.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { readPowerShell } from './installers/powershell.js';
import { CMDLETS, COMMON_PARAMETERS, TYPES } from './installers/powershell-reference.js';

const ROOT = new URL('..', import.meta.url).pathname;
const REFERENCE = 'scripts/installers/powershell-reference.ts';
const problems: string[] = [];
const notes: string[] = [];

function defaultFiles(): string[] {
  const dir = join(ROOT, 'agent/install');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(f => /\.(ps1|sh)$/.test(f) || f.endsWith('cloud-config.yml'))
    .map(f => join(dir, f))
    .sort();
}

const lower = (names: Iterable<string>) => new Set([...names].map(n => n.toLowerCase()));
const commonParameters = lower(COMMON_PARAMETERS);
const knownTypes = lower(Object.keys(TYPES));
const cmdletsByLowerName = new Map(Object.keys(CMDLETS).map(name => [name.toLowerCase(), name]));

async function lintPowerShell(file: string, name: string): Promise<void> {
  const script = await readPowerShell(readFileSync(file, 'utf8'));
  const at = (p: { line: number; column: number }) => `${name}:${p.line}:${p.column}`;
  for (const error of script.syntaxErrors)
    problems.push(`${at(error)}: PowerShell syntax error: ${error.message}`);
  const ownFunctions = lower(script.functions);
  for (const command of script.commands) {
    if (ownFunctions.has(command.name.toLowerCase())) continue;
    const cmdlet = cmdletsByLowerName.get(command.name.toLowerCase());
    if (!cmdlet) {
      problems.push(
        `${at(command)}: ${command.name} is not in ${REFERENCE}: check that Windows PowerShell 5.1 and PowerShell 7 both have it, then list it`
      );
      continue;
    }
    const allowed = lower(CMDLETS[cmdlet]!.parameters);
    for (const parameter of command.parameters) {
      const key = parameter.toLowerCase();
      if (!allowed.has(key) && !commonParameters.has(key))
        problems.push(
          `${at(command)}: ${cmdlet} -${parameter} is not in ${REFERENCE}: check it on both versions' pages of ${cmdlet} (and write the full name), then list it`
        );
    }
    if (cmdlet === 'New-Object' && command.firstArgument)
      script.types.push({ ...command, name: command.firstArgument.replace(/\(.*$/s, '') });
  }
  for (const type of script.types)
    if (!knownTypes.has(type.name.toLowerCase()))
      problems.push(
        `${at(type)}: type [${type.name}] is not in ${REFERENCE}: check that .NET Framework 4.x and .NET both have it, then list it`
      );
}

let shellcheck: boolean | undefined;
function haveShellcheck(): boolean {
  if (shellcheck === undefined) {
    shellcheck = !spawnSync('shellcheck', ['--version']).error;
    if (!shellcheck) {
      const message = 'shellcheck is not installed (Debian: apt-get install shellcheck)';
      if (process.env.CI === 'true') problems.push(`${message}; CI must lint the shell scripts`);
      else notes.push(`${message}: the shell scripts were not linted`);
    }
  }
  return shellcheck;
}

function lintShell(name: string, input: { file: string } | { source: string }): void {
  if (!haveShellcheck()) return;
  const args = ['--format=gcc', '--shell=bash'];
  const result =
    'file' in input
      ? spawnSync('shellcheck', [...args, input.file], { encoding: 'utf8' })
      : spawnSync('shellcheck', [...args, '-'], { encoding: 'utf8', input: input.source });
  for (const line of result.stdout.split('\n').filter(Boolean))
    problems.push(line.replace(/^[^:]*:/, `${name}:`).replace(/\s+$/, ''));
  if (result.status !== 0 && !result.stdout.trim())
    problems.push(`${name}: shellcheck failed: ${result.stderr.trim() || `exit ${result.status}`}`);
}

/** cloud-init writes scripts with write_files: each one that starts with a shell shebang. */
function lintCloudConfig(file: string, name: string): void {
  const files = parseDocument(readFileSync(file, 'utf8')).toJS()?.write_files as
    { path?: string; content?: string }[] | undefined;
  for (const [index, entry] of (files ?? []).entries())
    if (/^#!.*\b(ba)?sh\b/.test(entry.content ?? ''))
      lintShell(`${name} write_files[${index}] ${entry.path}`, { source: entry.content! });
}

const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
for (const file of files) {
  const name = relative(process.cwd(), file) || file;
  if (file.endsWith('.ps1')) await lintPowerShell(file, name);
  else if (file.endsWith('.sh')) lintShell(name, { file });
  else if (/\.ya?ml$/.test(file)) lintCloudConfig(file, name);
  else problems.push(`${name}: not an installer this lint knows (.ps1, .sh or a cloud-config .yml)`);
}

for (const note of notes) console.log(`lint:installers: ${note}`);
for (const problem of problems) console.error(problem);
if (problems.length) process.exit(1);
console.log(`lint:installers: ${files.length} file(s) clean`);
