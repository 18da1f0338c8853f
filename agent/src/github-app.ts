/** GitHub App authentication: an RS256 JWT signed with the app's key, exchanged for an installation token. */
import { createSign } from 'node:crypto';
import { githubHeaders } from './github-headers.js';
import { send } from './http.js';

export function appJwt(appId: string, privateKeyPem: string, now = Math.floor(Date.now() / 1000)): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  // iat a minute in the past allows for clock drift; GitHub refuses an exp more than 10 minutes ahead.
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({ iat: now - 60, exp: now + 9 * 60, iss: appId })}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKeyPem).toString('base64url');
  return `${unsigned}.${signature}`;
}

export async function installationToken(
  apiUrl: string,
  appId: string,
  installationId: string,
  privateKeyPem: string
): Promise<{ token: string; expiresAt: number }> {
  const response = await send(
    `${apiUrl.replace(/\/+$/, '')}/app/installations/${encodeURIComponent(installationId)}/access_tokens`,
    {
      method: 'POST',
      headers: githubHeaders(appJwt(appId, privateKeyPem)),
      timeoutMs: 10_000
    }
  );
  let body: { token?: string; expires_at?: string; message?: string } = {};
  try {
    body = JSON.parse(response.text);
  } catch {
    // not JSON: the status decides below
  }
  if (response.status !== 201 || !body.token) {
    const advice =
      response.status === 401
        ? 'the app ID or private key is wrong, or the machine clock is off'
        : response.status === 404
          ? 'no such installation of this app: check --installation-id'
          : 'GitHub refused the exchange';
    throw new Error(`GitHub App token exchange failed (${response.status} ${body.message ?? ''}): ${advice}`);
  }
  return {
    token: body.token,
    expiresAt: body.expires_at ? Date.parse(body.expires_at) : Date.now() + 50 * 60_000
  };
}
