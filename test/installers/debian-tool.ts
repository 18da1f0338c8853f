/**
 * The installers are checked with the platforms' own tools, from Debian. Where one is missing, a
 * test that needs it is skipped and says which package gives it; in CI (CI=true) it runs anyway,
 * and fails, because CI installs every one (scripts/install-installer-tools.sh).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { test } from '@jest/globals';

type TestFn = (name: string, fn: () => void | Promise<void>) => void;

export interface DebianTool {
  /** `test`, or `test.skip` with the reason in its title when the tool is missing outside CI. */
  test: TestFn;
  run(args: string[], options?: { input?: string }): SpawnSyncReturns<string>;
}

export function debianTool(command: string, debianPackage: string): DebianTool {
  const found = !spawnSync(command, ['--version'], { stdio: 'ignore' }).error;
  const missing = `${command} is not installed (Debian package ${debianPackage}: scripts/install-installer-tools.sh)`;
  if (!found && process.env.CI !== 'true') console.warn(`${missing}: skipping the tests that need it.`);
  return {
    test:
      found || process.env.CI === 'true'
        ? (name, fn) => test(name, fn)
        : (name, fn) => test.skip(`${name} [skipped: ${missing}]`, fn),
    run(args, options = {}) {
      const result = spawnSync(command, args, { encoding: 'utf8', input: options.input });
      if (result.error) throw new Error(`${missing}: ${result.error.message}`);
      return result;
    }
  };
}
