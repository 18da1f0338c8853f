/** Starting the emulator for an end-to-end scenario, and reading what a run did. */
import { readFileSync } from 'node:fs';
import { Emulator, type EmulatorOptions } from '../emulator/server.js';
export { githubPost, preemptPayload } from '../emulator/client.js';
import type { RunRecord } from '../emulator/github/runner.js';
import { DEFAULT_APP, type AppSpec, type FleetSpec, type VmSpec } from '../emulator/fleets/fleet.js';
import { subscriptionIds, TAG } from '../emulator/fleets/sample-fleet.js';
import type { VmResult } from '../../src/report/outcomes.js';

export const TEST_WORKFLOWS = new URL('./workflows', import.meta.url).pathname;

export async function emulator(fleet: FleetSpec, options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return Emulator.start({ fleet, timeScale: 100, ...options });
}

/**
 * The time scale of a scenario about what a run decides, not about when: at 500-fold an eviction
 * and its evidence (about four emulated minutes) pass in half a second. Only with a job whose
 * timeout-minutes allows it: the test workflow's 360 minutes last 43 real seconds, the examples'
 * 15 minutes under 2.
 */
export const UNTIMED = 500;

/**
 * GitHub's limits for a scenario on the real clock (time scale 1) that is not about GitHub's
 * runner: a job waits a second for it, not 10 real seconds.
 */
export const ON_TIME_RUNNER = { runnerStartLatencyS: 1 };

/** The scenarios' subscription, repository, and the subject of its workflows on main. */
export const SUB = subscriptionIds(1)[0]!;
export const REPOSITORY = 'acme/spot-fleet';
export const SUBJECT = `repo:${REPOSITORY}:ref:refs/heads/main`;

export interface FleetOf {
  /** What every VM is unless its own spec says otherwise (after: in SUB, rg-batch, opted in). */
  each?: Partial<VmSpec>;
  /** The i-th VM's name, unless its spec names it: `vm-<i>` by default. */
  name?: (i: number) => string;
  /** The workflows' identity beyond its client ID and federated subject: its role, a secret. */
  identity?: Partial<AppSpec>;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** A token that may dispatch to the repository (for agents and tests that post events). */
  token?: string;
}

/**
 * One subscription of opted-in Spot VMs (the opt-in tag merged with a VM's own tags), the
 * repository, and the identity its workflows sign in as with GitHub OIDC. `extra` is laid over it.
 */
export function fleetOf(
  vms: Partial<VmSpec>[] | number,
  o: FleetOf = {},
  extra: Partial<FleetSpec> = {}
): FleetSpec {
  const specs: Partial<VmSpec>[] = typeof vms === 'number' ? Array.from({ length: vms }, () => ({})) : vms;
  return {
    subscriptions: [SUB],
    apps: [{ clientId: DEFAULT_APP, federatedSubjects: [SUBJECT], ...o.identity }],
    vms: specs.map((v, i) => ({
      subscriptionId: SUB,
      resourceGroup: 'rg-batch',
      name: o.name?.(i) ?? `vm-${i}`,
      ...o.each,
      ...v,
      tags: { ...TAG, ...o.each?.tags, ...v.tags }
    })),
    github: {
      repository: REPOSITORY,
      vars: o.vars ?? {},
      secrets: o.secrets ?? {},
      ...(o.token ? { tokens: [{ token: o.token, repositories: [REPOSITORY] }] } : {})
    },
    ...extra
  };
}

/** Evicts the named VMs and waits (real time) until each is deallocated and its evidence is in Resource Graph. */
export async function evictAndSettle(
  emu: Emulator,
  names: string[],
  cause: 'capacity' | 'price' | 'simulated' = 'simulated'
): Promise<void> {
  for (const n of names) emu.model.evict(emu.vm(n), cause);
  await until(
    () => names.every(n => emu.vm(n).powerState === 'deallocated' && emu.model.settled(emu.vm(n))),
    30_000,
    'eviction and its evidence'
  );
}

/**
 * The VMs of a run: its `result` output, or the result file when the output had to be shortened
 * (and the two agree on what both hold).
 */
export function results(run: RunRecord | undefined): VmResult[] {
  if (!run?.outputs.result)
    throw new Error(
      `the run wrote no result output${run?.limitErrors.length ? ` (${run.limitErrors.join('; ')})` : ''}; its log:\n${run?.log}`
    );
  const output = JSON.parse(run.outputs.result) as { complete: boolean; vms: VmResult[] };
  if (output.complete) return output.vms;
  const file = JSON.parse(readFileSync(run.outputs['result-file']!, 'utf8')) as { vms: VmResult[] };
  return file.vms;
}

export function outcomes(run: RunRecord | undefined): Record<string, string> {
  return Object.fromEntries(results(run).map(r => [r.name, r.outcome]));
}

/** Waits (real time) until `check` holds, or fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/**
 * No credential in what a run leaves behind: its log (the runner's own `::add-mask::` commands
 * aside — GitHub consumes those and never shows them), its outputs and its job summary.
 */
export function leakedSecrets(emu: Emulator, extra: string[] = []): string[] {
  const secrets = [
    ...emu.secretsIssued,
    ...extra,
    ...(emu.options.fleet.apps ?? []).flatMap(a => (a.secret ? [a.secret] : []))
  ];
  const leaks: string[] = [];
  for (const run of emu.runner.runs) {
    const visible = [
      run.log
        .split('\n')
        .filter(l => !l.startsWith('::add-mask::'))
        .join('\n'),
      JSON.stringify(run.outputs),
      run.summary
    ].join('\n');
    for (const s of secrets)
      if (s && visible.includes(s))
        leaks.push(`run ${run.id} (${run.workflow}) shows a secret starting ${s.slice(0, 6)}…`);
  }
  return leaks;
}
