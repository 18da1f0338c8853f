/**
 * The emulator: one HTTPS server on 127.0.0.1 for Entra ID, Resource Manager, Resource Graph and
 * GitHub, one HTTP server for every VM's IMDS, the Spot model behind them, and the runner that
 * executes workflows-examples/ with dist/index.js. Started from code (tests, demo, benchmarks) or
 * from the command line (cli.ts).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ScaledClock } from './clock.js';
import { handleArm, armKind, retryHeaders } from './azure/arm.js';
import { azureErrors } from './azure/azure-errors.js';
import { handleEntra } from './azure/entra.js';
import { Faults, type FaultTarget } from './faults.js';
import { DEFAULT_APP, DEFAULT_TENANT, type FleetSpec } from './fleets/fleet.js';
import { GITHUB_LIMITS, type GitHubLimits } from './github/actions-limits.js';
import { GitHubState, handleGitHub, type Dispatch, type RunIdentity } from './github/github.js';
import { json, makeRequest, readBody, type Request, type Response } from './http.js';
import { handleImds, imdsPrefix } from './azure/imds.js';
import { runQuery } from './azure/kql.js';
import { Rbac } from './azure/rbac.js';
import type { ScaleSet } from './azure/scale-set-model.js';
import { repositoryDispatchPayload, Runner, type RunRecord } from './github/runner.js';
import { DEFAULT_TIMING, SpotModel, type Timing, type Vm } from './azure/spot.js';
import { Throttles } from './azure/throttle.js';
import { slowLink, type SlowLink } from './link.js';
import { makeTls, type Tls } from './tls.js';
import { makeKey, type KeyPair } from './tokens.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface EmulatorOptions {
  fleet: FleetSpec;
  /** Emulated seconds per real second: 100 makes a 30 s notice last 0.3 s. */
  timeScale?: number;
  timing?: Partial<Timing>;
  /** Real seconds an access token lives. */
  tokenLifetimeS?: number;
  /** Real milliseconds added to every answer. */
  latencyMs?: number;
  /**
   * Real round-trip milliseconds of the network between the agents and GitHub (`githubUrl`): a
   * relay that slows every packet, handshakes included, as a distant api.github.com does.
   */
  githubRoundTripMs?: number;
  /** Azure's throttling buckets (default on). */
  throttling?: boolean;
  /** Run the workflows that listen to an accepted dispatch (default on). */
  runDispatchedWorkflows?: boolean;
  /** GitHub's limits (actions-limits.ts): GitHub's published numbers unless a scenario changes one. */
  githubLimits?: Partial<GitHubLimits>;
  /**
   * Run the action on the emulated clock (runner.ts actionOnEmulatedClock): a workflow's
   * "retry-for: 15m", its polls and its budgets last emulated time. Off: the action keeps real time.
   */
  actionOnEmulatedClock?: boolean;
  workflowsDir?: string;
  distPath?: string;
}

export class Emulator {
  readonly clock: ScaledClock;
  readonly model: SpotModel;
  readonly faults = new Faults();
  readonly dispatches: Dispatch[] = [];
  readonly requests: Record<string, number> = {};
  /** Requests their client abandoned before sending all of them. */
  aborted = 0;
  /** TLS connections accepted (each a handshake: a client that keeps its connections alive makes few). */
  tlsConnections = 0;
  /** Answers by kind and status, e.g. `start:429` (Azure's own throttling, not injected faults). */
  readonly answers: Record<string, number> = {};
  readonly imdsDown = new Set<string>();
  /** Resource Graph tables to act as absent (a fault): queries naming one are refused. */
  readonly missingTables = new Set<string>();
  /** Every Resource Graph query received, in order (throttled and refused ones too). */
  readonly argQueries: string[] = [];
  /** Runs as each Resource Graph query arrives (the n-th of the emulator's life), before its quota is taken. */
  beforeQuery?: (query: string, n: number) => void;
  readonly tokensIssued: Record<string, number> = {};
  /** Every credential the emulator handed out: access tokens, GitHub ID tokens. */
  readonly secretsIssued: string[] = [];
  runner!: Runner;
  readonly githubState: GitHubState;
  url = '';
  imdsUrl = '';
  /** GitHub's API as the agents reach it: `url`, or the slow link to it. */
  githubUrl = '';
  private link?: SlowLink;
  private https!: HttpsServer;
  private http!: HttpServer;
  private tls!: Tls;
  private entraKey!: KeyPair;
  private githubKey!: KeyPair;
  private readonly runIdentities = new Map<string, RunIdentity>();
  private readonly rbac: Rbac;
  /** Azure's throttling state: a test may spend a budget as another tool of the same identity would. */
  readonly throttles: Throttles;
  private readonly pendingRuns: Promise<RunRecord[]>[] = [];

