/** Starting the emulator for an end-to-end scenario, and reading what a run did. */
import { readFileSync } from 'node:fs';
import { Emulator, type EmulatorOptions } from '../emulator/server.js';
export { githubPost, preemptPayload } from '../emulator/client.js';
import type { RunRecord } from '../emulator/github/runner.js';
import type { FleetSpec } from '../emulator/fleets/fleet.js';
import type { VmResult } from '../../src/report/outcomes.js';

export const TEST_WORKFLOWS = new URL('./workflows', import.meta.url).pathname;

export async function emulator(fleet: FleetSpec, options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return Emulator.start({ fleet, timeScale: 100, ...options });
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
