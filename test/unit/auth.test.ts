import { describe, expect, test } from '@jest/globals';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { SharedTokenCache } from '../../src/azure/sign-in.js';

function counting(lifetimeMs: number, now: () => number): TokenCredential & { calls: number } {
  const inner = {
    calls: 0,
    async getToken(): Promise<AccessToken> {
      inner.calls++;
      return { token: `t${inner.calls}`, expiresOnTimestamp: now() + lifetimeMs };
    }
  };
  return inner;
}

describe('SharedTokenCache', () => {
  test('many clients asking at once cost one exchange; the token is shared per scope', async () => {
    const now = 0;
    const inner = counting(3_600_000, () => now);
    const cache = new SharedTokenCache(inner, () => now);
    const tokens = await Promise.all([
      cache.getToken('https://arm/.default'),
      cache.getToken(['https://arm/.default']),
      cache.getToken('https://arm/.default')
    ]);
    expect(tokens.map(t => t?.token)).toEqual(['t1', 't1', 't1']);
    expect(inner.calls).toBe(1);
    await cache.getToken('https://other/.default');
    expect(inner.calls).toBe(2);
  });

  test('a token within 5 minutes of expiry is renewed; a failed exchange is not kept', async () => {
    let now = 0;
    const inner = counting(10 * 60_000, () => now);
    const cache = new SharedTokenCache(inner, () => now);
    expect((await cache.getToken('s'))?.token).toBe('t1');
    now = 6 * 60_000;
    expect((await cache.getToken('s'))?.token).toBe('t2');
    const failing = new SharedTokenCache({ getToken: async () => Promise.reject(new Error('AADSTS70021')) });
    await expect(failing.getToken('s')).rejects.toThrow('AADSTS70021');
    await expect(failing.getToken('s')).rejects.toThrow('AADSTS70021');
  });
});