  private constructor(readonly options: EmulatorOptions) {
    this.clock = new ScaledClock(options.timeScale ?? 1, Date.now(), options.actionOnEmulatedClock ?? false);
    this.model = new SpotModel(options.fleet, this.clock, { ...DEFAULT_TIMING, ...options.timing });
    this.rbac = new Rbac(this.apps, this.options.fleet.subscriptions);
    this.throttles = new Throttles(this.clock, options.throttling ?? true);
    this.githubState = new GitHubState(
      { ...GITHUB_LIMITS, ...options.githubLimits },
      () => this.clock.now(),
      ms => this.clock.real(ms),
      () => this.runner?.workflowRuns ?? []
    );
  }

  static async start(options: EmulatorOptions): Promise<Emulator> {
    // Loading Microsoft's KQL parser takes about a second of CPU: do it now, not while serving.
    runQuery('resources | take 1', { resources: [] });
    const emulator = new Emulator(options);
    await emulator.listen();
    return emulator;
  }

  get tenantId(): string {
    return this.options.fleet.tenantId ?? DEFAULT_TENANT;
  }

  get apps() {
    return (
      this.options.fleet.apps ?? [
        {
          clientId: DEFAULT_APP,
          federatedSubjects: [
            `repo:${this.github.repository}:ref:refs/heads/${this.github.defaultBranch ?? 'main'}`
          ]
        }
      ]
    );
  }

  get github() {
    return this.options.fleet.github ?? { repository: 'acme/spot-fleet' };
  }

  get caFile(): string {
    return this.tls.caFile;
  }

  private async listen(): Promise<void> {
    [this.tls, this.entraKey, this.githubKey] = await Promise.all([makeTls(), makeKey(), makeKey()]);
    this.https = createHttpsServer(
      { key: this.tls.key, cert: this.tls.cert },
      (req, res) => void this.serve(req, res, 'https')
    );
    this.https.on('secureConnection', () => this.tlsConnections++);
    this.http = createHttpServer((req, res) => void this.serve(req, res, 'imds'));
    for (const server of [this.https, this.http]) server.keepAliveTimeout = 5000;
    await Promise.all([
      new Promise<void>(r => this.https.listen(0, '127.0.0.1', r)),
      new Promise<void>(r => this.http.listen(0, '127.0.0.1', r))
    ]);
    this.url = `https://127.0.0.1:${(this.https.address() as { port: number }).port}`;
    this.imdsUrl = `http://127.0.0.1:${(this.http.address() as { port: number }).port}`;
    this.githubUrl = this.url;
    if (this.options.githubRoundTripMs) {
      this.link = await slowLink(
        (this.https.address() as { port: number }).port,
        this.options.githubRoundTripMs
      );
      this.githubUrl = `https://127.0.0.1:${this.link.port}`;
    }
    const gh = this.github;
    this.runner = new Runner({
      workflowsDir: this.options.workflowsDir ?? `${ROOT}workflows-examples`,
      distPath: this.options.distPath ?? `${ROOT}dist/index.js`,
      actionPath: `${ROOT}action.yml`,
      clock: this.clock,
      limits: this.githubState.limits,
      actionOnEmulatedClock: this.options.actionOnEmulatedClock,
      apiUrl: () => this.url,
      registerJobToken: (token, grant) => {
        if (grant) {
          this.githubState.jobTokens.set(token, grant);
          this.secretsIssued.push(token);
        } else this.githubState.jobTokens.delete(token);
      },
      repository: gh.repository,
      defaultBranch: gh.defaultBranch ?? 'main',
      vars: {
        AZURE_CLIENT_ID: this.apps[0]!.clientId,
        AZURE_TENANT_ID: this.tenantId,
        AZURE_SUBSCRIPTIONS: this.options.fleet.subscriptions.join(','),
        AZURE_SUBSCRIPTION_LIST: JSON.stringify(this.options.fleet.subscriptions),
        ...gh.vars
      },
      secrets: gh.secrets ?? {},
      oidcUrl: () => `${this.url}/_github/oidc/token`,
      registerRun: (token, identity) => this.runIdentities.set(token, identity),
      inputOverrides: () => ({
        'resource-manager-endpoint': this.url,
        'authority-host': this.url,
        'poll-interval': '200ms'
      }),
      env: () => this.processEnv()
    });
  }

  /** Environment for any process that talks to the emulator: trust its CA, never reach real IMDS. */
  processEnv(): Record<string, string> {
    return {
      NODE_EXTRA_CA_CERTS: this.tls.caFile,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: this.imdsUrl,
      IMDS_ENDPOINT: this.imdsUrl,
      NO_PROXY: '127.0.0.1,localhost'
    };
  }

