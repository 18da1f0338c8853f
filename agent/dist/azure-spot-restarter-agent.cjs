#!/usr/bin/env node
"use strict";
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));

// agent/src/version.ts
var AGENT_VERSION;
var init_version = __esm({
  "agent/src/version.ts"() {
    "use strict";
    AGENT_VERSION = "0.1.0";
  }
});

// agent/src/github-headers.ts
function githubHeaders(token, json = false) {
  return {
    accept: "application/vnd.github+json",
    authorization: `Bearer ${token}`,
    "x-github-api-version": "2022-11-28",
    "user-agent": `azure-spot-restarter-agent/${AGENT_VERSION}`,
    ...json ? { "content-type": "application/json" } : {}
  };
}
var init_github_headers = __esm({
  "agent/src/github-headers.ts"() {
    "use strict";
    init_version();
  }
});

// agent/src/http.ts
async function requesterFor(target) {
  if (target.protocol !== "https:")
    return (url, options, onResponse) => (0, import_node_http.request)(url, { ...options, agent: plainAgent }, onResponse);
  httpsRequest ??= (await import("node:https")).request;
  return httpsRequest;
}
async function send(url, options) {
  const target = new URL(url);
  const request = await requesterFor(target);
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? "GET",
        headers: {
          ...options.body ? { "content-length": String(Buffer.byteLength(options.body)) } : {},
          ...options.headers
        },
        timeout: options.timeoutMs
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => text += c);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on("error", (e) => reject(new HttpError("connection", e.message)));
      }
    );
    req.on(
      "timeout",
      () => req.destroy(new HttpError("timeout", `no answer within ${options.timeoutMs} ms`))
    );
    req.on("error", (e) => reject(e instanceof HttpError ? e : new HttpError("connection", e.message)));
    if (options.onWritten) req.on("finish", options.onWritten);
    req.end(options.body);
  });
}
function header(answer, name) {
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
var import_node_http, HttpError, plainAgent, httpsRequest;
var init_http = __esm({
  "agent/src/http.ts"() {
    "use strict";
    import_node_http = require("node:http");
    HttpError = class extends Error {
      constructor(kind, message) {
        super(message);
        this.kind = kind;
      }
      kind;
    };
    plainAgent = new import_node_http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  }
});

// agent/src/github-app.ts
var github_app_exports = {};
__export(github_app_exports, {
  appJwt: () => appJwt,
  installationToken: () => installationToken
});
function appJwt(appId, privateKeyPem, now = Math.floor(Date.now() / 1e3)) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iat: now - 60, exp: now + 9 * 60, iss: appId })}`;
  const signature = (0, import_node_crypto.createSign)("RSA-SHA256").update(unsigned).sign(privateKeyPem).toString("base64url");
  return `${unsigned}.${signature}`;
}
async function installationToken(apiUrl, appId, installationId, privateKeyPem) {
  const response = await send(
    `${apiUrl.replace(/\/+$/, "")}/app/installations/${encodeURIComponent(installationId)}/access_tokens`,
    {
      method: "POST",
      headers: githubHeaders(appJwt(appId, privateKeyPem)),
      timeoutMs: 1e4
    }
  );
  let body = {};
  try {
    body = JSON.parse(response.text);
  } catch {
  }
  if (response.status !== 201 || !body.token) {
    const advice2 = response.status === 401 ? "the app ID or private key is wrong, or the machine clock is off" : response.status === 404 ? "no such installation of this app: check --installation-id" : "GitHub refused the exchange";
    throw new Error(`GitHub App token exchange failed (${response.status} ${body.message ?? ""}): ${advice2}`);
  }
  return {
    token: body.token,
    expiresAt: body.expires_at ? Date.parse(body.expires_at) : Date.now() + 50 * 6e4
  };
}
var import_node_crypto;
var init_github_app = __esm({
  "agent/src/github-app.ts"() {
    "use strict";
    import_node_crypto = require("node:crypto");
    init_github_headers();
    init_http();
  }
});

// agent/src/hooks.ts
var hooks_exports = {};
__export(hooks_exports, {
  runHook: () => runHook
});
function runHook(command, env, timeoutMs, onOutput, onStart) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = (0, import_node_child_process.spawn)(command, {
      shell: true,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    });
    onStart?.(child.pid);
    let timedOut = false;
    const forward = (chunk) => chunk.toString("utf8").split("\n").filter(Boolean).forEach(onOutput);
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 2e3).unref();
    }, timeoutMs);
    child.on("error", (error) => {
      onOutput(`could not start: ${error.message}`);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, timedOut, durationMs: Date.now() - started });
    });
  });
}
var import_node_child_process;
var init_hooks = __esm({
  "agent/src/hooks.ts"() {
    "use strict";
    import_node_child_process = require("node:child_process");
  }
});

// agent/src/main.ts
var import_node_os = require("node:os");

// agent/src/back-after-eviction.ts
function backAfterEviction(last, now, uptimeS) {
  if (!last) return void 0;
  const bootedAt = now - uptimeS * 1e3;
  if (!(bootedAt > last.seenAt)) return void 0;
  return {
    eventId: last.eventId,
    status: last.status,
    seenAt: new Date(last.seenAt).toISOString(),
    bootedAt: new Date(bootedAt).toISOString(),
    downToBootS: Math.round((bootedAt - last.seenAt) / 1e3),
    downToAgentS: Math.round((now - last.seenAt) / 1e3)
  };
}

// agent/src/credentials.ts
var import_node_fs = require("node:fs");
var CredentialError = class extends Error {
};
function privateFile(path, what) {
  let mode;
  try {
    mode = (0, import_node_fs.statSync)(path).mode;
  } catch (error) {
    throw new CredentialError(`${what} ${path} cannot be read: ${error.message}`);
  }
  if (process.platform !== "win32" && (mode & 63) !== 0) {
    throw new CredentialError(
      `${what} ${path} can be read by others (mode ${(mode & 511).toString(8)}); run: chmod 600 ${path}`
    );
  }
  return (0, import_node_fs.readFileSync)(path, "utf8").trim();
}
function loadCredentials(config, log) {
  if (config.appId && config.installationId && config.privateKeyFile) {
    const key = privateFile(config.privateKeyFile, "The GitHub App private key");
    let cached;
    return {
      kind: "github-app",
      async token() {
        if (cached && cached.expiresAt - Date.now() > 5 * 6e4) return cached.token;
        const { installationToken: installationToken2 } = await Promise.resolve().then(() => (init_github_app(), github_app_exports));
        cached = await installationToken2(config.githubApiUrl, config.appId, config.installationId, key);
        log.secret(cached.token);
        return cached.token;
      },
      invalidate() {
        cached = void 0;
      }
    };
  }
  if (config.tokenFile) {
    const token = privateFile(config.tokenFile, "The token file");
    log.secret(token);
    return { kind: "token-file", token: async () => token, invalidate: () => void 0 };
  }
  if (config.token) {
    log.secret(config.token);
    return { kind: "environment", token: async () => config.token, invalidate: () => void 0 };
  }
  throw new CredentialError(
    "No GitHub credentials: give a GitHub App (--app-id, --installation-id, --private-key-file), a --token-file, or SPOT_AGENT_GITHUB_TOKEN"
  );
}

// agent/src/check.ts
init_github_headers();
init_http();
init_version();
async function check(config, imds, log, print) {
  const lines = [];
  const add = (ok, what) => lines.push({ ok, what });
  try {
    const vm = await imds.compute();
    add(true, `IMDS reachable: ${vm.name} (${vm.resourceId})`);
    add(
      vm.priority.toLowerCase() === "spot",
      `priority ${vm.priority || "Regular"}${vm.priority.toLowerCase() === "spot" ? "" : ": Azure never preempts this VM"}`
    );
    const policy = vm.evictionPolicy.toLowerCase();
    add(
      policy === "deallocate" ? true : "warn",
      `eviction policy ${vm.evictionPolicy || "-"}${policy === "deallocate" ? "" : ": only Deallocate VMs can be restarted"}`
    );
    const [name, value] = config.tag.split("=");
    const tag = vm.tagsList.find((t) => t.name.toLowerCase() === name.toLowerCase());
    add(
      tag?.value.toLowerCase() === value?.toLowerCase() ? true : "warn",
      tag ? `tag ${tag.name}=${tag.value}` : `no tag ${config.tag}: the action will not restart this VM`
    );
  } catch (error) {
    add(
      false,
      `IMDS compute metadata: ${error.message} (is this an Azure VM? is --imds-url right?)`
    );
  }
  try {
    const doc = await imds.events(12e4);
    add(true, `Scheduled Events on (${doc.Events.length} pending event(s))`);
  } catch (error) {
    add(false, `Scheduled Events: ${error.message}`);
  }
  try {
    const credentials = loadCredentials(config, log);
    const token = await credentials.token();
    const response = await send(`${config.githubApiUrl.replace(/\/+$/, "")}/repos/${config.repository}`, {
      headers: githubHeaders(token),
      timeoutMs: 1e4
    });
    let body = {};
    try {
      body = JSON.parse(response.text);
    } catch {
    }
    if (response.status === 200) {
      const push = body.permissions?.push;
      add(
        push === false ? false : true,
        `GitHub ${credentials.kind} credentials can see ${config.repository}${push === void 0 ? "" : push ? " and write to it" : " but cannot write to it (repository_dispatch needs Contents: write)"}`
      );
    } else {
      add(
        false,
        `GitHub answered ${response.status} for ${config.repository}: ${response.status === 404 ? "no such repository, or the token cannot see it" : "the credentials were refused"}`
      );
    }
  } catch (error) {
    add(false, `GitHub credentials: ${error.message}`);
  }
  print(`azure-spot-restarter-agent ${AGENT_VERSION} \u2014 check`);
  for (const l of lines) print(`  ${l.ok === true ? "ok  " : l.ok === "warn" ? "warn" : "FAIL"}  ${l.what}`);
  const failed = lines.some((l) => l.ok === false);
  print(failed ? "Result: problems found." : "Result: ready.");
  return failed ? 1 : 0;
}

// agent/src/config.ts
var OPTIONS = [
  {
    key: "repository",
    flag: "--repository",
    env: "SPOT_AGENT_REPOSITORY",
    kind: "string",
    help: "owner/repo that holds the restart workflow (required)"
  },
  {
    key: "eventType",
    flag: "--event-type",
    env: "SPOT_AGENT_EVENT_TYPE",
    kind: "string",
    default: "spot-vm-preempted",
    help: "repository_dispatch event type the workflow listens to"
  },
  {
    key: "githubApiUrl",
    flag: "--github-api-url",
    env: "SPOT_AGENT_GITHUB_API_URL",
    kind: "string",
    default: "https://api.github.com",
    help: "GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3)"
  },
  {
    key: "imdsUrl",
    flag: "--imds-url",
    env: "SPOT_AGENT_IMDS_URL",
    kind: "string",
    default: "http://169.254.169.254",
    help: "Instance Metadata Service; change it only for testing"
  },
  {
    key: "pollIntervalMs",
    flag: "--poll-interval",
    env: "SPOT_AGENT_POLL_INTERVAL",
    kind: "duration",
    default: "1s",
    help: "how often Scheduled Events are polled (IMDS allows 5 requests a second)"
  },
  {
    key: "alsoTerminate",
    flag: "--also-terminate",
    env: "SPOT_AGENT_ALSO_TERMINATE",
    kind: "boolean",
    default: "false",
    help: "also dispatch on Terminate events, not only Preempt"
  },
  {
    key: "onPreempt",
    flag: "--on-preempt",
    env: "SPOT_AGENT_ON_PREEMPT",
    kind: "string",
    help: "drain command, run (by the shell) once GitHub has answered the dispatch (2 s at most), with the event in its environment"
  },
  {
    key: "hookTimeoutMs",
    flag: "--hook-timeout",
    env: "SPOT_AGENT_HOOK_TIMEOUT",
    kind: "duration",
    default: "25s",
    help: "the drain command is stopped after this long"
  },
  {
    key: "approve",
    flag: "--approve",
    env: "SPOT_AGENT_APPROVE",
    kind: "boolean",
    default: "false",
    help: "approve the event (StartRequests) when the drain command ends, so the eviction happens at once"
  },
  {
    key: "stateFile",
    flag: "--state-file",
    env: "SPOT_AGENT_STATE_FILE",
    kind: "string",
    default: "/var/lib/azure-spot-restarter-agent/state.json",
    help: "where handled EventIds are kept across restarts"
  },
  {
    key: "appId",
    flag: "--app-id",
    env: "SPOT_AGENT_APP_ID",
    kind: "string",
    help: "GitHub App ID (recommended credentials, with --installation-id and --private-key-file)"
  },
  {
    key: "installationId",
    flag: "--installation-id",
    env: "SPOT_AGENT_INSTALLATION_ID",
    kind: "string",
    help: "GitHub App installation ID"
  },
  {
    key: "privateKeyFile",
    flag: "--private-key-file",
    env: "SPOT_AGENT_PRIVATE_KEY_FILE",
    kind: "string",
    help: "GitHub App private key (PEM); refused if others can read it"
  },
  {
    key: "tokenFile",
    flag: "--token-file",
    env: "SPOT_AGENT_TOKEN_FILE",
    kind: "string",
    help: "file holding a GitHub token; refused if others can read it"
  },
  {
    key: "token",
    flag: "--token",
    env: "SPOT_AGENT_GITHUB_TOKEN",
    kind: "string",
    help: "GitHub token (prefer the environment variable or a file: flags show in ps)",
    secret: true
  },
  {
    key: "tag",
    flag: "--tag",
    env: "SPOT_AGENT_TAG",
    kind: "string",
    default: "AttemptRestartAfterEviction=true",
    help: "the opt-in tag --check looks for (the action decides; this only warns)"
  },
  {
    key: "logFormat",
    flag: "--log-format",
    env: "SPOT_AGENT_LOG_FORMAT",
    kind: "string",
    default: "text",
    help: "text or json"
  },
  {
    key: "logFile",
    flag: "--log-file",
    env: "SPOT_AGENT_LOG_FILE",
    kind: "string",
    help: "also append the log to this file, kept under 10 MiB (the one before as <file>.1): for Windows, which keeps no output of a scheduled task"
  },
  {
    key: "allowNonSpot",
    flag: "--allow-non-spot",
    env: "SPOT_AGENT_ALLOW_NON_SPOT",
    kind: "boolean",
    default: "false",
    help: "keep running on a VM that is not Spot (it then only logs)"
  },
  {
    key: "dryRun",
    flag: "--dry-run",
    env: "SPOT_AGENT_DRY_RUN",
    kind: "boolean",
    default: "false",
    help: "detect and log, send nothing, run no command"
  },
  {
    key: "check",
    flag: "--check",
    env: "SPOT_AGENT_CHECK",
    kind: "boolean",
    default: "false",
    help: "diagnose once (IMDS, Spot, tag, GitHub credentials) and exit 0 or 1"
  },
  { key: "help", flag: "--help", env: "", kind: "boolean", default: "false", help: "show this help" },
  { key: "version", flag: "--version", env: "", kind: "boolean", default: "false", help: "show the version" }
];
var ConfigError = class extends Error {
};
function parseConfig(argv, env) {
  const raw = /* @__PURE__ */ new Map();
  for (const o of OPTIONS) {
    const value = o.env ? env[o.env] : void 0;
    if (value !== void 0 && value !== "") raw.set(o.key, value);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, void 0];
    const option = OPTIONS.find(
      (o) => o.flag === flag || o.kind === "boolean" && flag === `--no-${o.flag.slice(2)}`
    );
    if (!option) throw new ConfigError(`unknown option ${flag}; see --help`);
    if (option.kind === "boolean") {
      raw.set(option.key, inline ?? String(!flag.startsWith("--no-")));
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === void 0) throw new ConfigError(`${flag} needs a value`);
    raw.set(option.key, value);
  }
  const config = {};
  for (const o of OPTIONS) {
    const value = raw.get(o.key) ?? o.default;
    if (value === void 0) continue;
    config[o.key] = convert(o, value);
  }
  const c = config;
  if (c.help || c.version) return c;
  if (!c.repository || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(c.repository)) {
    throw new ConfigError(
      `--repository (SPOT_AGENT_REPOSITORY) is ${c.repository ? `"${c.repository}"` : "missing"}; expected owner/repo`
    );
  }
  if (!/^[\w.:-]{1,100}$/.test(c.eventType))
    throw new ConfigError(`--event-type is "${c.eventType}"; expected 1\u2013100 letters, digits, . : _ -`);
  for (const [key, flag] of [
    ["githubApiUrl", "--github-api-url"],
    ["imdsUrl", "--imds-url"]
  ]) {
    try {
      const url = new URL(c[key]);
      if (!["http:", "https:"].includes(url.protocol)) throw new Error();
    } catch {
      throw new ConfigError(`${flag} is "${c[key]}"; expected an http(s) URL`);
    }
  }
  if (c.pollIntervalMs < 200 || c.pollIntervalMs > 6e4)
    throw new ConfigError("--poll-interval must be from 200ms to 60s (IMDS allows 5 requests a second)");
  if (!["text", "json"].includes(c.logFormat))
    throw new ConfigError(`--log-format is "${c.logFormat}"; expected text or json`);
  if ((c.appId || c.installationId || c.privateKeyFile) && !(c.appId && c.installationId && c.privateKeyFile)) {
    throw new ConfigError(
      "GitHub App credentials need all three of --app-id, --installation-id and --private-key-file"
    );
  }
  return c;
}
function convert(o, value) {
  if (o.kind === "boolean") {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    throw new ConfigError(`${o.flag} (${o.env}) is "${value}"; expected true or false`);
  }
  if (o.kind === "duration") {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
    if (!m)
      throw new ConfigError(
        `${o.flag} (${o.env}) is "${value}"; expected a duration such as 500ms, 1s or 2m`
      );
    return Math.round(Number(m[1]) * ({ ms: 1, s: 1e3, m: 6e4 }[m[2] ?? "s"] ?? 1e3));
  }
  return value;
}
function helpText(version) {
  const lines = [
    `azure-spot-restarter-agent ${version}`,
    "",
    "Watches Azure Scheduled Events from inside a Spot VM and, when Azure announces a Preempt for",
    "this VM, sends a repository_dispatch so the restart workflow is waiting when the VM goes down.",
    "",
    "Options (each also an environment variable):"
  ];
  for (const o of OPTIONS) {
    lines.push(
      `  ${o.flag.padEnd(20)} ${o.help}${o.default && o.kind !== "boolean" ? ` (default ${o.default})` : ""}${o.env ? `
  ${"".padEnd(20)} env ${o.env}` : ""}`
    );
  }
  return lines.join("\n");
}

// agent/src/imds.ts
init_http();
var ImdsError = class extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
  kind;
};
var EVENTS = "/metadata/scheduledevents?api-version=2020-07-01";
var COMPUTE = "/metadata/instance/compute?api-version=2021-02-01";
var Imds = class {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
  }
  baseUrl;
  async compute(timeoutMs = 5e3) {
    const body = await this.call("GET", COMPUTE, timeoutMs);
    if (!body || typeof body.resourceId !== "string" || typeof body.name !== "string" || typeof body.vmId !== "string") {
      throw new ImdsError("garbage", "compute metadata without resourceId, name or vmId");
    }
    return { tagsList: [], priority: "", evictionPolicy: "", ...body };
  }
  /** The first call after boot turns the service on and may take up to two minutes. */
  async events(timeoutMs) {
    const body = await this.call("GET", EVENTS, timeoutMs);
    if (!body || typeof body !== "object" || !Array.isArray(body.Events))
      throw new ImdsError("garbage", "a Scheduled Events document without Events");
    const events = body.Events.filter(
      (e) => !!e && typeof e.EventId === "string" && typeof e.EventType === "string" && Array.isArray(e.Resources)
    );
    return { DocumentIncarnation: Number(body.DocumentIncarnation) || 0, Events: events };
  }
  /** Tells Azure the VM is ready: the event may start now instead of at NotBefore. */
  async approve(eventId, timeoutMs = 5e3) {
    await this.call("POST", EVENTS, timeoutMs, JSON.stringify({ StartRequests: [{ EventId: eventId }] }));
  }
  async call(method, path, timeoutMs, body) {
    let answer;
    try {
      answer = await send(`${this.baseUrl.replace(/\/+$/, "")}${path}`, {
        method,
        headers: { Metadata: "true", ...body ? { "content-type": "application/json" } : {} },
        body,
        timeoutMs
      });
    } catch (error) {
      const e = error;
      throw new ImdsError(e.kind ?? "connection", e.message);
    }
    if (answer.status >= 400) throw new ImdsError("status", `IMDS answered ${answer.status}`);
    if (!answer.text) return void 0;
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new ImdsError("garbage", "IMDS answered something that is not JSON");
    }
  }
};

// agent/src/log.ts
var Logger = class {
  constructor(format, write = (line) => process.stdout.write(`${line}
