/**
 * GitHub's published limits where a wave of evictions meets them, as the emulated GitHub enforces
 * them by default. Each number is GitHub's; the conformance suite (test/conformance/runner-limits
 * and github-limits) quotes the page it comes from.
 */

/**
 * "Rate limits for the REST API", About secondary rate limits: "no more than 80
 * content-generating requests per minute and no more than 500 content-generating requests per
 * hour" — per user or app, shared by every request it makes.
 */
export const CONTENT_REQUESTS_PER_MINUTE = 80;
export const CONTENT_REQUESTS_PER_HOUR = 500;

/**
 * "Limits in GitHub Actions", Job concurrency limits for GitHub-hosted runners: 20 concurrent
 * standard jobs on Free (40 Pro, 60 Team, 500 Enterprise), shared by every repository of the account.
 */
export const CONCURRENT_JOBS_FREE = 20;

/**
 * "Limits in GitHub Actions": "Workflow run queued — 500 workflow runs / 10 seconds. When the limit
 * is reached, the workflow runs that were supposed to be triggered by the webhook events will be
 * blocked and will not be queued", and "Workflow trigger event rate limit — 1500 events / 10
 * seconds / repository".
 */
export const RUNS_QUEUED_PER_10_S = 500;
export const TRIGGER_EVENTS_PER_10_S = 1500;

/**
 * "Control the concurrency of workflows and jobs": `queue: single` (the default) keeps at most one
 * pending run, and a newly queued run cancels it; `queue: max` keeps up to 100 pending runs and
 * cancels any beyond; `queue: max` with `cancel-in-progress: true` is a validation error.
 */
export const CONCURRENCY_QUEUE_MAX = 100;

/**
 * "Limits in GitHub Actions": "Job execution time — 6 hours" on GitHub-hosted runners; the
 * default `timeout-minutes` ("Workflow syntax for GitHub Actions": 360).
 */
export const JOB_TIMEOUT_MINUTES_DEFAULT = 360;

/**
 * "Canceling a workflow": the runner sends SIGINT to a step's process, SIGTERM if it has not
 * exited 7500 ms later, and kills the process tree 2500 ms after that.
 */
export const CANCEL_SIGINT_GRACE_MS = 7500;
export const CANCEL_SIGTERM_GRACE_MS = 2500;

/**
 * "Rate limits for the REST API", Primary rate limit for GITHUB_TOKEN in GitHub Actions: "1,000
 * requests per hour per repository" (15,000 for GitHub Enterprise Cloud resources).
 */
export const GITHUB_TOKEN_REQUESTS_PER_HOUR = 1000;

/**
 * "List workflow runs for a repository": with `actor`, `branch`, `check_suite_id`, `created`,
 * `event`, `head_sha` or `status`, the endpoint "will return up to 1,000 results for each search".
 */
export const FILTERED_RUNS_MAX = 1000;

/** "Actions runner pricing": "GitHub rounds the minutes and partial minutes each job uses up to the nearest whole minute." */
export function billedMinutes(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs / 60_000));
}

/** The emulated GitHub's Actions and API limits: GitHub's numbers unless a scenario sets others. */
export interface GitHubLimits {
  /** Secondary rate limit on content-creating requests (POST, PATCH, PUT, DELETE) per identity. */
  contentPerMinute: number;
  contentPerHour: number;
  /**
   * How GitHub answers a request over a secondary limit: 403 or 429 ("you will receive a 403 or
   * 429 response"), with `retry-after` or without it (then clients must wait at least a minute).
   */
  secondaryStatus: 403 | 429;
  secondaryRetryAfter: boolean;
  /** Concurrent jobs of the account (the plan's cap). */
  concurrentJobs: number;
  /**
   * Emulated seconds from a job getting its slot to its first step: the runner is provisioned.
   * GitHub publishes no figure; hosted jobs commonly wait seconds to tens of seconds.
   */
  runnerStartLatencyS: number;
  runsQueuedPer10S: number;
  triggerEventsPer10S: number;
  githubTokenRequestsPerHour: number;
}

export const GITHUB_LIMITS: GitHubLimits = {
  contentPerMinute: CONTENT_REQUESTS_PER_MINUTE,
  contentPerHour: CONTENT_REQUESTS_PER_HOUR,
  secondaryStatus: 403,
  secondaryRetryAfter: true,
  concurrentJobs: CONCURRENT_JOBS_FREE,
  runnerStartLatencyS: 10,
  runsQueuedPer10S: RUNS_QUEUED_PER_10_S,
  triggerEventsPer10S: TRIGGER_EVENTS_PER_10_S,
  githubTokenRequestsPerHour: GITHUB_TOKEN_REQUESTS_PER_HOUR
};
