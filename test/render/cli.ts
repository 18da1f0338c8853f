/**
 * `npm run render-summary -- <summary.md> [--png first-screen.png] [--full-png page.png]
 * [--html page.html] [--width 1000] [--height 800]`: any job summary as GitHub would show it.
 * Prints what render-summary.ts measures as JSON and exits 1 when a Mermaid diagram does not
 * parse, a table is wider than the page, or the counts or a problem group is below the first
 * screen. `--html` alone needs no browser.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderSummary } from './render-summary.js';
import { summaryPage } from './summary-page.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    png: { type: 'string' },
    'full-png': { type: 'string' },
    html: { type: 'string' },
    width: { type: 'string', default: '1000' },
    height: { type: 'string', default: '800' },
    help: { type: 'boolean', default: false }
  }
});
const file = positionals[0];
if (values.help || !file || positionals.length > 1) {
  console.log(
    'Usage: npm run render-summary -- <summary.md> [--png first-screen.png] [--full-png page.png] [--html page.html] [--width 1000] [--height 800]'
  );
  process.exit(values.help ? 0 : 2);
}
const markdown = readFileSync(file, 'utf8');
if (values.html) {
  writeFileSync(values.html, summaryPage(markdown, { mermaid: 'link', title: file }));
  console.error(`Wrote ${values.html}`);
  if (!values.png && !values['full-png']) process.exit(0);
}
const render = await renderSummary(markdown, {
  width: positiveInt('width'),
  height: positiveInt('height'),
  screenshot: values.png,
  fullPageScreenshot: values['full-png'],
  title: file
});
console.log(JSON.stringify(render, null, 2));
const ok =
  render.mermaid.every(m => m.ok) && render.wideTables.length === 0 && render.belowFirstScreen.length === 0;
process.exitCode = ok ? 0 : 1;

function positiveInt(name: 'width' | 'height'): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a whole number of pixels above 0, not "${values[name]}"`);
    process.exit(2);
  }
  return n;
}