`)) {
    this.format = format;
    this.write = write;
  }
  format;
  write;
  secrets = /* @__PURE__ */ new Set();
  quiet = /* @__PURE__ */ new Set();
  secret(value) {
    if (value && value.length >= 6) this.secrets.add(value);
  }
  log(level, message, fields = {}) {
    const time = (/* @__PURE__ */ new Date()).toISOString();
    const line = this.format === "json" ? JSON.stringify({ time, level, msg: message, ...fields }) : `${time} ${level.toUpperCase().padEnd(5)} ${message}${Object.keys(fields).length ? ` ${Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")}` : ""}`;
    this.write(this.redact(line));
  }
  info(message, fields) {
    this.log("info", message, fields);
  }
  warn(message, fields) {
    this.log("warn", message, fields);
  }
  error(message, fields) {
    this.log("error", message, fields);
  }
  /** Logs a failure the first time it happens; later identical ones are counted silently. */
  once(kind, level, message, fields) {
    if (this.quiet.has(kind)) return;
    this.quiet.add(kind);
    this.log(level, message, fields);
  }
  /** The failure of that kind is over: log that, and let the next one be logged again. */
  recovered(kind, message) {
    if (!this.quiet.delete(kind)) return;
    this.log("info", message);
  }
  redact(line) {
    let out = line;
    for (const s of this.secrets) out = out.split(s).join("***");
    return out;
  }
};

// agent/src/log-file.ts
var import_node_fs2 = require("node:fs");
var LOG_FILE_MAX_BYTES = 10 * 2 ** 20;
function logFileWriter(path, maxBytes = LOG_FILE_MAX_BYTES) {
  (0, import_node_fs2.appendFileSync)(path, "");
  let size = (0, import_node_fs2.statSync)(path).size;
  return (line) => {
    const data = Buffer.from(`${line}
