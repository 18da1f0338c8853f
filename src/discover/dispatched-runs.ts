/**
 * The agents' reports of a wave, as GitHub keeps them. Each accepted repository_dispatch becomes a
 * workflow run — or a run GitHub cancelled as pending, when the workflow's concurrency group was
 * busy — and the workflow's `run-name` writes the payload's VM and `detectedAt` into the run's
 * name. Listing the repository's recent repository_dispatch runs (`GET /repos/{o}/{r}/actions/runs`,
 * `actions: read`) gives one run every report of the wave, whichever run GitHub kept.
 *
 * A run name is a hint like the payload it came from: whoever may dispatch may write one. Every VM
 * read here is re-read from Azure and judged like a dispatched one before anything is started.
 */
import type { getOctokit } from '@actions/github';
import { MAX_RESOURCE_ID_LENGTH, VM_RESOURCE_ID_PATTERN } from '../azure/resource-id.js';

/** One agent's report, read from a run's name. */
export interface DispatchedRun {
  vmResourceId: string;
  detectedAt: string;
  runId: number;
  /** `cancelled` when GitHub dropped the run as pending in its concurrency group. */
  conclusion: string | null;
}

export interface DispatchFeed {
  /** Reports not seen by an earlier poll, oldest first; [] once the runs cannot be read. */
  poll(): Promise<DispatchedRun[]>;
  /** What went wrong with reading the runs, to say once in the log and the summary. */
  readonly problem?: string;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Runs created this long before the newest one seen are listed again: GitHub's clock is per second, and a run can show up late. */
const OVERLAP_MS = 60_000;

/**
 * `<vmResourceId> <detectedAt>`, as the example workflows' `run-name` writes it; anything else
 * (another workflow's run, a name cut short) is not a report.
 */
export function parseRunName(
  name: string | null | undefined
): Pick<DispatchedRun, 'vmResourceId' | 'detectedAt'> | undefined {
  const parts = (name ?? '').trim().split(/\s+/);
  if (parts.length !== 2) return undefined;
  const [vmResourceId, detectedAt] = parts as [string, string];
  if (vmResourceId.length > MAX_RESOURCE_ID_LENGTH || !VM_RESOURCE_ID_PATTERN.test(vmResourceId))
    return undefined;
  if (!ISO_8601.test(detectedAt) || Number.isNaN(Date.parse(detectedAt))) return undefined;
  return { vmResourceId, detectedAt };
}

type Octokit = ReturnType<typeof getOctokit>;

export interface FeedOptions {
  token: string;
  /** `owner/name` (GITHUB_REPOSITORY). */
  repository: string;
  /** How far back a run counts as part of the wave. */
  windowMs: number;
  now: () => number;
  /** GitHub's API client; by default @actions/github's for GITHUB_API_URL, loaded on the first poll only. */
  octokit?: () => Octokit | Promise<Octokit>;
  warn?: (message: string) => void;
}

export function dispatchFeed(o: FeedOptions): DispatchFeed {
  const [owner, repo] = o.repository.split('/') as [string, string];
  const seen = new Set<number>();
  let client: Octokit | undefined;
  let newest: number | undefined;
  let problem: string | undefined;
  const feed: DispatchFeed = {
    get problem() {
      return problem;
    },
    async poll() {
      if (problem) return [];
      // Loaded when first needed: a run that never reads its runs does not pay for Octokit at start.
      client ??= o.octokit ? await o.octokit() : (await import('@actions/github')).getOctokit(o.token);
      const since = Math.max(o.now() - o.windowMs, (newest ?? -Infinity) - OVERLAP_MS);
      const found: DispatchedRun[] = [];
      try {
        const pages = client.paginate.iterator('GET /repos/{owner}/{repo}/actions/runs', {
          owner,
          repo,
          event: 'repository_dispatch',
          created: `>=${new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
          per_page: 100
        });
        for await (const page of pages) {
          for (const run of page.data) {
            if (seen.has(run.id)) continue;
            seen.add(run.id);
            newest = Math.max(newest ?? 0, Date.parse(run.created_at));
            const report = parseRunName(run.display_title);
            if (report) found.push({ ...report, runId: run.id, conclusion: run.conclusion ?? null });
          }
        }
      } catch (error) {
        const status = (error as { status?: number }).status;
        const message = error instanceof Error ? error.message : String(error);
        const rateLimited =
          status === 429 ||
          (status === 403 &&
            (error as { response?: { headers?: Record<string, string> } }).response?.headers?.[
              'x-ratelimit-remaining'
            ] === '0');
        if (rateLimited) {
          o.warn?.(
            `Reading this repository's dispatch runs was rate limited (${status}); trying again later.`
          );
          return found;
        }
        problem =
          status === 403 || status === 404
            ? `cannot read this repository's workflow runs (${status} ${message}): give the job \`permissions: actions: read\` and pass its token as github-token`
            : `reading this repository's workflow runs failed: ${message}`;
        o.warn?.(`Only this run's own dispatch and the sweep count: ${problem}.`);
        return found;
      }
      return found.sort((a, b) => a.runId - b.runId);
    }
  };
  return feed;
}
