/** Which sizes a VM may take, in which order, and which are passed over: a table of cases. */
import { describe, expect, test } from '@jest/globals';
import { rankCandidates } from '../../src/judge/size-candidates.js';
import { sizeListOf, type SizeFacts } from '../../src/discover/size-list.js';

const facts = (over: Partial<SizeFacts> = {}): SizeFacts => ({
  offered: undefined,
  restricted: new Map(),
  prices: new Map(),
  evictionRates: new Map(),
  ...over
});

describe('sizeListOf: the owner opts in, the tag wins', () => {
  test.each([
    ['no tag, no input: no list', {}, {}, undefined],
    [
      'the tag',
      { SpotRestarterFallbackSizes: 'Standard_D4as_v5, Standard_D4s_v4' },
      {},
      { preferred: 'Standard_D4s_v5', fallbacks: ['Standard_D4as_v5', 'Standard_D4s_v4'], source: 'tag' }
    ],
    [
      'the tag name in another case, wins over the input',
      { spotrestarterfallbacksizes: 'Standard_E4s_v5' },
      { standard_d4s_v5: ['Standard_D4as_v5'] },
      { preferred: 'Standard_D4s_v5', fallbacks: ['Standard_E4s_v5'], source: 'tag' }
    ],
    [
      'the input, by preferred size',
      {},
      { standard_d4s_v5: ['Standard_D4as_v5'] },
      { preferred: 'Standard_D4s_v5', fallbacks: ['Standard_D4as_v5'], source: 'input' }
    ],
    [
      'on a fallback size already: the recorded preferred size is "home", and the list is its',
      {
        SpotRestarterPreferredSize: 'Standard_D8s_v5',
        SpotRestarterFallbackSizes: 'Standard_D4s_v5,Standard_D4s_v5'
      },
      {},
      { preferred: 'Standard_D8s_v5', fallbacks: ['Standard_D4s_v5'], source: 'tag' }
    ],
    [
      'a list of only the preferred size: no list',
      { SpotRestarterFallbackSizes: 'Standard_D4s_v5' },
      {},
      undefined
    ]
  ])('%s', (_name, tags, input, expected) => {
    expect(sizeListOf({ tags: tags as Record<string, string>, vmSize: 'Standard_D4s_v5' }, input)).toEqual(
      expected
    );
  });

  test('an unreadable tag is reported, never guessed at', () => {
    const list = sizeListOf(
      { tags: { SpotRestarterFallbackSizes: 'Standard_D4as_v5,<script>' }, vmSize: 'Standard_D4s_v5' },
      {}
    );
    expect(list).toEqual({ invalid: expect.stringContaining('SpotRestarterFallbackSizes') });
  });
});

describe('rankCandidates', () => {
  const list = { preferred: 'P', fallbacks: ['A', 'B', 'C'], source: 'tag' as const };

  test('the preferred size first, then the owner order; the current and the tried ones left out', () => {
    expect(rankCandidates(list, 'A', new Set(['b']), facts(), -1, 'listed').map(c => c.size)).toEqual([
      'P',
      'C'
    ]);
  });

  test('eviction-rate: lowest band first, ties in the owner order, unknown last; preferred still first', () => {
    const rates = new Map([
      ['a', '20+'],
      ['b', '0-5'],
      ['p', '20+']
    ]);
    expect(
      rankCandidates(list, 'X', new Set(), facts({ evictionRates: rates }), -1, 'eviction-rate').map(
        c => c.size
      )
    ).toEqual(['P', 'B', 'A', 'C']);
  });

  test('passed over with the reason: not offered, restricted, no price, above the max price', () => {
    const ranked = rankCandidates(
      list,
      'P',
      new Set(),
      facts({
        offered: new Set(['a', 'b', 'c']),
        restricted: new Map([['a', 'NotAvailableForSubscription (eastus)']]),
        prices: new Map([['b', 0.05]])
      }),
      0.03,
      'listed'
    );
    expect(ranked).toEqual([
      {
        size: 'A',
        ok: false,
        reason: 'restricted for the subscription: NotAvailableForSubscription (eastus)'
      },
      { size: 'B', ok: false, reason: 'Spot price 0.05 USD is above the max price 0.03 USD' },
      { size: 'C', ok: false, reason: expect.stringContaining('no current Spot price') }
    ]);
    // Max price −1: the price is no obstacle, known or not.
    expect(
      rankCandidates(list, 'P', new Set(), facts({ prices: new Map([['b', 9]]) }), -1, 'listed').every(
        c => c.ok
      )
    ).toBe(true);
  });
});