`);
    try {
      if (size > 0 && size + data.length > maxBytes) {
        (0, import_node_fs2.renameSync)(path, `${path}.1`);
        size = 0;
      }
      (0, import_node_fs2.appendFileSync)(path, data);
      size += data.length;
    } catch {
    }
  };
}

// src/azure/resource-id.ts
var RESOURCE_GROUP = String.raw`[\p{L}\p{N}_().-]{0,89}[\p{L}\p{N}_()-]`;
var VM_NAME = String.raw`[A-Za-z0-9_.-]{1,64}`;
var GUID = String.raw`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`;
var GUID_PATTERN = new RegExp(`^${GUID}$`);
var RESOURCE_GROUP_PATTERN = new RegExp(`^${RESOURCE_GROUP}$`, "u");
var VM_NAME_PATTERN = new RegExp(`^${VM_NAME}$`);
var INSTANCE_ID = String.raw`\d{1,10}`;
var INSTANCE_ID_PATTERN = new RegExp(`^${INSTANCE_ID}$`);
var VM_RESOURCE_ID_PATTERN = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RESOURCE_GROUP})/providers/Microsoft\\.Compute/(?:virtualMachines/(${VM_NAME})|virtualMachineScaleSets/(${VM_NAME})/virtualMachines/(${INSTANCE_ID}))$`,
  "iu"
);
var MAX_RESOURCE_ID_LENGTH = 1024;

