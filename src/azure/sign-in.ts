/** Credentials: GitHub OIDC first, a client secret when given, else the standard chain. */
import * as core from '@actions/core';
import {
  ClientAssertionCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  type AccessToken,
  type GetTokenOptions,
  type TokenCredential
} from '@azure/identity';
import type { Cloud } from './clouds.js';

/** What signing in needs of the run's settings. */
export interface SignInSettings {
  clientId?: string;
  tenantId?: string;
  clientSecret?: string;
  audience: string;
  cloud: Pick<Cloud, 'authorityHost'>;
  /** A custom authority host: skip Entra's instance discovery, which only knows Microsoft's hosts. */
  customAuthority: boolean;
}

export type GetIdToken = (audience: string) => Promise<string>;

export class OidcError extends Error {}

export function createCredential(
  settings: SignInSettings,
  getIdToken: GetIdToken = core.getIDToken
): TokenCredential {
  return new SharedTokenCache(baseCredential(settings, getIdToken));
}

function baseCredential(settings: SignInSettings, getIdToken: GetIdToken): TokenCredential {
  const options = {
    authorityHost: settings.cloud.authorityHost,
    // Instance discovery asks the public cloud about the authority: wrong for Azure Stack and for a local one.
    disableInstanceDiscovery: settings.customAuthority
  };
  if (settings.clientId && settings.clientSecret) {
    core.info(`Authenticating as application ${settings.clientId} with a client secret.`);
    return new ClientSecretCredential(settings.tenantId!, settings.clientId, settings.clientSecret, options);
  }
  if (settings.clientId) {
    core.info(
      `Authenticating as application ${settings.clientId} with GitHub OIDC (audience ${settings.audience}).`
    );
    // A fresh ID token for every exchange: GitHub's tokens live minutes, a run may last longer.
    return new ClientAssertionCredential(
      settings.tenantId!,
      settings.clientId,
      () => oidcToken(settings.audience, getIdToken),
      options
    );
  }
  core.info(
    'No client-id given: using the default credential chain (azure/login, environment, managed identity).'
  );
  return new DefaultAzureCredential({ ...options, tenantId: settings.tenantId });
}

async function oidcToken(audience: string, getIdToken: GetIdToken): Promise<string> {
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    throw new OidcError(
      'GitHub did not provide an OIDC token: add `permissions: id-token: write` to the workflow or job ' +
        '(or give client-secret). Without it the runner has no ACTIONS_ID_TOKEN_REQUEST_URL.'
    );
  }
  let token: string;
  try {
    token = await getIdToken(audience);
  } catch (error) {
    throw new OidcError(
      `Could not get a GitHub OIDC token for audience ${audience}: ${String((error as Error)?.message ?? error)}`
    );
  }
  const claims = tokenClaims(token);
  if (claims) core.debug(`OIDC token: iss=${claims.iss} sub=${claims.sub} aud=${claims.aud}`);
  lastClaims = claims;
  return token;
}

let lastClaims: { iss?: string; sub?: string; aud?: string } | undefined;

/** The claims a federated credential must match, for an error message that shows why it did not. */
export function presentedClaims(): string | undefined {
  return lastClaims
    ? `issuer '${lastClaims.iss}', subject '${lastClaims.sub}', audience '${lastClaims.aud}'`
    : undefined;
}

function tokenClaims(token: string): { iss?: string; sub?: string; aud?: string } | undefined {
  try {
    const body = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return { iss: body.iss, sub: body.sub, aud: Array.isArray(body.aud) ? body.aud.join(',') : body.aud };
  } catch {
    return undefined;
  }
}

/**
 * Every SDK client asks for its own token, and several at once; without this each request would
 * cost a GitHub ID token and an Entra exchange. One token per scope is shared until 5 minutes
 * before it expires (the ID token behind it is still fetched fresh for every exchange).
 */
export class SharedTokenCache implements TokenCredential {
  private readonly tokens = new Map<string, Promise<AccessToken | null>>();

  constructor(
    private readonly inner: TokenCredential,
    private readonly now = () => Date.now()
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const key = [scopes].flat().join(' ') + (options?.claims ? `|${options.claims}` : '');
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => null);
      if (token && token.expiresOnTimestamp - this.now() > 5 * 60_000) return token;
    }
    const fresh = this.inner.getToken(scopes, options);
    this.tokens.set(key, fresh);
    fresh.catch(() => this.tokens.delete(key));
    return fresh;
  }
}
