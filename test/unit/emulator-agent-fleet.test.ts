/**
 * The in-process agent fleet trusts its emulator's CA on Node's global agent while a wave runs
 * (the agent's HTTPS client uses that agent). Released, it leaves no trace there: a later call of
 * the same process, with another emulator's own CA, is trusted — in a test worker, the next file's.
 */
import { afterEach, expect, test } from '@jest/globals';
import { AgentFleet } from '../emulator/agents/agent-fleet.js';
import type { Emulator } from '../emulator/server.js';
import { emulator, fleetOf, githubPost } from '../e2e/harness.js';

const emulators: Emulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map(e => e.stop()));
});

test("once released, a call with another emulator's own CA is trusted again", async () => {
  const [waves, next] = await Promise.all([emulator(fleetOf(1)), emulator(fleetOf(1))]);
  emulators.push(waves, next);
  const dispatch = () => githubPost(next, '/repos/acme/spot-fleet/dispatches', undefined, {});
  const fleet = new AgentFleet(waves, 'ghs_unused', Math.random);
  // While the fleet holds it, the global agent's CA overrides the call's own.
  await expect(dispatch()).rejects.toThrow();
  fleet.release();
  expect((await dispatch()).status).toBe(401);
});