// src/plan/payload.ts
var PAYLOAD_SCHEMA = "azure-spot-restarter/v1";
var IMDS_EVENT_TYPES = ["Freeze", "Reboot", "Redeploy", "Preempt", "Terminate"];
var EVICTION_POLICIES = ["Deallocate", "Delete"];
var MAX_TOP_LEVEL_PROPERTIES = 10;
var MAX_PAYLOAD_BYTES = 64 * 1024;
var ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
var SEMVER = /^\d{1,5}\.\d{1,5}\.\d{1,5}(-[0-9A-Za-z.-]{1,40})?$/;
var oneOf = (allowed) => (v) => allowed.includes(v) ? void 0 : `must be one of ${allowed.join(", ")}`;
var matches = (pattern, expected, maxLength) => (v) => v.length > maxLength ? `is ${v.length} characters long; at most ${maxLength} are allowed` : pattern.test(v) ? void 0 : `must be ${expected}`;
var isoDate = (v) => ISO_8601.test(v) && !Number.isNaN(Date.parse(v)) ? void 0 : "must be an ISO-8601 date-time such as 2026-04-11T22:26:58Z";
var FIELDS = {
  schema: { required: true, check: oneOf([PAYLOAD_SCHEMA]) },
  vmResourceId: {
    required: true,
    check: matches(
      VM_RESOURCE_ID_PATTERN,
      "a VM resource ID: /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name> (or \u2026/virtualMachineScaleSets/<name>/virtualMachines/<instance id>)",
      MAX_RESOURCE_ID_LENGTH
    )
  },
  vmId: { required: true, check: matches(GUID_PATTERN, "a GUID (the IMDS vmId)", 36) },
  eventId: { required: true, check: matches(GUID_PATTERN, "a GUID (the IMDS EventId)", 36) },
  eventType: { required: true, check: oneOf(IMDS_EVENT_TYPES) },
  notBefore: { required: false, check: isoDate },
  detectedAt: { required: true, check: isoDate },
  evictionPolicy: { required: false, check: oneOf(EVICTION_POLICIES) },
  agentVersion: { required: false, check: matches(SEMVER, "a version such as 1.2.0", 64) }
};
function validatePayload(input) {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, errors: [`client_payload must be a JSON object, got ${describeType(input)}`] };
  }
  const errors = [];
  const record = input;
  const keys = Object.keys(record);
  if (keys.length > MAX_TOP_LEVEL_PROPERTIES) {
    errors.push(
      `client_payload has ${keys.length} top-level properties; at most ${MAX_TOP_LEVEL_PROPERTIES} are allowed`
    );
  }
  for (const key of keys) {
    if (!Object.hasOwn(FIELDS, key))
      errors.push(`client_payload.${printable(key)} is not a field of ${PAYLOAD_SCHEMA}`);
  }
  for (const [field, rule] of Object.entries(FIELDS)) {
    const value = record[field];
    if (value === void 0 || value === null) {
      if (rule.required) errors.push(`client_payload.${field} is required`);
      continue;
    }
    if (typeof value !== "string") {
      errors.push(`client_payload.${field} must be a string, got ${describeType(value)}`);
      continue;
    }
    const problem = rule.check(value);
    if (problem) errors.push(`client_payload.${field} ${problem} (got ${quote(value)})`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, payload: record };
}
function buildPayload(fields) {
  const payload = { schema: PAYLOAD_SCHEMA };
  for (const [key, value] of Object.entries(fields))
    if (value !== void 0 && value !== "") payload[key] = value;
  const result = validatePayload(payload);
  if (!result.ok) throw new Error(`invalid dispatch payload: ${result.errors.join("; ")}`);
  return result.payload;
}
function describeType(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
function quote(value, max = 80) {
  const shown = printable(value.length > max ? `${value.slice(0, max)}\u2026` : value);
  return `"${shown}"${value.length > max ? ` (${value.length} characters)` : ""}`;
}
function printable(value) {
  return value.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  );
}

