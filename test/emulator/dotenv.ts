/**
 * The emulator's settings as a dotenv file (`npm run emulator -- --write-env .env`): what
 * `@github/local-action` (and the CI job that runs `uses: ./`) need to run the action against
 * it. Inputs are named as the runner names them, `INPUT_` + the input's name in upper case with
 * its dashes kept; `.env.example` documents each line.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FleetSpec } from './fleets/fleet.js';
import type { Emulator } from './server.js';

export interface DotenvOptions {
  /** Event the local run pretends to be; a workflow_dispatch without `vms` is a sweep. */
  eventName?: string;
  dryRun?: boolean;
}

export function emulatorEnv(emulator: Emulator, fleet: FleetSpec, options: DotenvOptions = {}) {
  const app = emulator.apps[0]!;
  if (!app.secret)
    throw new Error(
      `the fleet's first app (${app.clientId}) has no "secret": @github/local-action cannot issue GitHub OIDC tokens (its getIDToken throws), so a local run signs in with a client secret; add "secret" to the app in the fleet file`
    );
  // The event and the summary live beside the emulator's CA, in its own temporary folder.
  const folder = dirname(emulator.caFile);
  const eventPath = join(folder, 'event.json');
  const summaryPath = join(folder, 'step-summary.md');
  const eventName = options.eventName ?? 'workflow_dispatch';
  writeFileSync(eventPath, JSON.stringify(eventName === 'workflow_dispatch' ? { inputs: {} } : {}));
  writeFileSync(summaryPath, '');
  return {
    inputs: {
      'INPUT_CLIENT-ID': app.clientId,
      'INPUT_TENANT-ID': emulator.tenantId,
      'INPUT_CLIENT-SECRET': app.secret,
      INPUT_SUBSCRIPTIONS: fleet.subscriptions.join(','),
      'INPUT_RESOURCE-MANAGER-ENDPOINT': emulator.url,
      'INPUT_AUTHORITY-HOST': emulator.url,
      'INPUT_POLL-INTERVAL': '200ms',
      'INPUT_DRY-RUN': String(options.dryRun ?? false)
    },
    environment: {
      ...emulator.processEnv(),
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      GITHUB_REPOSITORY: emulator.github.repository,
      GITHUB_REF: `refs/heads/${emulator.github.defaultBranch ?? 'main'}`,
      GITHUB_API_URL: emulator.url,
      RUNNER_TEMP: folder,
      ACTIONS_STEP_DEBUG: 'false',
      EMULATOR_URL: emulator.url
    }
  };
}

/** Writes the file whole (a rename), so whoever waits for it never reads half of it. */
export function writeDotenv(path: string, env: ReturnType<typeof emulatorEnv>): void {
  const line = ([k, v]: [string, string]) => `${k}=${quote(v)}`;
  const text = [
    '# Written by `npm run emulator -- --write-env`; valid while that emulator runs.',
    '# Each variable is described in .env.example.',
    '# Inputs (action.yml), named as the runner passes them: INPUT_ + NAME, dashes kept.',
    ...Object.entries(env.inputs).map(line),
    '# Environment of the action process.',
    ...Object.entries(env.environment).map(line),
    ''
  ].join('\n');
  writeFileSync(`${path}.partial`, text, { mode: 0o600 });
  renameSync(`${path}.partial`, path);
}

/** Values stay bare unless they hold something dotenv would read differently. */
function quote(value: string): string {
  if (/[\n"'#\s]/.test(value)) throw new Error(`cannot write ${JSON.stringify(value)} to a dotenv file`);
  return value;
}
