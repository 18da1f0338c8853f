/**
 * Try & restore, as Microsoft documents it ("Azure Spot Virtual Machines for Virtual Machine Scale
 * Sets"; compute spec `SpotRestorePolicy`): capacity evictions only, off under autoscale, not past
 * `restoreTimeout`. One row per fact.
 */
import { describe, expect, test } from '@jest/globals';
import { isoDurationMs, tryRestore } from '../../src/judge/try-restore.js';
import { vm } from '../helpers/arm-nock.js';
import type { VmRecord } from '../../src/discover/discovery.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();

function instance(
  scaleSet: Partial<NonNullable<VmRecord['scaleSet']>>,
  extra: Partial<VmRecord> = {}
): VmRecord {
  return vm('farm_0', {
    kind: 'vmss-uniform',
    scaleSet: { id: '/x/farm', name: 'farm', tags: {}, tryRestore: true, ...scaleSet },
    annotationName: 'VirtualMachinePreempted',
    annotationAt: minutesAgo(10),
    ...extra
  });
}

describe('tryRestore', () => {
  const rows: [string, VmRecord, { spotPrice?: number }, boolean | undefined][] = [
    ['no Try & restore: not its business', instance({ tryRestore: false }), {}, undefined],
    [
      'Try & restore, capacity eviction, within the timeout: Azure restores',
      instance({ restoreTimeout: 'PT1H' }),
      {},
      true
    ],
    ['"disabled in scale sets that use Autoscale"', instance({ autoscale: true }), {}, false],
    [
      'price above the max price: not a capacity eviction Azure restores',
      instance({}, { maxPrice: 0.01 }),
      { spotPrice: 0.05 },
      false
    ],
    ['price within the max: restores', instance({}, { maxPrice: 0.1 }), { spotPrice: 0.05 }, true],
    ['max price −1 is never a price eviction', instance({}, { maxPrice: -1 }), { spotPrice: 9 }, true],
    [
      'past restoreTimeout: "the platform will not try to restore"',
      instance({ restoreTimeout: 'PT5M' }),
      {},
      false
    ],
    [
      'eviction time unknown (another annotation since): the platform is trusted',
      instance({ restoreTimeout: 'PT5M' }, { annotationName: 'VirtualMachineSizeChanged' }),
      {},
      true
    ]
  ];
  test.each(rows)('%s', (_, record, facts, applies) => {
    const verdict = tryRestore(record, { now: NOW, ...facts });
    expect(verdict?.applies).toBe(applies);
  });

  test('ISO 8601 durations', () => {
    expect(isoDurationMs('PT1H')).toBe(3_600_000);
    expect(isoDurationMs('P1DT30M')).toBe(88_200_000);
    expect(isoDurationMs('PT90S')).toBe(90_000);
    expect(isoDurationMs('PT')).toBeUndefined();
    expect(isoDurationMs('60')).toBeUndefined();
  });
});