  /** The base URL of a VM's own IMDS (what the agent gets as its IMDS address). */
  imdsFor(vm: Vm): string {
    return `${this.imdsUrl}${imdsPrefix(vm)}`;
  }

  vm(name: string): Vm {
    const vm = [...this.model.vms.values()].find(v => v.name === name);
    if (!vm) throw new Error(`no VM named ${name}`);
    return vm;
  }

  /** A scale set by name: its instances, and how many start calls it received (`startCalls`). */
  scaleSet(name: string): ScaleSet {
    const scaleSet = [...this.model.scaleSets.values()].find(s => s.name === name);
    if (!scaleSet) throw new Error(`no scale set named ${name}`);
    return scaleSet;
  }

  /** Runs the workflows that listen to `schedule` (or one of them), as GitHub's scheduler would. */
  schedule(workflow?: string): Promise<RunRecord[]> {
    return this.runner.trigger('schedule', { schedule: '*/5 * * * *' }, workflow);
  }

  workflowDispatch(workflow: string, inputs: Record<string, string>): Promise<RunRecord[]> {
    return this.runner.trigger(
      'workflow_dispatch',
      { inputs, ref: `refs/heads/${this.github.defaultBranch ?? 'main'}`, workflow },
      workflow
    );
  }

  /** Waits for every run that accepted dispatches started. */
  async settle(): Promise<RunRecord[]> {
    const all = await Promise.all(this.pendingRuns);
    return all.flat();
  }

  async stop(): Promise<void> {
    await this.link?.close();
    await Promise.all([
      new Promise<void>(r => this.https.close(() => r())),
      new Promise<void>(r => this.http.close(() => r()))
    ]);
    this.https.closeAllConnections();
    this.http.closeAllConnections();
  }

  private onDispatch(d: Dispatch): void {
    this.dispatches.push(d);
    if (this.options.runDispatchedWorkflows === false) return;
    const payload = repositoryDispatchPayload(
      d.repository,
      this.github.defaultBranch ?? 'main',
      d.eventType,
      d.clientPayload
    );
    this.pendingRuns.push(this.runner.trigger('repository_dispatch', payload));
  }

