/**
 * A job summary as a web page, rendered the way GitHub renders one: GitHub-flavoured markdown
 * (tables, strikethrough, autolinks, raw HTML such as `<details>`) in a `.markdown-body` box with
 * GitHub's own markdown stylesheet, and each ```mermaid block drawn by Mermaid, as GitHub draws
 * them. The page needs no network: the stylesheet is inlined and Mermaid is loaded from
 * node_modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Marked } from 'marked';

const require = createRequire(import.meta.url);

/** Where Mermaid's browser bundle is, for a page that loads it with a <script> tag. */
export const MERMAID_SCRIPT = require.resolve('mermaid/dist/mermaid.min.js');
const MARKDOWN_CSS = require.resolve('github-markdown-css/github-markdown-light.css');

/**
 * GitHub's summary card: the markdown box has 16 px of padding on each side and no width of its
 * own, so it is as wide as the window allows.
 */
const PAGE_CSS = `
  body { margin: 0; background: #ffffff; }
  .markdown-body { box-sizing: border-box; padding: 16px; min-width: 200px; }
  .markdown-body .mermaid-diagram { margin-bottom: 16px; }
`;

/** The summary's markdown as HTML (GFM, as GitHub's renderer reads it; ```mermaid kept as code). */
export function summaryHtml(markdown: string): string {
  const marked = new Marked({ gfm: true, breaks: false });
  return marked.parse(markdown, { async: false });
}

export interface PageOptions {
  /** How the page loads Mermaid: inlined (self-contained) or a file:// script tag (small). */
  mermaid?: 'inline' | 'link';
  title?: string;
}

/**
 * The whole page. Its script draws every ```mermaid block and records each outcome in
 * `window.__mermaid` ({ ok, error }), then sets `window.__rendered = true`.
 */
export function summaryPage(markdown: string, options: PageOptions = {}): string {
  const css = readFileSync(MARKDOWN_CSS, 'utf8');
  const mermaidTag =
    options.mermaid === 'link'
      ? `<script src="${pathToFileURL(MERMAID_SCRIPT).href}"></script>`
      : `<script>${readFileSync(MERMAID_SCRIPT, 'utf8').replace(/<\/script/gi, '<\\/script')}</script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title ?? 'Job summary')}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<article class="markdown-body" id="summary">
${summaryHtml(markdown)}
</article>
${mermaidTag}
<script>${DRAW_MERMAID}</script>
<script>${MEASURE}</script>
</body>
</html>
`;
}

/**
 * Runs in the page. mermaid.parse() throws on a diagram GitHub would show as an error; a diagram
 * that parses is drawn in place of its code block.
 */
const DRAW_MERMAID = `
(async () => {
  const results = [];
  window.__mermaid = results;
  try {
    if (typeof mermaid === 'undefined') throw new Error('Mermaid did not load');
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
    const blocks = [...document.querySelectorAll('pre > code.language-mermaid')];
    for (const [i, code] of blocks.entries()) {
      const text = code.textContent;
      try {
        await mermaid.parse(text);
        const { svg } = await mermaid.render('mermaid-' + i, text);
        const box = document.createElement('div');
        box.className = 'mermaid-diagram';
        box.innerHTML = svg;
        code.parentElement.replaceWith(box);
        const error = box.querySelector('[aria-roledescription="error"]');
        results.push(error ? { ok: false, error: 'Mermaid drew its error diagram', source: text } : { ok: true, source: text });
      } catch (e) {
        results.push({ ok: false, error: String(e && e.message || e), source: text });
      }
    }
  } catch (e) {
    results.push({ ok: false, error: String(e && e.message || e), source: '' });
  }
  window.__rendered = true;
})();
`;

/**
 * Runs in the page, called by render-summary.ts (page code is plain text so that no bundler's
 * helpers leak into it). `__measureFirstScreen` reads the page as GitHub shows it; then
 * `__measureUnfolded` opens every <details> and measures every table.
 */
const MEASURE = `
window.__measureFirstScreen = () => {
  const article = document.getElementById('summary');
  const place = el => ({
    text: (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 160),
    bottom: Math.round(el.getBoundingClientRect().bottom + window.scrollY)
  });
  const counts = article.querySelector('strong');
  // The section under a "Needs attention" heading, up to the next heading of its level or above:
  // its sub-headings, or else the rows of its first table, are the problem groups.
  const groups = [];
  const heading = [...article.querySelectorAll('h1, h2, h3, h4')].find(h => /needs attention/i.test(h.textContent || ''));
  if (heading) {
    const level = Number(heading.tagName[1]);
    let tableSeen = false;
    for (let el = heading.nextElementSibling; el; el = el.nextElementSibling) {
      const m = /^H([1-6])$/.exec(el.tagName);
      if (m && Number(m[1]) <= level) break;
      if (m) groups.push(el);
      else if (el.tagName === 'TABLE' && !tableSeen && !groups.length) {
        tableSeen = true;
        groups.push(...el.querySelectorAll('tbody > tr'));
      }
    }
  }
  return {
    counts: counts ? place(counts) : undefined,
    problemGroups: groups.map(place),
    headings: [...article.querySelectorAll('h1, h2, h3, h4')].map(h => (h.textContent || '').trim())
  };
};
window.__measureUnfolded = () => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const article = document.getElementById('summary');
  const marks = [...article.querySelectorAll('h1, h2, h3, h4, h5, h6, summary')];
  const under = el => {
    let text = '';
    for (const h of marks) if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) text = (h.textContent || '').trim();
    return text.slice(0, 120);
  };
  return {
    tables: [...article.querySelectorAll('table')].map(t => ({
      under: under(t),
      contentWidth: t.scrollWidth,
      visibleWidth: t.clientWidth,
      rows: t.querySelectorAll('tr').length
    })),
    pageWidth: document.documentElement.scrollWidth,
    pageHeight: document.documentElement.scrollHeight
  };
};
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, c => `&#${c.charCodeAt(0)};`);
}
