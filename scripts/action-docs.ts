/**
 * The README's inputs and outputs tables, generated from action.yml so they cannot drift.
 * `npm run docs` rewrites the README; a test fails when it is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const START = '<!-- action-docs:start (generated from action.yml by `npm run docs`) -->';
const END = '<!-- action-docs:end -->';

interface ActionYml {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderActionDocs(actionYml: string): string {
  const action = parse(actionYml) as ActionYml;
  const inputs = Object.entries(action.inputs).map(
    ([name, i]) =>
      `| \`${name}\` | ${cell(i.description)} | ${i.default !== undefined ? `\`${i.default}\`` : ''} |`
  );
  const outputs = Object.entries(action.outputs).map(
    ([name, o]) => `| \`${name}\` | ${cell(o.description)} |`
  );
  return [
    START,
    '',
    '### Inputs',
    '',
    '| Input | Description | Default |',
    '| --- | --- | --- |',
    ...inputs,
    '',
    '### Outputs',
    '',
    '| Output | Description |',
    '| --- | --- |',
    ...outputs,
    '',
    END
  ].join('\n');
}

export function updateReadme(readme: string, actionYml: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0) throw new Error('README.md has no action-docs markers');
  return readme.slice(0, start) + renderActionDocs(actionYml) + readme.slice(end + END.length);
}

if (process.argv[1]?.endsWith('action-docs.ts')) {
  writeFileSync(
    'README.md',
    updateReadme(readFileSync('README.md', 'utf8'), readFileSync('action.yml', 'utf8'))
  );
}
