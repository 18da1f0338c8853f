/**
 * Generated parts of the docs, so they cannot drift: the action's inputs and outputs tables in
 * README.md (from action.yml) and the agent's options table in agent/README.md (from its option
 * table). `npm run docs` rewrites both; a test fails when either is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { OPTIONS } from '../agent/src/config.js';

interface ActionYml {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderActionDocs(actionYml: string): string {
  const action = parse(actionYml) as ActionYml;
  return [
    '### Inputs',
    '',
    '| Input | Description | Default |',
    '| --- | --- | --- |',
    ...Object.entries(action.inputs).map(
      ([name, i]) =>
        `| \`${name}\` | ${cell(i.description)} | ${i.default !== undefined ? `\`${i.default}\`` : ''} |`
    ),
    '',
    '### Outputs',
    '',
    '| Output | Description |',
    '| --- | --- |',
    ...Object.entries(action.outputs).map(([name, o]) => `| \`${name}\` | ${cell(o.description)} |`)
  ].join('\n');
}

export function renderAgentOptions(): string {
  return [
    '| Flag | Environment variable | Default | Meaning |',
    '| --- | --- | --- | --- |',
    ...OPTIONS.map(
      o =>
        `| \`${o.flag}\` | ${o.env ? `\`${o.env}\`` : ''} | ${o.default !== undefined ? `\`${o.default}\`` : ''} | ${cell(o.help)} |`
    )
  ].join('\n');
}

/** Replaces what stands between `<!-- NAME:start … -->` and `<!-- NAME:end -->`. */
export function updateBlock(text: string, name: string, content: string): string {
  const start = new RegExp(`<!-- ${name}:start[^>]*-->`).exec(text);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  if (!start || end < 0) throw new Error(`no ${name} markers`);
  return `${text.slice(0, start.index + start[0].length)}\n\n${content}\n\n${text.slice(end)}`;
}

export function regenerate(files: { readme: string; actionYml: string; agentReadme: string }) {
  return {
    readme: updateBlock(files.readme, 'action-docs', renderActionDocs(files.actionYml)),
    agentReadme: updateBlock(files.agentReadme, 'agent-options', renderAgentOptions())
  };
}

if (process.argv[1]?.endsWith('docs.ts')) {
  const out = regenerate({
    readme: readFileSync('README.md', 'utf8'),
    actionYml: readFileSync('action.yml', 'utf8'),
    agentReadme: readFileSync('agent/README.md', 'utf8')
  });
  writeFileSync('README.md', out.readme);
  writeFileSync('agent/README.md', out.agentReadme);
}
