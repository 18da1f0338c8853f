/**
 * GitHub, the parts we touch: the runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) and
 * `POST /repos/{owner}/{repo}/dispatches`, validated like GitHub does — a token that may write to
 * the repository, and a body that satisfies the operation's schema in GitHub's REST description
 * (@octokit/openapi: event_type 1–100 characters, client_payload at most 10 top-level properties)
 * plus the documented size limit (client_payload under 64 KB). 204, 401, 404 or 422 — or 403 (429)
 * past GitHub's secondary rate limit on content-creating requests (80 a minute, 500 an hour, per
 * identity). And the runs API a job's GITHUB_TOKEN reads (runs-api.ts).
 */
import { createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { GitHubLimits } from './actions-limits.js';
import type { GitHubSpec } from '../fleets/fleet.js';
import { empty, json, bearer, type Request, type Response } from '../http.js';
import type { JobTokenGrant, WorkflowRunEntry } from './runner.js';
import { handleRuns } from './runs-api.js';
import { SlidingWindows } from './sliding-window.js';
import { GITHUB_ISSUER, sign, type KeyPair } from '../tokens.js';

const require = createRequire(import.meta.url);
const DOCS = 'https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event';

let dispatchSchema: object | undefined;
/** The request body schema of `repos/create-dispatch-event`, read once from GitHub's REST description. */
export function dispatchBodySchema(): object {
  if (!dispatchSchema) {
    const spec = require('@octokit/openapi/generated/api.github.com.json');
    dispatchSchema =
      spec.paths['/repos/{owner}/{repo}/dispatches'].post.requestBody.content['application/json'].schema;
  }
  return dispatchSchema!;
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validateBody(body: unknown) {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(dispatchBodySchema());
  return { valid: validator(body) as boolean, errors: validator.errors ?? [] };
}

export interface Dispatch {
  repository: string;
  eventType: string;
  clientPayload: Record<string, unknown>;
  /** Real and emulated moments GitHub accepted it. */
  receivedAt: number;
  emulatedAt: number;
}

export interface RunIdentity {
  subject: string;
  repository: string;
  ref: string;
  eventName: string;
  workflow: string;
  runId: number;
}

/**
 * What GitHub remembers between requests: who created how much content lately, each repository's
 * GITHUB_TOKEN budget, the tokens of running jobs, and the workflow runs.
 */
export class GitHubState {
  /** Content-creating requests per identity over the last minute and hour (secondary limits). */
  readonly content: SlidingWindows;
  /** GITHUB_TOKEN requests per repository over the last hour (primary limit). */
  readonly jobTokenRequests: SlidingWindows;
  readonly jobTokens = new Map<string, JobTokenGrant>();
  /** Requests refused by a secondary limit, by status. */
  readonly secondaryRefusals: Record<string, number> = {};

  constructor(
    readonly limits: GitHubLimits,
    readonly now: () => number,
    /** Real milliseconds an emulated duration takes (Retry-After is read on the real clock). */
    readonly real: (emulatedMs: number) => number,
    readonly workflowRuns: () => WorkflowRunEntry[]
  ) {
    this.content = new SlidingWindows(
      [
        { max: limits.contentPerMinute, windowMs: 60_000 },
        { max: limits.contentPerHour, windowMs: 3_600_000 }
      ],
      now
    );
    this.jobTokenRequests = new SlidingWindows(
      [{ max: limits.githubTokenRequestsPerHour, windowMs: 3_600_000 }],
      now
    );
  }
}

export interface GitHubOptions {
  spec: GitHubSpec;
  githubKey: KeyPair;
  state: GitHubState;
  /** Request tokens of running jobs → who they are (the OIDC token's claims). */
  runs: Map<string, RunIdentity>;
  onDispatch: (d: Dispatch) => void;
  /** Called for every credential GitHub hands out (ID tokens, installation tokens). */
  onSecret?: (secret: string) => void;
}

/** Who a token acts as (secondary limits are counted per user or app, not per token) and what it may do. */
export interface Grant {
  repositories: string[];
  identity: string;
  /** Repository permissions, as a fine-grained token, an installation or a job's `permissions:` has them. */
  permissions: Record<string, string>;
  /** A job's GITHUB_TOKEN. */
  job?: JobTokenGrant;
}

/** What a dispatching token needs and, unless a fleet says more, all it has ("Contents: write"). */
const DISPATCH_PERMISSIONS = { contents: 'write', metadata: 'read' };

/** Installation tokens handed out to GitHub Apps: token → repositories, installation and expiry. */
const installationTokens = new Map<
  string,
  { repositories: string[]; installationId: string; permissions: Record<string, string>; expiresAt: number }
>();

export function grantFor(
  token: string | undefined,
  o: Pick<GitHubOptions, 'spec' | 'state'>
): Grant | undefined {
  if (!token) return undefined;
  const issued = installationTokens.get(token);
  if (issued)
    return issued.expiresAt > Date.now()
      ? {
          repositories: issued.repositories,
          identity: `installation:${issued.installationId}`,
          permissions: issued.permissions
        }
      : undefined;
  const job = o.state.jobTokens.get(token);
  // GITHUB_TOKEN is an installation token of the GitHub Actions app for the one repository.
  if (job)
    return {
      repositories: [job.repository],
      identity: `github-actions:${job.repository}`,
      permissions: job.permissions,
      job
    };
  const pat = o.spec.tokens?.find(t => t.token === token);
  return (
    pat && {
      repositories: pat.repositories,
      identity: `user:${pat.user ?? pat.token}`,
      permissions: { ...DISPATCH_PERMISSIONS, ...pat.permissions }
    }
  );
}

/**
 * "Rate limits for the REST API": past a secondary limit GitHub answers "403 or 429 … and an error
 * message that indicates that you exceeded a secondary rate limit", with `retry-after` when it
 * tells how long to wait (otherwise a client must wait at least a minute).
 */
function secondaryLimited(identity: string, o: GitHubOptions): Response | undefined {
  const verdict = o.state.content.check(identity);
  if (verdict.ok) return undefined;
  const { secondaryStatus, secondaryRetryAfter } = o.state.limits;
  const key = `${secondaryStatus}`;
  o.state.secondaryRefusals[key] = (o.state.secondaryRefusals[key] ?? 0) + 1;
  const seconds = Math.max(1, Math.ceil(o.state.real(verdict.retryAfterMs) / 1000));
  return json(
    secondaryStatus,
    {
      message:
        'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.',
      documentation_url:
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      status: key
    },
    secondaryRetryAfter ? { 'retry-after': String(seconds) } : {}
  );
}

export async function handleGitHub(req: Request, o: GitHubOptions): Promise<Response | undefined> {
  if (req.path === '/_github/oidc/token') return oidcToken(req, o);
  const install = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(req.path);
  if (install && req.method === 'POST') return installationToken(install[1]!, req, o);
  const repo = /^\/repos\/([^/]+)\/([^/]+)$/.exec(req.path);
  if (repo && req.method === 'GET') return getRepository(`${repo[1]}/${repo[2]}`, req, o);
  const runs = handleRuns(req, o);
  if (runs) return runs;
  const match = /^\/repos\/([^/]+)\/([^/]+)\/dispatches$/.exec(req.path);
  if (!match) return undefined;
  const repository = `${match[1]}/${match[2]}`;
  const token = bearer(req);
  const grant = grantFor(token, o);
  if (!token || !grant)
    return json(401, {
      message: 'Bad credentials',
      documentation_url: 'https://docs.github.com/rest',
      status: '401'
    });
  if (
    repository.toLowerCase() !== o.spec.repository.toLowerCase() ||
    !grant.repositories.some(r => r.toLowerCase() === repository.toLowerCase())
  ) {
    // GitHub answers 404, not 403, for a repository the token may not see or write.
    return json(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  }
  if (req.method !== 'POST')
    return json(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  if (grant.permissions.contents !== 'write')
    return json(403, {
      message: 'Resource not accessible by integration',
      documentation_url: DOCS,
      status: '403'
    });
  const limited = secondaryLimited(grant.identity, o);
  if (limited) return limited;
  let body: unknown;
  try {
    body = req.json();
  } catch {
    return json(400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
  }
  const { valid, errors } = validateBody(body);
  const payload = (body as { client_payload?: unknown })?.client_payload;
  const tooBig = payload !== undefined && Buffer.byteLength(JSON.stringify(payload)) >= 64 * 1024;
  if (!valid || tooBig) {
    const messages = errors.map(
      e => `For '${e.instancePath ? `properties${e.instancePath}` : 'body'}', ${e.message}.`
    );
    if (tooBig) messages.push("For 'properties/client_payload', the payload must be less than 64KB.");
    return json(422, {
      message: `Invalid request.\n\n${messages.join('\n')}`,
      documentation_url: DOCS,
      status: '422'
    });
  }
  const b = body as { event_type: string; client_payload?: Record<string, unknown> };
  o.state.content.take(grant.identity);
  o.onDispatch({
    repository,
    eventType: b.event_type,
    clientPayload: b.client_payload ?? {},
    receivedAt: Date.now(),
    emulatedAt: o.state.now()
  });
  return empty(204);
}

/** `GET /repos/{owner}/{repo}`: what the agent's --check asks; `permissions` as GitHub shows them to a token. */
function getRepository(repository: string, req: Request, o: GitHubOptions): Response {
  const grant = grantFor(bearer(req), o);
  if (!grant)
    return json(401, {
      message: 'Bad credentials',
      documentation_url: 'https://docs.github.com/rest',
      status: '401'
    });
  const allowed =
    repository.toLowerCase() === o.spec.repository.toLowerCase() &&
    grant.repositories.some(r => r.toLowerCase() === repository.toLowerCase());
  if (!allowed)
    return json(404, {
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest/repos/repos#get-a-repository',
      status: '404'
    });
  const [owner, name] = repository.split('/');
  return json(200, {
    id: 1,
    name,
    full_name: repository,
    private: true,
    owner: { login: owner },
    default_branch: o.spec.defaultBranch ?? 'main',
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true }
  });
}

/** `POST /app/installations/{id}/access_tokens` with an RS256 app JWT (iss = app ID, exp ≤ 10 minutes). */
function installationToken(installationId: string, req: Request, o: GitHubOptions): Response {
  const jwt = bearer(req) ?? '';
  const [header, payload, signature] = jwt.split('.');
  const refuse = (message: string) =>
    json(401, {
      message,
      documentation_url:
        'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app',
      status: '401'
    });
  if (!header || !payload || !signature) return refuse('A JSON web token could not be decoded');
  let claims: { iss?: string | number; exp?: number; iat?: number };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return refuse('A JSON web token could not be decoded');
  }
  const app = o.spec.apps?.find(a => a.appId === String(claims.iss));
  if (!app) return refuse("'Issuer' claim ('iss') must be an Integer");
  const signed = verifySignature(
    'RSA-SHA256',
    Buffer.from(`${header}.${payload}`),
    createPublicKey(app.publicKeyPem),
    Buffer.from(signature, 'base64url')
  );
  if (!signed) return refuse('A JSON web token could not be decoded');
  const now = Math.floor(Date.now() / 1000);
  if (!claims.exp || claims.exp < now)
    return refuse(
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
    );
  if (claims.exp - (claims.iat ?? now) > 600)
    return refuse("'Expiration time' claim ('exp') is too far in the future");
  if (app.installationId !== installationId)
    return json(404, {
      message: 'Not Found',
      documentation_url:
        'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app',
      status: '404'
    });
  const token = `ghs_${randomBytes(18).toString('base64url')}`;
  const expiresAt = Date.now() + 3_600_000;
  const permissions = { ...DISPATCH_PERMISSIONS, ...app.permissions };
  installationTokens.set(token, { repositories: app.repositories, installationId, permissions, expiresAt });
  return json(201, {
    token,
    expires_at: new Date(expiresAt).toISOString(),
    permissions,
    repository_selection: 'selected'
  });
}

/** The runner's ID token endpoint: the job's request token in, a signed OIDC token for the audience out. */
async function oidcToken(req: Request, o: GitHubOptions): Promise<Response> {
  const run = o.runs.get(bearer(req) ?? '');
  if (!run) return json(401, { message: 'Bad credentials' });
  const audience =
    req.url.searchParams.get('audience') ?? `https://github.com/${run.repository.split('/')[0]}`;
  const value = await sign(
    o.githubKey,
    {
      iss: GITHUB_ISSUER,
      aud: audience,
      sub: run.subject,
      repository: run.repository,
      repository_owner: run.repository.split('/')[0],
      ref: run.ref,
      event_name: run.eventName,
      workflow: run.workflow,
      run_id: String(run.runId),
      job_workflow_ref: `${run.repository}/.github/workflows/${run.workflow}@${run.ref}`
    },
    300
  );
  o.onSecret?.(value);
  return json(200, { count: 1, value });
}
