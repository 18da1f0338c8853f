/**
 * `--check`: a one-shot diagnosis an operator runs after installing — can we read IMDS, is this a
 * Spot VM with eviction policy Deallocate and the opt-in tag, are Scheduled Events on, and may our
 * GitHub credentials see the repository. Prints a report; exit 0 only if nothing failed.
 */
import type { Config } from './config.js';
import { loadCredentials } from './credentials.js';
import type { Imds } from './imds.js';
import type { Logger } from './log.js';
import { githubHeaders } from './github-headers.js';
import { send } from './http.js';
import { AGENT_VERSION } from './version.js';

type Line = { ok: boolean | 'warn'; what: string };

export async function check(
  config: Config,
  imds: Imds,
  log: Logger,
  print: (line: string) => void
): Promise<number> {
  const lines: Line[] = [];
  const add = (ok: Line['ok'], what: string) => lines.push({ ok, what });
  try {
    const vm = await imds.compute();
    add(true, `IMDS reachable: ${vm.name} (${vm.resourceId})`);
    add(
      vm.priority.toLowerCase() === 'spot',
      `priority ${vm.priority || 'Regular'}${vm.priority.toLowerCase() === 'spot' ? '' : ': Azure never preempts this VM'}`
    );
    const policy = vm.evictionPolicy.toLowerCase();
    add(
      policy === 'deallocate' ? true : 'warn',
      `eviction policy ${vm.evictionPolicy || '-'}${policy === 'deallocate' ? '' : ': only Deallocate VMs can be restarted'}`
    );
    const [name, value] = config.tag.split('=');
    const tag = vm.tagsList.find(t => t.name.toLowerCase() === name!.toLowerCase());
    add(
      tag?.value.toLowerCase() === value?.toLowerCase() ? true : 'warn',
      tag ? `tag ${tag.name}=${tag.value}` : `no tag ${config.tag}: the action will not restart this VM`
    );
  } catch (error) {
    add(
      false,
      `IMDS compute metadata: ${(error as Error).message} (is this an Azure VM? is --imds-url right?)`
    );
  }
  try {
    const doc = await imds.events(120_000);
    add(true, `Scheduled Events on (${doc.Events.length} pending event(s))`);
  } catch (error) {
    add(false, `Scheduled Events: ${(error as Error).message}`);
  }
  try {
    const credentials = loadCredentials(config, log);
    const token = await credentials.token();
    const response = await send(`${config.githubApiUrl.replace(/\/+$/, '')}/repos/${config.repository}`, {
      headers: githubHeaders(token),
      timeoutMs: 10_000
    });
    let body: { permissions?: { push?: boolean } } = {};
    try {
      body = JSON.parse(response.text);
    } catch {
      // not JSON: the status says enough
    }
    if (response.status === 200) {
      const push = body.permissions?.push;
      add(
        push === false ? false : true,
        `GitHub ${credentials.kind} credentials can see ${config.repository}${push === undefined ? '' : push ? ' and write to it' : ' but cannot write to it (repository_dispatch needs Contents: write)'}`
      );
    } else {
      add(
        false,
        `GitHub answered ${response.status} for ${config.repository}: ${response.status === 404 ? 'no such repository, or the token cannot see it' : 'the credentials were refused'}`
      );
    }
  } catch (error) {
    add(false, `GitHub credentials: ${(error as Error).message}`);
  }
  print(`azure-spot-restarter-agent ${AGENT_VERSION} — check`);
  for (const l of lines) print(`  ${l.ok === true ? 'ok  ' : l.ok === 'warn' ? 'warn' : 'FAIL'}  ${l.what}`);
  const failed = lines.some(l => l.ok === false);
  print(failed ? 'Result: problems found.' : 'Result: ready.');
  return failed ? 1 : 0;
}
