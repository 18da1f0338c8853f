/**
 * The workflow runs API, as far as a job reads it with its GITHUB_TOKEN ("REST API endpoints for
 * workflow runs"): `GET /repos/{o}/{r}/actions/runs`, `…/actions/workflows/{workflow_id}/runs`
 * and `…/actions/runs/{run_id}`. Runs are shaped on GitHub's REST description (@octokit/openapi,
 * `workflow-run`), newest first, paged by `per_page` (≤ 100) and `page` with a Link header.
 *
 * As strict as GitHub: the token needs `actions: read` ("Resource not accessible by integration"
 * otherwise); a GITHUB_TOKEN spends its repository's 1,000 requests an hour; a filtered listing
 * (event, status, created, …) returns at most 1,000 runs.
 */
import { createRequire } from 'node:module';
import { FILTERED_RUNS_MAX } from './actions-limits.js';
import { grantFor, type GitHubOptions } from './github.js';
import { json, bearer, type Request, type Response } from '../http.js';
import type { WorkflowRunEntry } from './runner.js';

const require = createRequire(import.meta.url);
const DOCS = 'https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository';
const LIST = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs$/;
const BY_WORKFLOW = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/runs$/;
const ONE = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)$/;
const FILTERS = ['actor', 'branch', 'check_suite_id', 'created', 'event', 'head_sha', 'status'];
const STATUSES = ['completed', 'in_progress', 'queued', 'pending', 'waiting', 'requested'];

let template: Record<string, unknown> | undefined;
/** GitHub's own example of a workflow run (its REST description), as the shape every run takes. */
function runTemplate(): Record<string, unknown> {
  if (!template) {
    const spec = require('@octokit/openapi/generated/api.github.com.json');
    template = spec.components.examples['workflow-run-paginated'].value.workflow_runs[0];
  }
  return structuredClone(template!);
}

export function handleRuns(req: Request, o: GitHubOptions): Response | undefined {
  const list = LIST.exec(req.path);
  const byWorkflow = BY_WORKFLOW.exec(req.path);
  const one = ONE.exec(req.path);
  const match = list ?? byWorkflow ?? one;
  if (!match || req.method !== 'GET') return undefined;
  const repository = `${match[1]}/${match[2]}`;
  const token = bearer(req);
  const grant = grantFor(token, o);
  if (token && !grant)
    return json(401, {
      message: 'Bad credentials',
      documentation_url: 'https://docs.github.com/rest',
      status: '401'
    });
  const visible =
    grant &&
    repository.toLowerCase() === o.spec.repository.toLowerCase() &&
    grant.repositories.some(r => r.toLowerCase() === repository.toLowerCase());
  // A private repository is "Not Found" to whoever may not see it.
  if (!visible) return json(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  let headers: Record<string, string> = {};
  if (grant.job) {
    const budget = o.state.jobTokenRequests;
    const verdict = budget.take(repository.toLowerCase());
    const limit = o.state.limits.githubTokenRequestsPerHour;
    const used = budget.used(repository.toLowerCase(), 3_600_000);
    const reset = Math.ceil(
      (Date.now() + o.state.real(verdict.ok ? 3_600_000 : verdict.retryAfterMs)) / 1000
    );
    headers = {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - used)),
      'x-ratelimit-used': String(used),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-resource': 'core'
    };
    if (!verdict.ok)
      return json(
        403,
        {
          message: `API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.`,
          documentation_url:
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits',
          status: '403'
        },
        { ...headers, 'x-ratelimit-remaining': '0' }
      );
  }
  // "List workflow runs for a repository": fine-grained tokens and apps need "Actions" (read).
  const level = grant.permissions.actions;
  if (level !== 'read' && level !== 'write')
    return json(
      403,
      { message: 'Resource not accessible by integration', documentation_url: DOCS, status: '403' },
      headers
    );
  const all = o.state.workflowRuns();
  if (one) {
    const entry = all.find(e => e.run.id === Number(one[3]));
    if (!entry) return json(404, { message: 'Not Found', documentation_url: DOCS, status: '404' }, headers);
    return json(200, runJson(entry, repository, req.url.origin), headers);
  }
  let runs = [...all].sort((a, b) => b.run.id - a.run.id);
  if (byWorkflow) {
    const id = decodeURIComponent(byWorkflow[3]!);
    runs = runs.filter(e => e.workflow === id || String(workflowId(e.workflow)) === id);
  }
  const q = req.url.searchParams;
  const problem = filterProblem(q);
  if (problem) return json(422, { message: problem, documentation_url: DOCS, status: '422' }, headers);
  const event = q.get('event');
  if (event) runs = runs.filter(e => e.event === event);
  const status = q.get('status');
  if (status)
    runs = runs.filter(e =>
      STATUSES.includes(status) ? e.run.status === status : e.run.conclusion === status
    );
  const created = q.get('created');
  if (created) {
    const within = createdRange(created);
    runs = runs.filter(e => within(e.run.createdAt));
  }
  if (FILTERS.some(f => q.has(f))) runs = runs.slice(0, FILTERED_RUNS_MAX);
  const perPage = Math.min(100, Math.max(1, Number(q.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(runs.length / perPage));
  const links: string[] = [];
  const pageUrl = (n: number) => {
    const url = new URL(req.url.href);
    url.searchParams.set('page', String(n));
    url.searchParams.set('per_page', String(perPage));
    return url.href;
  };
  if (page < last) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`);
  if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`);
  return json(
    200,
    {
      total_count: runs.length,
      workflow_runs: runs
        .slice((page - 1) * perPage, page * perPage)
        .map(e => runJson(e, repository, req.url.origin))
    },
    { ...headers, ...(links.length ? { link: links.join(', ') } : {}) }
  );
}

