/**
 * The pool's gate: after a capacity failure its VMs try again one at a time, as probes, and each
 * start that gets under way lets two more through.
 */
import { describe, expect, test } from '@jest/globals';
import { CapacityGate, CapacityGates } from '../../src/act/capacity-gate.js';
import { virtualClock } from '../helpers/virtual-clock.js';

const INTERVAL = 30_000;

/** Waits at the gate and records when (virtual ms from the start) and whether it was let through. */
function waiter(
  gate: CapacityGate,
  clock: ReturnType<typeof virtualClock>,
  deadline = Infinity,
  failed = true
) {
  const t0 = clock.now();
  if (failed) gate.failed(gate.epoch, 'AllocationFailed', 'Allocation failed.');
  const seen: { at?: number; go?: boolean } = {};
  void gate.wait(clock.now() + deadline).then(go => {
    seen.go = go;
    seen.at = clock.now() - t0;
  });
  return seen;
}

describe('capacity gate', () => {
  test('a lone VM tries again after retry-interval, as it did on its own', async () => {
    const clock = virtualClock();
    const gate = new CapacityGate(clock, INTERVAL);
    const vm = waiter(gate, clock);
    await clock.advance(INTERVAL - 1);
    expect(vm.go).toBeUndefined();
    await clock.advance(1);
    expect(vm).toEqual({ go: true, at: INTERVAL });
  });

  test('a waiting pool sends one probe at a time, every retry-interval / 6, and no second while one is out', async () => {
    const clock = virtualClock();
    const gate = new CapacityGate(clock, INTERVAL);
    const vms = Array.from({ length: 10 }, () => waiter(gate, clock));
    await clock.advance(5000);
    expect(vms.filter(v => v.go)).toHaveLength(1);
    // The probe has neither failed nor got under way: nobody else goes, until it is given up on.
    await clock.advance(20_000);
    expect(vms.filter(v => v.go)).toHaveLength(1);
    // It failed (its VM waits again): the next probe goes within the next probe interval.
    waiter(gate, clock);
    expect(gate.lastFailure).toEqual({ code: 'AllocationFailed', detail: 'Allocation failed.' });
    await clock.advance(6000);
    expect(vms.filter(v => v.go)).toHaveLength(2);
    expect(gate.probes).toBe(2);
  });

  test('a start under way lets four more through at once; a capacity failure stops that', async () => {
    const clock = virtualClock();
    const gate = new CapacityGate(clock, INTERVAL);
    const vms = Array.from({ length: 10 }, () => waiter(gate, clock));
    await clock.advance(5000); // the probe
    gate.underWay();
    await clock.advance(0);
    expect(vms.filter(v => v.go)).toHaveLength(5);
    gate.underWay();
    gate.underWay();
    await clock.advance(0);
    expect(vms.filter(v => v.go)).toHaveLength(10);
    expect(gate.granted).toBe(9);
    // Nobody waits any more: the pool is open again.
    expect(gate.closed).toBe(false);
    // One of them failed for capacity: the gate is closed again, its remaining grants forfeited.
    gate.underWay();
    const late = waiter(gate, clock);
    await clock.advance(0);
    expect(late.go).toBeUndefined();
    expect(gate.closed).toBe(true);
    // A VM found now that has not tried joins the queue without closing anything.
    const newcomer = waiter(gate, clock, Infinity, false);
    await clock.advance(0);
    expect(newcomer.go).toBeUndefined();
    expect(gate.waiting).toBe(2);
  });

  test('a VM whose time runs out at the gate is told so', async () => {
    const clock = virtualClock();
    const gate = new CapacityGate(clock, INTERVAL);
    waiter(gate, clock); // takes the first probe
    const late = waiter(gate, clock, 8000);
    await clock.advance(10_000);
    expect(late).toEqual({ go: false, at: 10_000 });
  });

  test('one gate per region, size and zone', () => {
    const gates = new CapacityGates(virtualClock(), INTERVAL);
    const pool = { location: 'eastus', vmSize: 'Standard_D4s_v5', zone: '1' };
    expect(gates.for(pool)).toBe(gates.for({ ...pool, location: 'EastUS' }));
    expect(gates.for(pool)).not.toBe(gates.for({ ...pool, zone: '2' }));
    expect(gates.for(pool)).not.toBe(gates.for({ ...pool, vmSize: 'Standard_D2s_v5' }));
  });
});

test('a pool that waited in numbers keeps probing at that pace as it empties', async () => {
  const clock = virtualClock();
  const gate = new CapacityGate(clock, INTERVAL);
  const vms = Array.from({ length: 8 }, () => waiter(gate, clock));
  await clock.advance(5000);
  gate.underWay(); // the probe got under way: four more go, three wait
  await clock.advance(0);
  expect(vms.filter(v => v.go)).toHaveLength(5);
  waiter(gate, clock); // one of the four failed: the gate closes
  await clock.advance(5000);
  expect(gate.probes).toBe(2);
});

test('once a step’s size is known, the next probe lets that many through at once, then one per start', async () => {
  const clock = virtualClock();
  const gate = new CapacityGate(clock, INTERVAL);
  const vms = Array.from({ length: 40 }, () => waiter(gate, clock));
  // The first step: found by doubling up (4 per start), 9 starts got under way, then one failed.
  await clock.advance(5000);
  for (let i = 0; i < 9; i++) gate.underWay();
  await clock.advance(0);
  expect(vms.filter(v => v.go)).toHaveLength(1 + 9 * 4);
  gate.failed(gate.epoch, 'AllocationFailed', 'Allocation failed.');
  const before = vms.filter(v => v.go).length;
  // The next step: the probe that gets under way lets 8 through at once; each of them one more.
  const more = Array.from({ length: 20 }, () => waiter(gate, clock));
  await clock.advance(5000);
  gate.underWay();
  await clock.advance(0);
  const all = [...vms, ...more];
  expect(all.filter(v => v.go).length - before).toBe(1 + 8);
  gate.underWay();
  await clock.advance(0);
  expect(all.filter(v => v.go).length - before).toBe(1 + 8 + 1);
});

test('a late failure of a start sent in an earlier step does not close the step that has just begun', async () => {
  const clock = virtualClock();
  const gate = new CapacityGate(clock, INTERVAL);
  const vms = Array.from({ length: 30 }, () => waiter(gate, clock));
  await clock.advance(5000);
  const sentEarlier = gate.epoch;
  gate.underWay(); // the probe: a step opens, four go
  await clock.advance(0);
  gate.failed(gate.epoch, 'AllocationFailed', 'Allocation failed.'); // the step is used up
  await clock.advance(5000); // the next probe
  gate.underWay(); // … finds the next step
  await clock.advance(0);
  const going = vms.filter(v => v.go).length;
  gate.failed(sentEarlier, 'AllocationFailed', 'Allocation failed.'); // late news of the first step
  gate.underWay(); // the step goes on: one more
  await clock.advance(0);
  expect(vms.filter(v => v.go).length).toBe(going + 1);
});
