/** What every job summary must be to a person who opens it, as render-summary.ts measures it. */
import { expect } from '@jest/globals';
import type { SummaryRender } from './render-summary.js';

/**
 * Where the render tests put their screenshots: `.tmp/screenshots/` (ignored by git) for a plain
 * test run, so a run leaves the tree clean; `docs/screenshots/`, which the README shows, with
 * `npm run screenshots`.
 */
export const SCREENSHOTS = new URL(
  process.env.UPDATE_SCREENSHOTS ? '../../docs/screenshots/' : '../../.tmp/screenshots/',
  import.meta.url
).pathname;

export function expectReadable(render: SummaryRender): void {
  // Every Mermaid diagram parses: GitHub would show an error box instead.
  expect(render.mermaid.filter(m => !m.ok)).toEqual([]);
  // No table hides columns past the page's edge, every <details> opened.
  expect(render.wideTables).toEqual([]);
  expect(render.pageWidth).toBeLessThanOrEqual(render.width);
  // The first screen holds the counts and every problem group.
  expect(render.counts).toBeDefined();
  expect(render.belowFirstScreen).toEqual([]);
}