function filterProblem(q: URLSearchParams): string | undefined {
  const created = q.get('created');
  if (created !== null) {
    try {
      createdRange(created);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return undefined;
}

/**
 * GitHub's date qualifiers ("Understanding the search syntax"): `>=T`, `>T`, `<=T`, `<T`, `T..T`,
 * `T..*`, `*..T`, or a bare date (that day).
 */
export function createdRange(text: string): (ms: number) => boolean {
  const at = (s: string) => {
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) throw new Error(`created: "${text}" is not a date, a date-time or a range of them`);
    return ms;
  };
  const range = /^(.+)\.\.(.+)$/.exec(text);
  if (range) {
    const from = range[1] === '*' ? -Infinity : at(range[1]!);
    const to = range[2] === '*' ? Infinity : at(range[2]!);
    return ms => ms >= from && ms <= to;
  }
  const op = /^(>=|<=|>|<)(.+)$/.exec(text);
  if (op) {
    const t = at(op[2]!);
    return {
      '>=': (ms: number) => ms >= t,
      '<=': (ms: number) => ms <= t,
      '>': (ms: number) => ms > t,
      '<': (ms: number) => ms < t
    }[op[1] as '>=' | '<=' | '>' | '<'];
  }
  const day = at(text);
  return /T/.test(text) ? ms => ms === day : ms => ms >= day && ms < day + 86_400_000;
}

function workflowId(file: string): number {
  let h = 7;
  for (const c of file) h = (h * 31 + c.charCodeAt(0)) % 1_000_000_007;
  return h;
}

const iso = (ms: number | undefined) =>
  ms === undefined ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One run in GitHub's shape (`workflow-run`): the example's fields, with this run's values. */
export function runJson(
  entry: WorkflowRunEntry,
  repository: string,
  origin: string
): Record<string, unknown> {
  const run = runTemplate();
  const { run: r } = entry;
  const api = `${origin}/repos/${repository}`;
  const html = `https://github.com/${repository}`;
  const [owner, name] = repository.split('/');
  const repo = run.repository as Record<string, unknown> & { owner: Record<string, unknown> };
  repo.name = name;
  repo.full_name = repository;
  repo.owner.login = owner;
  repo.private = true;
  run.head_repository = structuredClone(repo);
  Object.assign(run, {
    id: r.id,
    name: entry.name,
    node_id: Buffer.from(`WorkflowRun${r.id}`).toString('base64'),
    check_suite_id: r.id,
    head_branch: 'main',
    path: `.github/workflows/${entry.workflow}@refs/heads/main`,
    run_number: entry.runNumber,
    run_attempt: 1,
    event: entry.event,
    display_title: entry.displayTitle,
    status: r.status,
    conclusion: r.conclusion ?? null,
    workflow_id: workflowId(entry.workflow),
    url: `${api}/actions/runs/${r.id}`,
    html_url: `${html}/actions/runs/${r.id}`,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
    run_started_at: iso(r.runStartedAt ?? r.createdAt),
    jobs_url: `${api}/actions/runs/${r.id}/jobs`,
    logs_url: `${api}/actions/runs/${r.id}/logs`,
    check_suite_url: `${api}/check-suites/${r.id}`,
    artifacts_url: `${api}/actions/runs/${r.id}/artifacts`,
    cancel_url: `${api}/actions/runs/${r.id}/cancel`,
    rerun_url: `${api}/actions/runs/${r.id}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${api}/actions/workflows/${workflowId(entry.workflow)}`
  });
  return run;
}