// agent/src/dispatch.ts
init_http();
init_github_headers();
var SECONDARY_WAIT_MS = 6e4;
function sleepUnless(signal) {
  return (ms) => new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
async function sendDispatch(o) {
  const sleep = o.sleep ?? sleepUnless(o.signal);
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    let status;
    let retryAfterMs;
    let why;
    try {
      const token = await o.credentials.token();
      const response = await send(`${o.apiUrl.replace(/\/+$/, "")}/repos/${o.repository}/dispatches`, {
        method: "POST",
        headers: githubHeaders(token, true),
        body: JSON.stringify({ event_type: o.eventType, client_payload: o.payload }),
        timeoutMs: 1e4,
        onWritten: () => o.onWritten?.(attempt)
      });
      status = response.status;
      if (status === 204 || status === 200) return { ok: true, attempts: attempt, status };
      const message = safeMessage(response.text);
      retryAfterMs = retryAfter(response, now);
      const secondary = /secondary rate limit/i.test(message);
      const rateLimited = status === 429 || status === 403 && (retryAfterMs !== void 0 || header(response, "x-ratelimit-remaining") === "0" || secondary);
      if (rateLimited && retryAfterMs === void 0 && secondary) retryAfterMs = SECONDARY_WAIT_MS;
      if (status === 401 && o.credentials.kind === "github-app" && !refreshed) {
        o.credentials.invalidate();
        refreshed = true;
        attempt--;
        continue;
      }
      if (!rateLimited && [400, 401, 403, 404, 422].includes(status)) {
        return {
          ok: false,
          attempts: attempt,
          status,
          retryable: false,
          reason: advice(status, o.repository, message)
        };
      }
      why = rateLimited ? `rate limited (${status})` : `GitHub answered ${status}`;
    } catch (error) {
      why = `request failed: ${error.message}`;
    }
    const least = Math.min(retryAfterMs ?? Math.min(5e3, 250 * 2 ** (attempt - 1)), 6e4);
    const slack = o.deadline - now() - least;
    const delay = Math.round(least + random() * Math.max(0, Math.min(least, slack)));
    if (slack < 0)
      return {
        ok: false,
        attempts: attempt,
        status,
        retryable: true,
        reason: `${why}; gave up at the deadline`
      };
    o.onRetry?.(attempt, why, delay);
    await sleep(delay);
    if (o.signal?.aborted)
      return {
        ok: false,
        attempts: attempt,
        status,
        retryable: true,
        reason: `${why}; the agent is stopping`
      };
  }
}
function retryAfter(response, now) {
  const value = header(response, "retry-after");
  if (value && /^\d+$/.test(value)) return Number(value) * 1e3;
  if (header(response, "x-ratelimit-remaining") === "0") {
    const reset = Number(header(response, "x-ratelimit-reset"));
    if (reset) return Math.max(1e3, reset * 1e3 - now());
  }
  return void 0;
}
function safeMessage(text) {
  try {
    const body = JSON.parse(text);
    return String(body.message ?? "").slice(0, 300);
  } catch {
    return text.slice(0, 200);
  }
}
function advice(status, repository, message) {
  switch (status) {
    case 401:
      return `GitHub refused the credentials (401 ${message}): the token is wrong, expired or revoked`;
    case 403:
      return `GitHub refused the dispatch (403 ${message}): the token needs "Contents: write" on ${repository} (fine-grained token or GitHub App) or the "repo" scope (classic token)`;
    case 404:
      return `GitHub answered 404 for ${repository}: the repository does not exist, or the token cannot see it (check --repository and the token's repository access)`;
    case 422:
      return `GitHub refused the payload (422 ${message}): check --event-type`;
    default:
      return `GitHub answered ${status} ${message}`;
  }
}

