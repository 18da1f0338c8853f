/**
 * The agent's options: one table gives each its flag, its environment twin, its default and its
 * help text; `--help` and the operator docs come from it. Values are validated here, once.
 */
export interface Config {
  repository: string;
  eventType: string;
  githubApiUrl: string;
  imdsUrl: string;
  pollIntervalMs: number;
  alsoTerminate: boolean;
  onPreempt?: string;
  hookTimeoutMs: number;
  approve: boolean;
  stateFile: string;
  tokenFile?: string;
  token?: string;
  appId?: string;
  installationId?: string;
  privateKeyFile?: string;
  logFormat: 'text' | 'json';
  logFile?: string;
  /** The opt-in tag, only for --check: the action decides eligibility, the agent only reports. */
  tag: string;
  allowNonSpot: boolean;
  dryRun: boolean;
  check: boolean;
  help: boolean;
  version: boolean;
}

type Kind = 'string' | 'boolean' | 'duration';
interface Option {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  default?: string;
  help: string;
  secret?: boolean;
}

export const OPTIONS: Option[] = [
  {
    key: 'repository',
    flag: '--repository',
    env: 'SPOT_AGENT_REPOSITORY',
    kind: 'string',
    help: 'owner/repo that holds the restart workflow (required)'
  },
  {
    key: 'eventType',
    flag: '--event-type',
    env: 'SPOT_AGENT_EVENT_TYPE',
    kind: 'string',
    default: 'spot-vm-preempted',
    help: 'repository_dispatch event type the workflow listens to'
  },
  {
    key: 'githubApiUrl',
    flag: '--github-api-url',
    env: 'SPOT_AGENT_GITHUB_API_URL',
    kind: 'string',
    default: 'https://api.github.com',
    help: 'GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3)'
  },
  {
    key: 'imdsUrl',
    flag: '--imds-url',
    env: 'SPOT_AGENT_IMDS_URL',
    kind: 'string',
    default: 'http://169.254.169.254',
    help: 'Instance Metadata Service; change it only for testing'
  },
  {
    key: 'pollIntervalMs',
    flag: '--poll-interval',
    env: 'SPOT_AGENT_POLL_INTERVAL',
    kind: 'duration',
    default: '1s',
    help: 'how often Scheduled Events are polled (IMDS allows 5 requests a second)'
  },
  {
    key: 'alsoTerminate',
    flag: '--also-terminate',
    env: 'SPOT_AGENT_ALSO_TERMINATE',
    kind: 'boolean',
    default: 'false',
    help: 'also dispatch on Terminate events, not only Preempt'
  },
  {
    key: 'onPreempt',
    flag: '--on-preempt',
    env: 'SPOT_AGENT_ON_PREEMPT',
    kind: 'string',
    help: 'drain command, run (by the shell) once GitHub has answered the dispatch (2 s at most), with the event in its environment'
  },
  {
    key: 'hookTimeoutMs',
    flag: '--hook-timeout',
    env: 'SPOT_AGENT_HOOK_TIMEOUT',
    kind: 'duration',
    default: '25s',
    help: 'the drain command is stopped after this long'
  },
  {
    key: 'approve',
    flag: '--approve',
    env: 'SPOT_AGENT_APPROVE',
    kind: 'boolean',
    default: 'false',
    help: 'approve the event (StartRequests) when the drain command ends, so the eviction happens at once'
  },
  {
    key: 'stateFile',
    flag: '--state-file',
    env: 'SPOT_AGENT_STATE_FILE',
    kind: 'string',
    default: '/var/lib/azure-spot-restarter-agent/state.json',
    help: 'where handled EventIds are kept across restarts'
  },
  {
    key: 'appId',
    flag: '--app-id',
    env: 'SPOT_AGENT_APP_ID',
    kind: 'string',
    help: 'GitHub App ID (recommended credentials, with --installation-id and --private-key-file)'
  },
  {
    key: 'installationId',
    flag: '--installation-id',
    env: 'SPOT_AGENT_INSTALLATION_ID',
    kind: 'string',
    help: 'GitHub App installation ID'
  },
  {
    key: 'privateKeyFile',
    flag: '--private-key-file',
    env: 'SPOT_AGENT_PRIVATE_KEY_FILE',
    kind: 'string',
    help: 'GitHub App private key (PEM); refused if others can read it'
  },
  {
    key: 'tokenFile',
    flag: '--token-file',
    env: 'SPOT_AGENT_TOKEN_FILE',
    kind: 'string',
    help: 'file holding a GitHub token; refused if others can read it'
  },
  {
    key: 'token',
    flag: '--token',
    env: 'SPOT_AGENT_GITHUB_TOKEN',
    kind: 'string',
    help: 'GitHub token (prefer the environment variable or a file: flags show in ps)',
    secret: true
  },
  {
    key: 'tag',
    flag: '--tag',
    env: 'SPOT_AGENT_TAG',
    kind: 'string',
    default: 'AttemptRestartAfterEviction=true',
    help: 'the opt-in tag --check looks for (the action decides; this only warns)'
  },
  {
    key: 'logFormat',
    flag: '--log-format',
    env: 'SPOT_AGENT_LOG_FORMAT',
    kind: 'string',
    default: 'text',
    help: 'text or json'
  },
  {
    key: 'logFile',
    flag: '--log-file',
    env: 'SPOT_AGENT_LOG_FILE',
    kind: 'string',
    help: 'also append the log to this file, kept under 10 MiB (the one before as <file>.1): for Windows, which keeps no output of a scheduled task'
  },
  {
    key: 'allowNonSpot',
    flag: '--allow-non-spot',
    env: 'SPOT_AGENT_ALLOW_NON_SPOT',
    kind: 'boolean',
    default: 'false',
    help: 'keep running on a VM that is not Spot (it then only logs)'
  },
  {
    key: 'dryRun',
    flag: '--dry-run',
    env: 'SPOT_AGENT_DRY_RUN',
    kind: 'boolean',
    default: 'false',
    help: 'detect and log, send nothing, run no command'
  },
  {
    key: 'check',
    flag: '--check',
    env: 'SPOT_AGENT_CHECK',
    kind: 'boolean',
    default: 'false',
    help: 'diagnose once (IMDS, Spot, tag, GitHub credentials) and exit 0 or 1'
  },
  { key: 'help', flag: '--help', env: '', kind: 'boolean', default: 'false', help: 'show this help' },
  { key: 'version', flag: '--version', env: '', kind: 'boolean', default: 'false', help: 'show the version' }
];

