/**
 * Started VMs are confirmed in bulk: the run lists each subscription's VMs with their power states
 * (VirtualMachines_ListAll, statusOnly=true) instead of polling every start operation, and polls an
 * operation only for a VM the listing shows down again — whose outcome needs the operation's error.
 */
import { afterEach, expect, test } from '@jest/globals';
import { scaleFleet } from '../emulator/fleets/scale-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { emulator, results, TEST_WORKFLOWS } from './harness.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

test('no operation poll for a VM the listing shows running; the one that found no capacity still says why', async () => {
  const fleet = scaleFleet(200, 2, { evicted: 0.5, secret: 'bulk-confirm-secret' });
  const starved = fleet.vms.find(v => fleet.eligible.includes(v.name))!;
  starved.vmSize = 'Standard_D4s_v5';
  fleet.pools = [{ location: starved.location!, vmSize: 'Standard_D4s_v5', capacity: 0 }];
  emu = await emulator(fleet, { workflowsDir: TEST_WORKFLOWS });
  const [run] = await emu.schedule('restart-with-vars.yml');
  expect(run!.exitCode).toBe(0);
  const found = Object.fromEntries(results(run).map(r => [r.name, r]));
  const others = fleet.eligible.filter(n => n !== starved.name);
  for (const n of others) expect(found[n]).toMatchObject({ outcome: 'started' });
  expect(found[starved.name]).toMatchObject({
    outcome: 'capacity-unavailable',
    errorCode: 'AllocationFailed'
  });
  const answered = (kind: string) =>
    Object.entries(emu!.answers)
      .filter(([k]) => k.startsWith(`${kind}:`))
      .reduce((n, [, v]) => n + v, 0);
  expect(answered('listAll')).toBeGreaterThan(0);
  // Polls only for the VM that went down again (the bulk listing cannot say why).
  expect(answered('operation')).toBeLessThanOrEqual(3);
  const requests = Object.values(emu.answers).reduce((n, v) => n + v, 0);
  expect(requests / others.length).toBeLessThanOrEqual(3);
});
