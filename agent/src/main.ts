/** The agent's entry point: options, then `--help`, `--version`, `--check`, or the watch until SIGTERM. */
import { uptime } from 'node:os';
import { backAfterEviction } from './back-after-eviction.js';
import { check } from './check.js';
import { ConfigError, helpText, parseConfig, type Config } from './config.js';
import { CredentialError, loadCredentials, type Credentials } from './credentials.js';
import { Imds } from './imds.js';
import { Logger } from './log.js';
import { logFileWriter } from './log-file.js';
import { Monitor } from './monitor.js';
import { EventState } from './state.js';
import { AGENT_VERSION } from './version.js';

async function main(): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`azure-spot-restarter-agent: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (config.help) {
    process.stdout.write(`${helpText(AGENT_VERSION)}\n`);
    return 0;
  }
  if (config.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  let toFile: ((line: string) => void) | undefined;
  try {
    toFile = config.logFile === undefined ? undefined : logFileWriter(config.logFile);
  } catch (error) {
    process.stderr.write(
      `azure-spot-restarter-agent: --log-file (SPOT_AGENT_LOG_FILE) is "${config.logFile}": ${(error as Error).message}; expected a file the agent may write, in a folder that exists\n`
    );
    return 2;
  }
  // The file first: it is the record that lasts, and whoever sees a line on stdout finds it there.
  const log = new Logger(config.logFormat, line => {
    toFile?.(line);
    process.stdout.write(`${line}\n`);
  });
  log.secret(config.token);
  const imds = new Imds(config.imdsUrl);
  if (config.check) return check(config, imds, log, line => process.stdout.write(`${line}\n`));

  let credentials: Credentials | undefined;
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
  const state = new EventState(config.stateFile, message => log.warn(message));
  const back = backAfterEviction(state.lastSeen(), Date.now(), uptime());
  if (back)
    log.info(
      `back after the event it last saw: booted ${back.downToBootS} s after it, watching again ${back.downToAgentS} s after it`,
      { ...back }
    );
  const monitor = new Monitor({ config, imds, log, state, credentials });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      log.info(`${signal}: stopping`);
      monitor.stop();
    });
  }
  log.info(`azure-spot-restarter-agent ${AGENT_VERSION} starting`, {
    credentials: credentials?.kind ?? 'none (dry run)',
    pollIntervalMs: config.pollIntervalMs
  });
  return monitor.run();
}

main().then(
  code => process.exit(code),
  error => {
    process.stderr.write(
      `azure-spot-restarter-agent: unexpected error: ${(error as Error)?.stack ?? error}\n`
    );
    process.exit(1);
  }
);