export class ConfigError extends Error {}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const raw = new Map<keyof Config, string>();
  for (const o of OPTIONS) {
    const value = o.env ? env[o.env] : undefined;
    if (value !== undefined && value !== '') raw.set(o.key, value);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const option = OPTIONS.find(
      o => o.flag === flag || (o.kind === 'boolean' && flag === `--no-${o.flag.slice(2)}`)
    );
    if (!option) throw new ConfigError(`unknown option ${flag}; see --help`);
    if (option.kind === 'boolean') {
      raw.set(option.key, inline ?? String(!flag.startsWith('--no-')));
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    raw.set(option.key, value);
  }
  const config: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const value = raw.get(o.key) ?? o.default;
    if (value === undefined) continue;
    config[o.key] = convert(o, value);
  }
  const c = config as unknown as Config;
  if (c.help || c.version) return c;
  if (!c.repository || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(c.repository)) {
    throw new ConfigError(
      `--repository (SPOT_AGENT_REPOSITORY) is ${c.repository ? `"${c.repository}"` : 'missing'}; expected owner/repo`
    );
  }
  if (!/^[\w.:-]{1,100}$/.test(c.eventType))
    throw new ConfigError(`--event-type is "${c.eventType}"; expected 1–100 letters, digits, . : _ -`);
  for (const [key, flag] of [
    ['githubApiUrl', '--github-api-url'],
    ['imdsUrl', '--imds-url']
  ] as const) {
    try {
      const url = new URL(c[key]);
      if (!['http:', 'https:'].includes(url.protocol)) throw new Error();
    } catch {
      throw new ConfigError(`${flag} is "${c[key]}"; expected an http(s) URL`);
    }
  }
  if (c.pollIntervalMs < 200 || c.pollIntervalMs > 60_000)
    throw new ConfigError('--poll-interval must be from 200ms to 60s (IMDS allows 5 requests a second)');
  if (!['text', 'json'].includes(c.logFormat))
    throw new ConfigError(`--log-format is "${c.logFormat}"; expected text or json`);
  if (
    (c.appId || c.installationId || c.privateKeyFile) &&
    !(c.appId && c.installationId && c.privateKeyFile)
  ) {
    throw new ConfigError(
      'GitHub App credentials need all three of --app-id, --installation-id and --private-key-file'
    );
  }
  return c;
}

function convert(o: Option, value: string): unknown {
  if (o.kind === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    throw new ConfigError(`${o.flag} (${o.env}) is "${value}"; expected true or false`);
  }
  if (o.kind === 'duration') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
    if (!m)
      throw new ConfigError(
        `${o.flag} (${o.env}) is "${value}"; expected a duration such as 500ms, 1s or 2m`
      );
    return Math.round(Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's'] ?? 1000));
  }
  return value;
}

export function helpText(version: string): string {
  const lines = [
    `azure-spot-restarter-agent ${version}`,
    '',
    'Watches Azure Scheduled Events from inside a Spot VM and, when Azure announces a Preempt for',
    'this VM, sends a repository_dispatch so the restart workflow is waiting when the VM goes down.',
    '',
    'Options (each also an environment variable):'
  ];
  for (const o of OPTIONS) {
    lines.push(
      `  ${o.flag.padEnd(20)} ${o.help}${o.default && o.kind !== 'boolean' ? ` (default ${o.default})` : ''}${o.env ? `\n  ${''.padEnd(20)} env ${o.env}` : ''}`
    );
  }
  return lines.join('\n');
}