// agent/src/wave.ts
init_github_headers();
init_http();
var RECENT_DISPATCHES_TO_HOLD_BACK = 60;
var WINDOW_MS = 6e4;
var TIMEOUT_MS = 2e3;
async function recentDispatches(o) {
  const since = new Date((o.now ?? Date.now)() - WINDOW_MS).toISOString().replace(/\.\d{3}Z$/, "Z");
  const query = new URLSearchParams({ event: "repository_dispatch", created: `>=${since}`, per_page: "1" });
  try {
    const answer = await send(
      `${o.apiUrl.replace(/\/+$/, "")}/repos/${o.repository}/actions/runs?${query.toString()}`,
      { headers: githubHeaders(o.token), timeoutMs: TIMEOUT_MS }
    );
    if (answer.status !== 200) return void 0;
    const count = JSON.parse(answer.text).total_count;
    return typeof count === "number" ? count : void 0;
  } catch {
    return void 0;
  }
}
function dispatchDeadline(notBefore, now) {
  return notBefore === void 0 ? now : Math.max(now, notBefore);
}
async function dispatchInWave(o) {
  const recent = await recentDispatches({
    apiUrl: o.apiUrl,
    repository: o.repository,
    token: await o.credentials.token().catch(() => ""),
    now: o.now
  });
  if (recent !== void 0 && recent >= RECENT_DISPATCHES_TO_HOLD_BACK)
    return { ok: false, heldBack: recent };
  return sendDispatch(o);
}

