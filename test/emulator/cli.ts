/**
 * `npm run emulator -- --fleet <file.json|file.yml> [--time-scale 100] [--latency-ms 0]`:
 * the emulator as a standing process, for trying the action (or the agent) by hand. Prints the
 * environment that points them at it, then serves until Ctrl-C. Admin endpoints:
 *   GET  /_emulator/state                        VMs, power states, annotations, runs
 *   POST /_emulator/evict     {"vms":["name"], "cause":"capacity"|"price"|"simulated"}
 *   POST /_emulator/capacity  {"location","vmSize","capacity","zone"?}
 *   POST /_emulator/schedule  {"workflow"?}       run the schedule workflows now
 * `--write-env <file>` also writes the inputs, endpoints and CA as a dotenv file, for
 * `npm run local-action` and the CI job that runs `uses: ./` (see dotenv.ts, .env.example).
 * It stops on SIGINT and SIGTERM, sent to it or to npm, and removes every file it made (its CA, the
 * runs' RUNNER_TEMP) as it stops.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { emulatorEnv, writeDotenv } from './dotenv.js';
import type { FleetSpec } from './fleets/fleet.js';
import { scratchTmpdir, stopOnSignals } from './scratch.js';
import { Emulator } from './server.js';

const { values } = parseArgs({
  options: {
    fleet: { type: 'string' },
    'time-scale': { type: 'string', default: '1' },
    'latency-ms': { type: 'string', default: '0' },
    'write-env': { type: 'string' },
    help: { type: 'boolean', default: false }
  }
});

if (values.help || !values.fleet) {
  console.log(
    'Usage: npm run emulator -- --fleet <fleet.json|fleet.yml> [--time-scale N] [--latency-ms N] [--write-env .env]'
  );
  process.exit(values.help ? 0 : 2);
}

const text = readFileSync(values.fleet, 'utf8');
const fleet = (values.fleet.endsWith('.json') ? JSON.parse(text) : parse(text)) as FleetSpec;
if (!Array.isArray(fleet.subscriptions) || !Array.isArray(fleet.vms)) {
  console.error(`${values.fleet}: a fleet needs "subscriptions" (a list of GUIDs) and "vms" (a list of VMs)`);
  process.exit(2);
}
const scratch = scratchTmpdir('azure-spot-restarter-emulator-');
const emulator = await Emulator.start({
  fleet,
  timeScale: Number(values['time-scale']),
  latencyMs: Number(values['latency-ms'])
});
const env = {
  ...emulator.processEnv(),
  'INPUT_RESOURCE-MANAGER-ENDPOINT': emulator.url,
  'INPUT_AUTHORITY-HOST': emulator.url,
  'INPUT_CLIENT-ID': emulator.apps[0]!.clientId,
  'INPUT_TENANT-ID': emulator.tenantId,
  INPUT_SUBSCRIPTIONS: fleet.subscriptions.join(','),
  ...(emulator.apps[0]!.secret ? { 'INPUT_CLIENT-SECRET': emulator.apps[0]!.secret } : {}),
  GITHUB_API_URL: emulator.url
};
console.log(
  `Emulator listening on ${emulator.url} (IMDS ${emulator.imdsUrl}), ${fleet.vms.length} VMs, time scale ${values['time-scale']}.`
);
// INPUT_ names hold dashes, which `export` refuses: hand them to `env` instead.
console.log(
  "Run the action against it (the fleet's app needs a secret; or POST /_emulator/schedule to run the workflows):\n"
);
console.log(
  `env ${Object.entries(env)
    .map(([k, v]) => `'${k}=${v}'`)
    .join(' \\\n  ')} \\\n  GITHUB_EVENT_NAME=workflow_dispatch node dist/index.js\n`
);
console.log('VM IMDS addresses (for the agent):');
for (const vm of emulator.model.vms.values()) console.log(`  ${vm.name}: ${emulator.imdsFor(vm)}`);
if (values['write-env']) {
  writeDotenv(values['write-env'], emulatorEnv(emulator, fleet));
  console.log(`\nWrote ${values['write-env']}: run the action with \`npm run local-action\`.`);
}
stopOnSignals(async () => {
  await emulator.stop();
  scratch.remove();
});
console.log('\nServing until Ctrl-C (SIGINT) or SIGTERM.');
