/**
 * `npm run demo`: the main job on the built-in emulator. A fleet of Spot VMs over three
 * subscriptions with decoys, a wave of evictions, then GitHub's scheduler runs
 * workflows-examples/restart-on-schedule.yml — the real bundle, the real SDKs, emulated Azure —
 * and the table shows every VM before and after. `--json` prints one object for scripts.
 */
import { parseArgs } from 'node:util';
import { sampleFleet, type Role } from './sample-fleet.js';
import { Emulator } from './server.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const say = (line = '') => values.json || console.log(line);

const fleet = sampleFleet({ subscriptions: 3, eligible: 24, decoysPerKind: 2 });
const emu = await Emulator.start({ fleet, timeScale: 100 });
const started = Date.now();
try {
  say(`Emulated Azure + GitHub on ${emu.url} (1 real second = 100 emulated seconds)`);
  say(
    `Fleet: ${fleet.vms.length} VMs in ${fleet.subscriptions.length} subscriptions; ${count('eligible')} opted-in Spot VMs and ${fleet.vms.length - count('eligible')} decoys.`
  );

  const wave = fleet.vms.filter(v => v.role === 'eligible' || v.role === 'delete-policy');
  for (const vm of wave) emu.model.evict(emu.vm(vm.name), 'simulated');
  say(
    `Eviction wave: Preempt for ${wave.length} VMs (${count('delete-policy')} of them with eviction policy Delete).`
  );
  await waitFor(
    () => wave.every(v => emu.vm(v.name).deleted || emu.vm(v.name).argPowerState === 'deallocated'),
    'the wave to be deallocated'
  );
  const before = new Map(fleet.vms.map(v => [v.name, state(v.name)]));

  say('GitHub runs the schedule: workflows-examples/restart-on-schedule.yml …');
  const runs = await emu.schedule('restart-on-schedule.yml');
  const run = runs[0]!;
  const eligible = fleet.vms.filter(v => v.role === 'eligible');
  await waitFor(
    () => eligible.every(v => emu.vm(v.name).powerState === 'running'),
    'the restarted VMs to be running',
    20_000
  ).catch(() => undefined);

  const outcomes = new Map<string, string>(
    (JSON.parse(run.outputs.result ?? '{"vms":[]}') as { vms: { name: string; outcome: string }[] }).vms.map(
      r => [r.name, r.outcome]
    )
  );
  const decoys = fleet.vms.filter(v => v.role !== 'eligible');
  const touched = decoys.filter(v => emu.model.vms.get(vmKey(v.name))!.startsAccepted > 0).map(v => v.name);
  const runningNow = eligible.filter(v => emu.vm(v.name).powerState === 'running').map(v => v.name);

  if (values.json) {
    console.log(
      JSON.stringify({
        eligible: eligible.length,
        started: runningNow.length,
        decoys: decoys.length,
        decoys_touched: touched.length,
        runs: runs.map(r => ({
          workflow: r.workflow,
          event: r.event,
          exitCode: r.exitCode,
          counts: JSON.parse(r.outputs.counts ?? '{}'),
          summary: r.summaryPath
        })),
        vms: fleet.vms.map(v => ({
          name: v.name,
          role: v.role,
          before: before.get(v.name),
          after: state(v.name),
          outcome: outcomes.get(v.name) ?? null
        })),
        seconds: (Date.now() - started) / 1000
      })
    );
  } else {
    say();
    table(
      ['VM', 'Subscription', 'Kind', 'Before run', 'After run', 'Outcome'],
      fleet.vms.map(v => [
        v.name,
        v.subscriptionId.slice(0, 8),
        describe(v.role),
        before.get(v.name)!,
        state(v.name),
        outcomes.get(v.name) ?? '—'
      ])
    );
    say();
    say(
      `Run #${run.id} (${run.workflow}) exited ${run.exitCode}: ${JSON.stringify(JSON.parse(run.outputs.counts ?? '{}'), (_k, val) => (val === 0 ? undefined : val))}`
    );
    say(
      `${runningNow.length} of ${eligible.length} evicted, opted-in VMs are running again; ${touched.length} of ${decoys.length} decoys touched.`
    );
    say(`Job summary (Markdown/HTML, as GitHub shows it): ${run.summaryPath}`);
  }
  process.exitCode =
    runningNow.length === eligible.length && touched.length === 0 && run.exitCode === 0 ? 0 : 1;
} finally {
  await emu.stop();
}

function count(role: Role): number {
  return fleet.vms.filter(v => v.role === role).length;
}

function vmKey(name: string): string {
  return [...emu.model.vms.values()].find(v => v.name === name)!.key;
}

function state(name: string): string {
  const vm = emu.model.vms.get(vmKey(name))!;
  return vm.deleted ? 'deleted' : vm.powerState;
}

function describe(role: Role): string {
  return {
    eligible: 'Spot, tagged',
    untagged: 'decoy: no tag',
    regular: 'decoy: regular priority',
    'delete-policy': 'decoy: policy Delete',
    'user-stopped': 'decoy: stopped by user',
    running: 'decoy: never evicted'
  }[role];
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  say(line(header));
  say(widths.map(w => '─'.repeat(w)).join('  '));
  for (const r of rows) say(line(r));
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 25));
  }
}