// agent/src/monitor.ts
init_version();
var EXIT_NOT_SPOT = 78;
var DRAIN_WAIT_MS = 2e3;
function settledWithin(promise, ms) {
  let timer;
  const cap = new Promise(
    (resolve) => timer = setTimeout(() => resolve(void 0), Math.max(0, ms))
  );
  return Promise.race([promise, cap]).finally(() => clearTimeout(timer));
}
var Monitor = class {
  constructor(d) {
    this.d = d;
  }
  d;
  stopped = false;
  stopping = new AbortController();
  wake;
  inFlight = /* @__PURE__ */ new Map();
  watching = /* @__PURE__ */ new Map();
  vm;
  stop() {
    this.stopped = true;
    this.stopping.abort();
    this.wake?.();
  }
  /** Runs until stopped; resolves with the exit code. */
  async run() {
    const vm = await this.waitForCompute();
    if (!vm) return 0;
    this.vm = vm;
    const spot = vm.priority.toLowerCase() === "spot";
    this.d.log.info("watching Scheduled Events", {
      vm: vm.name,
      resourceId: vm.resourceId,
      priority: vm.priority || "Regular",
      evictionPolicy: vm.evictionPolicy || "-",
      repository: this.d.config.repository,
      dryRun: this.d.config.dryRun
    });
    if (!spot) {
      this.d.log.warn("this VM is not a Spot VM: Azure never preempts it", {
        priority: vm.priority || "Regular"
      });
      if (!this.d.config.allowNonSpot) return EXIT_NOT_SPOT;
    }
    let failures = 0;
    let first = true;
    while (!this.stopped) {
      const began = Date.now();
      try {
        const doc = await this.d.imds.events(
          first ? 12e4 : Math.max(5e3, this.d.config.pollIntervalMs * 3)
        );
        first = false;
        if (failures > 0)
          this.d.log.recovered("imds", `Scheduled Events reachable again after ${failures} failed poll(s)`);
        failures = 0;
        this.look(doc.Events);
      } catch (error) {
        failures++;
        const kind = error instanceof ImdsError ? error.kind : "error";
        this.d.log.once(
          "imds",
          "warn",
          `Scheduled Events poll failed (${kind}): ${error.message}; retrying with backoff`,
          { kind }
        );
      }
      const interval = nextPollMs(this.d.config.pollIntervalMs, failures);
      await this.pause(Math.max(0, interval - (Date.now() - began)));
    }
    await Promise.all(this.inFlight.values());
    return 0;
  }
  look(events) {
    const vm = this.vm;
    const ids = new Set(events.map((e) => e.EventId.toLowerCase()));
    for (const [id, event] of this.watching) {
      if (!ids.has(id)) {
        this.watching.delete(id);
        if (event.EventStatus === "Scheduled")
          this.d.log.info("event withdrawn before it started", {
            eventId: event.EventId,
            eventType: event.EventType
          });
        else this.d.log.info("event finished", { eventId: event.EventId, eventType: event.EventType });
      }
    }
    for (const event of events) {
      const wanted = event.EventType === "Preempt" || this.d.config.alsoTerminate && event.EventType === "Terminate";
      const mine = event.Resources.some((r) => r.toLowerCase() === vm.name.toLowerCase());
      if (!wanted || !mine) continue;
      const id = event.EventId.toLowerCase();
      this.watching.set(id, event);
      if (this.d.state.isDone(id) || this.inFlight.has(id)) continue;
      const work = this.handle(event).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, work);
    }
  }
  async handle(event) {
    const detected = Date.now();
    const vm = this.vm;
    const { config, log, state } = this.d;
    const notBefore = event.NotBefore ? new Date(Date.parse(event.NotBefore)) : void 0;
    const fields = {
      eventId: event.EventId,
      eventType: event.EventType,
      notBefore: notBefore?.toISOString() ?? "now"
    };
    const retry = state.status(event.EventId) === "pending";
    log.warn(`${event.EventType} scheduled for this VM${retry ? " (resuming after a restart)" : ""}`, fields);
    let payload;
    try {
      payload = buildPayload({
        vmResourceId: vm.resourceId,
        vmId: vm.vmId,
        eventId: event.EventId,
        eventType: event.EventType,
        notBefore: notBefore && !Number.isNaN(notBefore.getTime()) ? notBefore.toISOString() : void 0,
        detectedAt: (/* @__PURE__ */ new Date()).toISOString(),
        evictionPolicy: vm.evictionPolicy ? vm.evictionPolicy[0].toUpperCase() + vm.evictionPolicy.slice(1).toLowerCase() : void 0,
        agentVersion: AGENT_VERSION
      });
    } catch (error) {
      log.error(`cannot build a dispatch payload: ${error.message}`, fields);
      state.set(event.EventId, "refused");
      return;
    }
    if (config.dryRun) {
      log.info("dry run: would send repository_dispatch now", { ...fields, eventTypeSent: config.eventType });
      state.set(event.EventId, "dry-run");
      return;
    }
    state.set(event.EventId, "pending");
    const deadline = dispatchDeadline(
      notBefore && !Number.isNaN(notBefore.getTime()) ? notBefore.getTime() : void 0,
      Date.now()
    );
    const dispatched = dispatchInWave({
      apiUrl: config.githubApiUrl,
      repository: config.repository,
      eventType: config.eventType,
      payload,
      credentials: this.d.credentials,
      deadline,
      signal: this.stopping.signal,
      onWritten: (attempt) => log.info("dispatch request written", { ...fields, attempt }),
      onRetry: (attempt, why, delayMs) => log.warn(`dispatch attempt ${attempt} failed: ${why}; retrying in ${delayMs} ms`, fields)
    }).then((result) => {
      if ("heldBack" in result) {
        log.warn(
          `repository_dispatch held back: ${result.heldBack} dispatches reached ${config.repository} in the last minute, near GitHub's limit of 80 a minute for one token; the run they started takes this VM with its sweep`,
          fields
        );
        state.set(event.EventId, "held-back");
        return result;
      }
      if (result.ok) {
        log.info("repository_dispatch sent", {
          ...fields,
          repository: config.repository,
          attempts: result.attempts
        });
        state.set(event.EventId, "dispatched", result.attempts);
      } else {
        log.error(`repository_dispatch not sent: ${result.reason}`, {
          ...fields,
          attempts: result.attempts
        });
        state.set(event.EventId, result.retryable ? "pending" : "refused", result.attempts);
      }
      return result;
    });
    if (config.onPreempt) {
      const answered = await settledWithin(dispatched, DRAIN_WAIT_MS - (Date.now() - detected));
      await this.drain(event, payload, {
        dispatch: answered === void 0 ? "no answer yet" : answered.ok ? "accepted" : "failed",
        waitedMs: Date.now() - detected
      });
    }
    await dispatched;
  }
  async drain(event, payload, why) {
    const { config, log } = this.d;
    const { runHook: runHook2 } = await Promise.resolve().then(() => (init_hooks(), hooks_exports));
    const result = await runHook2(
      config.onPreempt,
      {
        SPOT_EVENT_ID: event.EventId,
        SPOT_EVENT_TYPE: event.EventType,
        SPOT_NOT_BEFORE: payload.notBefore ?? "",
        SPOT_VM_NAME: this.vm.name,
        SPOT_VM_RESOURCE_ID: this.vm.resourceId
      },
      config.hookTimeoutMs,
      (line) => log.info(`drain: ${line}`),
      (pid) => log.info("drain command started", { eventId: event.EventId, pid, ...why })
    );
    log.info(result.timedOut ? "drain command stopped at its timeout" : "drain command finished", {
      eventId: event.EventId,
      exitCode: result.exitCode,
      durationMs: result.durationMs
    });
    if (!config.approve) return;
    try {
      await this.d.imds.approve(event.EventId);
      log.info("event approved: Azure may evict now", { eventId: event.EventId });
    } catch (error) {
      log.warn(`could not approve the event: ${error.message}`, { eventId: event.EventId });
    }
  }
  async waitForCompute() {
    let delay = 1e3;
    while (!this.stopped) {
      try {
        const vm = await this.d.imds.compute();
        this.d.log.recovered("compute", "IMDS compute metadata reachable");
        return vm;
      } catch (error) {
        this.d.log.once(
          "compute",
          "warn",
          `IMDS compute metadata not reachable yet: ${error.message}; retrying`
        );
        await this.pause(delay);
        delay = Math.min(3e4, delay * 2);
      }
    }
    return void 0;
  }
  pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
};
var MAX_BACKOFF_MS = 1e4;
function nextPollMs(pollIntervalMs, failures) {
  if (failures <= 0) return pollIntervalMs;
  return Math.min(MAX_BACKOFF_MS, pollIntervalMs * 2 ** Math.min(failures - 1, 4));
}

