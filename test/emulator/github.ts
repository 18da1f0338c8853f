/**
 * GitHub, the parts we touch: the runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) and
 * `POST /repos/{owner}/{repo}/dispatches`, validated like GitHub does — a token that may write to
 * the repository, and a body that satisfies the operation's schema in GitHub's REST description
 * (@octokit/openapi: event_type 1–100 characters, client_payload at most 10 top-level properties)
 * plus the documented size limit (client_payload under 64 KB). 204, 401, 404 or 422.
 */
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { GitHubSpec } from './fleet.js';
import { empty, json, bearer, type Request, type Response } from './http.js';
import { GITHUB_ISSUER, sign, type KeyPair } from './tokens.js';

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
  receivedAt: number;
}

export interface RunIdentity {
  subject: string;
  repository: string;
  ref: string;
  eventName: string;
  workflow: string;
  runId: number;
}

export interface GitHubOptions {
  spec: GitHubSpec;
  githubKey: KeyPair;
  /** Request tokens of running jobs → who they are (the OIDC token's claims). */
  runs: Map<string, RunIdentity>;
  onDispatch: (d: Dispatch) => void;
}

export async function handleGitHub(req: Request, o: GitHubOptions): Promise<Response | undefined> {
  if (req.path === '/_github/oidc/token') return oidcToken(req, o);
  const match = /^\/repos\/([^/]+)\/([^/]+)\/dispatches$/.exec(req.path);
  if (!match) return undefined;
  const repository = `${match[1]}/${match[2]}`;
  const token = bearer(req);
  const grant = o.spec.tokens?.find(t => t.token === token);
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
  o.onDispatch({
    repository,
    eventType: b.event_type,
    clientPayload: b.client_payload ?? {},
    receivedAt: Date.now()
  });
  return empty(204);
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
  return json(200, { count: 1, value });
}
