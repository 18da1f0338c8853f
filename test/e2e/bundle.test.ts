/**
 * The committed bundle (scripts/bundle.ts): packages a run rarely needs sit apart and load on first
 * use, and they work when they do.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, test } from '@jest/globals';

const DIST = new URL('../../dist/', import.meta.url);
const requireFromDist = createRequire(new URL('index.js', DIST));
const entry = readFileSync(new URL('index.js', DIST), 'utf8');

describe('dist/', () => {
  test('undici is not in the entry, and loads on demand with the ProxyAgent @actions/http-client uses', () => {
    expect(entry).not.toContain('UND_ERR_');
    const { ProxyAgent } = requireFromDist('./chunks/undici.cjs') as {
      ProxyAgent: new (uri: string) => { close(): Promise<void> };
    };
    const agent = new ProxyAgent('http://127.0.0.1:3128');
    expect(agent.constructor.name).toBe('ProxyAgent');
    return agent.close();
  });

  test('jsonwebtoken is not in the entry, and loads on demand able to sign as MSAL does', () => {
    expect(entry).not.toContain('JsonWebTokenError');
    const { sign } = requireFromDist('./chunks/jsonwebtoken.cjs') as {
      sign: (payload: object, key: string, options: object) => string;
    };
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = sign({ aud: 'x' }, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
      header: { alg: 'RS256', typ: 'JWT', x5t: 'abc' }
    });
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
    expect(header).toMatchObject({ alg: 'RS256', x5t: 'abc' });
  });

  test('the entry needs no Compute client code before its first request', () => {
    // arm-compute's operation groups are in a chunk of their own, imported only by import().
    expect(entry).not.toContain('VirtualMachineScaleSetVMRunCommands');
  });
});