// agent/src/state.ts
var import_node_fs3 = require("node:fs");
var import_node_path = require("node:path");
var KEEP_MS = 7 * 864e5;
var EventState = class {
  constructor(path, onWarning = () => void 0) {
    this.path = path;
    this.onWarning = onWarning;
    try {
      const parsed = JSON.parse((0, import_node_fs3.readFileSync)(path, "utf8"));
      if (parsed && parsed.version === 1 && typeof parsed.events === "object") this.data = parsed;
    } catch (error) {
      if (error.code !== "ENOENT")
        onWarning(`state file ${path} unreadable (${error.message}); starting empty`);
    }
  }
  path;
  onWarning;
  data = { version: 1, events: {} };
  status(eventId) {
    return this.data.events[eventId.toLowerCase()]?.status;
  }
  /** Done means nothing more to do for it: dispatched, refused for good, or seen in a dry run. */
  isDone(eventId) {
    const s = this.status(eventId);
    return s !== void 0 && s !== "pending";
  }
  /** The most recently seen event on record, if any. */
  lastSeen() {
    let last;
    for (const [eventId, e] of Object.entries(this.data.events)) {
      const seenAt = Date.parse(e.seenAt ?? e.at);
      if (Number.isFinite(seenAt) && (!last || seenAt > last.seenAt))
        last = { eventId, status: e.status, seenAt };
    }
    return last;
  }
  set(eventId, status, attempts) {
    const now = Date.now();
    for (const [id, e] of Object.entries(this.data.events))
      if (now - Date.parse(e.at) > KEEP_MS) delete this.data.events[id];
    const key = eventId.toLowerCase();
    this.data.events[key] = {
      status,
      at: new Date(now).toISOString(),
      seenAt: this.data.events[key]?.seenAt ?? new Date(now).toISOString(),
      ...attempts ? { attempts } : {}
    };
    try {
      (0, import_node_fs3.mkdirSync)((0, import_node_path.dirname)(this.path), { recursive: true, mode: 448 });
      const temp = `${this.path}.${process.pid}.tmp`;
      (0, import_node_fs3.writeFileSync)(temp, JSON.stringify(this.data, null, 2), { mode: 384 });
      (0, import_node_fs3.renameSync)(temp, this.path);
    } catch (error) {
      this.onWarning(`could not write the state file ${this.path}: ${error.message}`);
    }
  }
};

// agent/src/main.ts
init_version();
async function main() {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`azure-spot-restarter-agent: ${error.message}
`);
      return 2;
    }
    throw error;
  }
  if (config.help) {
    process.stdout.write(`${helpText(AGENT_VERSION)}
`);
    return 0;
  }
  if (config.version) {
    process.stdout.write(`${AGENT_VERSION}
`);
    return 0;
  }
  let toFile;
  try {
    toFile = config.logFile === void 0 ? void 0 : logFileWriter(config.logFile);
  } catch (error) {
    process.stderr.write(
      `azure-spot-restarter-agent: --log-file (SPOT_AGENT_LOG_FILE) is "${config.logFile}": ${error.message}; expected a file the agent may write, in a folder that exists
`
    );
    return 2;
  }
  const log = new Logger(config.logFormat, (line) => {
    toFile?.(line);
    process.stdout.write(`${line}
`);
  });
  log.secret(config.token);
  const imds = new Imds(config.imdsUrl);
  if (config.check) return check(config, imds, log, (line) => process.stdout.write(`${line}
`));
  let credentials;
  if (!config.dryRun) {
    try {
      credentials = loadCredentials(config, log);
    } catch (error) {
      if (error instanceof CredentialError) {
        log.error(error.message);
        return 2;
      }
      throw error;
    }
  }
  const state = new EventState(config.stateFile, (message) => log.warn(message));
  const back = backAfterEviction(state.lastSeen(), Date.now(), (0, import_node_os.uptime)());
  if (back)
    log.info(
      `back after the event it last saw: booted ${back.downToBootS} s after it, watching again ${back.downToAgentS} s after it`,
      { ...back }
    );
  const monitor = new Monitor({ config, imds, log, state, credentials });
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      log.info(`${signal}: stopping`);
      monitor.stop();
    });
  }
  log.info(`azure-spot-restarter-agent ${AGENT_VERSION} starting`, {
    credentials: credentials?.kind ?? "none (dry run)",
    pollIntervalMs: config.pollIntervalMs
  });
  return monitor.run();
}
main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `azure-spot-restarter-agent: unexpected error: ${error?.stack ?? error}
`
    );
    process.exit(1);
  }
);