  private target(req: Request, kind: 'https' | 'imds'): FaultTarget {
    if (kind === 'imds') return 'imds';
    if (req.path === '/_github/oidc/token') return 'oidc';
    if (/^\/repos\/[^/]+\/[^/]+\/actions\//.test(req.path)) return 'runs';
    if (req.path.startsWith('/repos/')) return 'dispatch';
    const arm = armKind(req);
    // A fault on starts or instance views hits scale-set instances too: Azure fails them alike.
    if (arm === 'scaleSetStart') return 'start';
    if (arm === 'scaleSetVmInstanceView') return 'instanceView';
    if (arm === 'arg' || arm === 'start' || arm === 'instanceView' || arm === 'operation') return arm;
    if (arm) return 'arm';
    return 'entra';
  }

  private async serve(raw: IncomingMessage, res: ServerResponse, kind: 'https' | 'imds'): Promise<void> {
    let body: string;
    try {
      body = await readBody(raw);
    } catch {
      // The client went away mid-request (it timed out, or its process ended): nothing to answer.
      this.aborted++;
      raw.socket.destroy();
      return;
    }
    const req = makeRequest(raw, body, kind === 'https' ? this.url : this.imdsUrl);
    const target = this.target(req, kind);
    this.requests[target] = (this.requests[target] ?? 0) + 1;
    const { delayMs, fault } = this.faults.pick(target);
    const wait = delayMs + (this.options.latencyMs ?? 0);
    if (wait > 0) await new Promise(r => setTimeout(r, wait));
    if (fault?.kind === 'reset') {
      raw.socket.destroy();
      return;
    }
    let response: Response | 'drop' | undefined;
    try {
      if (fault)
        response = this.faultResponse(fault.kind as '429' | '500' | '503', target, fault.retryAfterS ?? 1);
      else if (kind === 'imds') response = handleImds(req, { model: this.model, down: this.imdsDown });
      else response = await this.route(req);
    } catch (error) {
      response = json(500, {
        error: { code: 'InternalServerError', message: String((error as Error).stack ?? error) }
      });
    }
    if (response === 'drop') {
      raw.socket.destroy();
      return;
    }
    response ??= json(404, {
      error: { code: 'NotFound', message: `No route for ${req.method} ${req.path}` }
    });
    res.writeHead(response.status, response.headers ?? {});
    res.end(response.body === undefined ? '' : JSON.stringify(response.body));
  }

  private async route(req: Request): Promise<Response | undefined> {
    if (req.path.startsWith('/_emulator/')) return this.admin(req);
    return (
      (await handleGitHub(req, {
        spec: this.github,
        githubKey: this.githubKey,
        state: this.githubState,
        runs: this.runIdentities,
        onDispatch: d => this.onDispatch(d),
        onSecret: secret => this.secretsIssued.push(secret)
      })) ??
      (await handleArm(req, {
        model: this.model,
        rbac: this.rbac,
        throttles: this.throttles,
        clock: this.clock,
        entraKey: this.entraKey,
        tenantId: this.tenantId,
        subscriptions: this.options.fleet.subscriptions.map(s => s.toLowerCase()),
        tenantSubscriptionLimit: this.options.fleet.tenantSubscriptionLimit,
        base: () => this.url,
        missingTables: this.missingTables,
        onQuery: query => {
          this.argQueries.push(query);
          this.beforeQuery?.(query, this.argQueries.length);
        },
        onRequest: (kind, status) =>
          (this.answers[`${kind}:${status}`] = (this.answers[`${kind}:${status}`] ?? 0) + 1)
      })) ??
      (await handleEntra(req, {
        tenantId: this.tenantId,
        apps: this.apps,
        entraKey: this.entraKey,
        githubKey: this.githubKey,
        tokenLifetimeS: this.options.tokenLifetimeS ?? 3600,
        base: () => this.url,
        onToken: (id, token) => {
          this.tokensIssued[id] = (this.tokensIssued[id] ?? 0) + 1;
          this.secretsIssued.push(token);
        }
      }))
    );
  }

  /** The CLI's admin endpoints: look at the state, evict, change capacity, run the schedule. */
  private async admin(req: Request): Promise<Response> {
    const body = (req.method === 'POST' && req.body ? req.json() : {}) as Record<string, unknown>;
    switch (`${req.method} ${req.path}`) {
      case 'GET /_emulator/state':
        return json(200, {
          vms: [...this.model.vms.values()].map(v => ({
            name: v.name,
            id: v.id,
            powerState: v.deleted ? 'deleted' : v.powerState,
            annotation: this.model.currentAnnotation(v)?.name,
            startsAccepted: v.startsAccepted
          })),
          runs: this.runner.runs.map(r => ({
            id: r.id,
            workflow: r.workflow,
            event: r.event,
            exitCode: r.exitCode,
            counts: r.outputs.counts
          })),
          dispatches: this.dispatches.length,
          timeline: this.model.timeline
        });
      case 'POST /_emulator/evict': {
        const cause = (body.cause as 'capacity' | 'price' | 'simulated') ?? 'capacity';
        const events = ((body.vms as string[]) ?? []).map(
          name => this.model.evict(this.vm(name), cause)?.EventId ?? null
        );
        return json(200, { events });
      }
      case 'POST /_emulator/capacity':
        this.model.setCapacity(
          String(body.location),
          String(body.vmSize),
          Number(body.capacity),
          body.zone ? String(body.zone) : undefined
        );
        return json(200, {});
      case 'POST /_emulator/schedule': {
        const runs = await this.schedule(body.workflow ? String(body.workflow) : undefined);
        return json(
          200,
          runs.map(r => ({ id: r.id, workflow: r.workflow, exitCode: r.exitCode, outputs: r.outputs }))
        );
      }
      default:
        return json(404, {
          error: { code: 'NotFound', message: `No admin route ${req.method} ${req.path}` }
        });
    }
  }

  private faultResponse(kind: '429' | '500' | '503', target: FaultTarget, retryAfterS: number): Response {
    if (kind === '429') {
      const headers = retryHeaders(retryAfterS * 1000, { clock: this.clock });
      if (target === 'dispatch' || target === 'oidc' || target === 'runs')
        return json(
          429,
          {
            message: 'API rate limit exceeded',
            documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api'
          },
          headers
        );
      if (target === 'arg')
        return json(
          429,
          { error: { code: 'RateLimiting', message: 'Client application has been throttled.' } },
          { ...headers, 'x-ms-user-quota-remaining': '0', 'x-ms-user-quota-resets-after': '00:00:01' }
        );
      if (target === 'start' || target === 'instanceView' || target === 'operation') {
        const now = this.clock.now();
        const policy =
          target === 'start' ? 'UpdateVM' : target === 'operation' ? 'GetOperation' : 'LowCostGetVM';
        const e = azureErrors.computeThrottled(
          policy,
          12,
          13,
          new Date(now).toISOString(),
          new Date(now + retryAfterS * 1000).toISOString()
        );
        return json(429, e.body, {
          ...headers,
          'x-ms-ratelimit-remaining-resource': `Microsoft.Compute/${policy};0`
        });
      }
      const e = azureErrors.throttled();
      return json(429, e.body, headers);
    }
    if (target === 'dispatch' || target === 'oidc' || target === 'runs')
      return json(Number(kind), { message: 'Server Error' });
    const e = azureErrors.internal();
    return json(Number(kind), e.body);
  }
}
