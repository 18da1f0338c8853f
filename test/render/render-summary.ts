/**
 * A job summary as a person sees it: rendered by summary-page.ts in Debian's headless Chromium at
 * a given window size, measured, and photographed. Works for any markdown file.
 *
 * What it measures, because it is what a reader meets first:
 * - every Mermaid diagram parses (GitHub shows an error box for one that does not);
 * - no table is wider than the page (GitHub's stylesheet gives a wide table a scroll bar, so the
 *   columns past the edge are out of sight), with every <details> opened;
 * - what the first screen holds: the counts (the first bold line) and each problem group (the
 *   rows of the table under the "Needs attention" heading, or its sub-headings).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { summaryPage } from './summary-page.js';

/** Where Chromium may be: $CHROMIUM_PATH, then Debian's package, then the names other systems use. */
export function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable'
  ];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

export const CHROMIUM_MISSING =
  'Chromium is not installed (looked at $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome): ' +
  'the job-summary render tests are skipped. Install it with `apt-get install -y --no-install-recommends chromium` (.ci/run does).';

/** The flags of a throw-away browser that talks to nobody. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
];

export interface RenderOptions {
  /** The window: GitHub's run page at 1000 px, and how much of it is the first screen. */
  width?: number;
  height?: number;
  /** Save the first screen (details closed, as GitHub shows the summary) as a PNG here. */
  screenshot?: string;
  /** Save the whole page, every <details> opened, as a PNG here. */
  fullPageScreenshot?: string;
  title?: string;
}

export interface TableMeasure {
  /** The heading the table sits under, to name it in a failure. */
  under: string;
  /** How wide its content is, and how wide the page lets it be. */
  contentWidth: number;
  visibleWidth: number;
  rows: number;
}

export interface PlacedText {
  text: string;
  /** Pixels from the top of the page to the element's bottom edge. */
  bottom: number;
}

export interface SummaryRender {
  width: number;
  height: number;
  /** The page's own width: more than `width` means a horizontal scroll bar on the page. */
  pageWidth: number;
  pageHeight: number;
  mermaid: { ok: boolean; error?: string; source: string }[];
  tables: TableMeasure[];
  /** Tables whose content is wider than the space they have. */
  wideTables: TableMeasure[];
  counts?: PlacedText;
  /** Each problem group, where it is on the page (details closed). */
  problemGroups: PlacedText[];
  /** Problem groups (and the counts) that are below the first screen. */
  belowFirstScreen: PlacedText[];
  headings: string[];
}

export class SummaryRenderer {
  private constructor(
    private readonly context: BrowserContext,
    private readonly profile: string
  ) {}

  /** Starts Chromium with a fresh profile; throws when it is missing (see findChromium). */
  static async open(executablePath = findChromium()): Promise<SummaryRenderer> {
    if (!executablePath) throw new Error(CHROMIUM_MISSING);
    const profile = mkdtempSync(join(tmpdir(), 'summary-render-'));
    try {
      const context = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        args: CHROMIUM_FLAGS,
        offline: true,
        viewport: { width: 1000, height: 800 }
      });
      // Nothing leaves the machine: the page is self-contained, so any request is refused.
      await context.route(/^(?!data:|about:)/, route => route.abort());
      return new SummaryRenderer(context, profile);
    } catch (error) {
      rmSync(profile, { recursive: true, force: true });
      throw error;
    }
  }

  async render(markdown: string, options: RenderOptions = {}): Promise<SummaryRender> {
    const width = options.width ?? 1000;
    const height = options.height ?? 800;
    const page = await this.context.newPage();
    try {
      await page.setViewportSize({ width, height });
      await page.setContent(summaryPage(markdown, { mermaid: 'inline', title: options.title }), {
        waitUntil: 'load'
      });
      await page.waitForFunction('window.__rendered === true', null, { timeout: 30_000 });
      // The first screen, as GitHub shows it: every <details> closed.
      const first = (await page.evaluate('window.__measureFirstScreen()')) as {
        counts?: PlacedText;
        problemGroups: PlacedText[];
        headings: string[];
      };
      if (options.screenshot) {
        mkdirSync(dirname(options.screenshot), { recursive: true });
        await page.screenshot({ path: options.screenshot });
      }
      // Everything a person can unfold, unfolded: then measure every table and the page.
      const opened = (await page.evaluate('window.__measureUnfolded()')) as {
        tables: TableMeasure[];
        pageWidth: number;
        pageHeight: number;
      };
      if (options.fullPageScreenshot) {
        mkdirSync(dirname(options.fullPageScreenshot), { recursive: true });
        await page.screenshot({ path: options.fullPageScreenshot, fullPage: true });
      }
      const mermaid = (await page.evaluate('window.__mermaid')) as SummaryRender['mermaid'];
      const wideTables = opened.tables.filter(t => t.contentWidth > t.visibleWidth + 1);
      const placed = [...(first.counts ? [first.counts] : []), ...first.problemGroups];
      return {
        width,
        height,
        pageWidth: opened.pageWidth,
        pageHeight: opened.pageHeight,
        mermaid,
        tables: opened.tables,
        wideTables,
        counts: first.counts,
        problemGroups: first.problemGroups,
        belowFirstScreen: placed.filter(p => p.bottom > height),
        headings: first.headings
      };
    } finally {
      await page.close();
    }
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** Renders one markdown text with a browser of its own. */
export async function renderSummary(markdown: string, options: RenderOptions = {}): Promise<SummaryRender> {
  const renderer = await SummaryRenderer.open();
  try {
    return await renderer.render(markdown, options);
  } finally {
    await renderer.close();
  }
}
