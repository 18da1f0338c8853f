/**
 * Where the demo keeps the job summaries of its runs once it has cleaned up: one directory, emptied
 * at the start of each demo, with each summary as markdown (what the step wrote) and as a web page
 * rendered as GitHub renders it (test/render/summary-page.ts; open it in a browser).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { summaryPage } from '../../render/summary-page.js';
import type { RunRecord } from '../github/runner.js';

export const DEFAULT_SUMMARIES_DIR = () => join(tmpdir(), 'azure-spot-restarter-demo');

export interface SavedSummary {
  act: number;
  run: number;
  workflow: string;
  event: string;
  markdown: string;
  html: string;
}

export class DemoSummaries {
  readonly saved: SavedSummary[] = [];
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  /** Keeps a run's summary; returns where the markdown is. */
  save(act: number, run: RunRecord): SavedSummary {
    const stem = `act${act}-run${run.id}-${run.workflow.replace(/\.ya?ml$/, '')}`;
    const saved: SavedSummary = {
      act,
      run: run.id,
      workflow: run.workflow,
      event: run.event,
      markdown: join(this.dir, `${stem}.md`),
      html: join(this.dir, `${stem}.html`)
    };
    writeFileSync(saved.markdown, run.summary);
    writeFileSync(
      saved.html,
      summaryPage(run.summary, { mermaid: 'link', title: `Act ${act}, run #${run.id}: ${run.workflow}` })
    );
    this.saved.push(saved);
    return saved;
  }
}
