/**
 * Signing keys of the emulated Entra ID (access tokens) and of the emulated GitHub OIDC issuer
 * (ID tokens handed to workflow runs), and JWT helpers built on `jose`.
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  kid: string;
}

export async function makeKey(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { privateKey, publicKey, kid: randomUUID() };
}

export async function sign(key: KeyPair, claims: JWTPayload, lifetimeS: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + Math.max(1, Math.round(lifetimeS)))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

export type Verified =
  { ok: true; claims: JWTPayload } | { ok: false; reason: 'expired' | 'invalid'; message: string };

/**
 * Like Azure's token validation, a little clock skew is tolerated (Entra ID and Resource Manager
 * allow minutes; 2 s here, so that the tests' seconds-long tokens still expire in a test).
 */
export async function verify(key: KeyPair, token: string): Promise<Verified> {
  try {
    const { payload } = await jwtVerify(token, key.publicKey, { clockTolerance: 2 });
    return { ok: true, claims: payload };
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { ok: false, reason: e.code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid', message: e.message };
  }
}

/** Reads claims without checking anything: only to word an error message. */
export function peek(token: string): JWTPayload | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JWTPayload;
  } catch {
    return undefined;
  }
}
