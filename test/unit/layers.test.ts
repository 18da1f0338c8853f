/**
 * The layer check of `npm run lint` (.dependency-cruiser.cjs) fails on what it is there to stop:
 * an import cycle and an import that points up across the phase folders. Run over a small tree
 * of its own, with the project's rules, as `npm run lint:layers` runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';

const root = process.cwd();
const work = mkdtempSync(join(tmpdir(), 'layers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cruise(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(work, 'tree-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const run = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs'),
      'src',
      '--config',
      join(root, '.dependency-cruiser.cjs')
    ],
    { cwd: dir, encoding: 'utf8' }
  );
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('the layer check', () => {
  test('passes imports that point down, and the shared vocabulary', () => {
    const { status, out } = cruise({
      'src/act/start.ts': "import { judge } from '../judge/rule.js';\nexport const start = judge;\n",
      'src/judge/rule.ts':
        "import type { Outcome } from '../report/outcomes.js';\nimport { read } from '../discover/read.js';\nexport const judge = (): Outcome => read();\n",
      'src/discover/read.ts': "import { id } from '../azure/id.js';\nexport const read = () => id;\n",
      'src/azure/id.ts': "export const id = 'started' as const;\n",
      'src/report/outcomes.ts': "export type Outcome = 'started';\n"
    });
    expect(out).toContain('no dependency violations');
    expect(status).toBe(0);
  });

  test('fails on a cycle, naming its modules', () => {
    const { status, out } = cruise({
      'src/act/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/act/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n"
    });
    expect(status).not.toBe(0);
    expect(out).toMatch(/no-circular: src\/act\/(a|b)\.ts/);
  });

  test('fails on an import up across the phase folders', () => {
    const { status, out } = cruise({
      'src/azure/errors.ts':
        "import type { Outcome } from '../report/outcomes.js';\nexport const o: Outcome | undefined = undefined;\n",
      'src/discover/rows.ts': "import { judge } from '../judge/rule.js';\nexport const rows = judge;\n",
      'src/judge/rule.ts': 'export const judge = 1;\n',
      'src/report/outcomes.ts': "export type Outcome = 'started';\n"
    });
    expect(status).not.toBe(0);
    expect(out).toContain('no-upward-from-discover: src/discover/rows.ts → src/judge/rule.ts');
    expect(out).toContain('azure-knows-no-outcomes: src/azure/errors.ts → src/report/outcomes.ts');
  });
});
