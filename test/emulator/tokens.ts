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

/** Seconds of clock skew tolerated when a token's times are checked. */
const CLOCK_TOLERANCE_S = 2;
/** Tokens whose signature was checked, per key: at most this many are remembered. */
const MAX_VERIFIED = 10_000;
const verifiedTokens = new WeakMap<KeyPair, Map<string, JWTPayload>>();

/**
 * Like Azure's token validation, a little clock skew is tolerated (Entra ID and Resource Manager
 * allow minutes; 2 s here, so that the tests' seconds-long tokens still expire in a test).
 *
 * A token's signature is checked once: the claims of a token string signed by this key never
 * change, so they are remembered by the string. Its times (`nbf`, `exp`) are checked on every call,
 * so a remembered token that expires since is refused like any other.
 */
export async function verify(key: KeyPair, token: string): Promise<Verified> {
  let known = verifiedTokens.get(key);
  if (!known) verifiedTokens.set(key, (known = new Map()));
  const remembered = known.get(token);
  if (remembered) {
    const refused = timeCheck(remembered);
    if (refused?.reason === 'expired') known.delete(token);
    return refused ?? { ok: true, claims: remembered };
  }
  try {
    const { payload } = await jwtVerify(token, key.publicKey, { clockTolerance: CLOCK_TOLERANCE_S });
    if (known.size >= MAX_VERIFIED) known.delete(known.keys().next().value!);
    known.set(token, payload);
    return { ok: true, claims: payload };
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { ok: false, reason: e.code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid', message: e.message };
  }
}

/** The time checks `jwtVerify` makes, with its messages: undefined when the token is valid now. */
function timeCheck(claims: JWTPayload): Extract<Verified, { ok: false }> | undefined {
  const now = Math.floor(Date.now() / 1000);
  if (claims.nbf !== undefined && claims.nbf > now + CLOCK_TOLERANCE_S)
    return { ok: false, reason: 'invalid', message: '"nbf" claim timestamp check failed' };
  if (claims.exp !== undefined && claims.exp <= now - CLOCK_TOLERANCE_S)
    return { ok: false, reason: 'expired', message: '"exp" claim timestamp check failed' };
  return undefined;
}

/** Reads claims without checking anything: only to word an error message. */
export function peek(token: string): JWTPayload | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JWTPayload;
  } catch {
    return undefined;
  }
}
