/**
 * The demo's third act, on its own small emulator: one Spot VM that lists fallback sizes. Capacity
 * for its size vanishes in an eviction; the scheduled sweep (workflows-examples/restart-on-schedule.yml)
 * brings it back on a fallback size; capacity returns; the revert window
 * (workflows-examples/revert-to-preferred-size.yml) brings it home. The identity holds both roles.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_APP, type FleetSpec } from '../fleets/fleet.js';
import { shippedRoleActions } from '../azure/rbac.js';
import type { RunRecord } from '../github/runner.js';
import { Emulator, type EmulatorOptions } from '../server.js';

export interface FallbackStory {
  summary: { vm: string; preferred: string; used: string | null; reverted: boolean };
  /** The runs of the act: the sweep that used a fallback size, then the revert. */
  runs: RunRecord[];
}

const FALLBACK_ROLE = (
  JSON.parse(
    readFileSync(new URL('../../../docs/spot-restarter-fallback-role.json', import.meta.url), 'utf8')
  ) as {
    Actions: string[];
  }
).Actions;

export async function fallbackAct(
  say: (line?: string) => void,
  shortened: Pick<EmulatorOptions, 'timing' | 'githubLimits'>
): Promise<FallbackStory> {
  const name = 'batch-7';
  const preferred = 'Standard_D4s_v5';
  const subscription = '00000003-5107-4e5f-9d3a-00000000f411';
  const fleet: FleetSpec = {
    subscriptions: [subscription],
    apps: [
      {
        clientId: DEFAULT_APP,
        federatedSubjects: ['repo:acme/spot-fleet:ref:refs/heads/main'],
        actions: [...shippedRoleActions(), ...FALLBACK_ROLE]
      }
    ],
    vms: [
      {
        subscriptionId: subscription,
        resourceGroup: 'rg-batch',
        name,
        vmSize: preferred,
        tags: {
          AttemptRestartAfterEviction: 'true',
          SpotRestarterFallbackSizes: 'Standard_D4as_v5,Standard_D4s_v4'
        }
      }
    ],
    github: { repository: 'acme/spot-fleet' }
  };
  const emu = await Emulator.start({ fleet, timeScale: 1, ...shortened });
  try {
    const vm = emu.vm(name);
    say();
    say(
      `Act 3 — fallback sizes: ${name} prefers ${preferred} and accepts ${vm.tags.SpotRestarterFallbackSizes}.`
    );
    emu.model.evict(vm, 'capacity'); // the eviction takes the region's capacity for its size with it
    await until(() => vm.powerState === 'deallocated' && emu.model.settled(vm));
    const [restart] = await emu.schedule('restart-on-schedule.yml');
    const started = resultOf(restart, name);
    emu.model.setCapacity(vm.location, preferred, 10);
    emu.model.log(vm, `capacity for ${preferred} returns`);
    const [revert] = await emu.schedule('revert-to-preferred-size.yml');
    const reverted = resultOf(revert, name);
    const t0 = emu.model.timeline.find(t => t.vm === name)!.at;
    for (const t of emu.model.timeline.filter(e => e.vm === name))
      say(`  +${((t.at - t0) / 1000).toFixed(1).padStart(5)} s  ${t.what}`);
    say(
      `Restart run: ${started?.outcome} on ${started?.usedSize ?? '?'}; revert run: ${reverted?.outcome}; now ${vm.vmSize}, ${vm.powerState}.`
    );
    return {
      runs: [restart, revert].filter((r): r is RunRecord => r !== undefined),
      summary: {
        vm: name,
        preferred,
        used: started?.usedSize ?? null,
        reverted: reverted?.outcome === 'reverted' && vm.vmSize === preferred && vm.powerState === 'running'
      }
    };
  } finally {
    await emu.stop();
  }
}

function resultOf(run: RunRecord | undefined, name: string) {
  const vms = (
    JSON.parse(run?.outputs.result ?? '{"vms":[]}') as {
      vms: { name: string; outcome: string; usedSize?: string }[];
    }
  ).vms;
  return vms.find(v => v.name === name);
}

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the eviction');
    await new Promise(r => setTimeout(r, 25));
  }
}
