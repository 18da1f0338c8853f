/**
 * Entra ID: the OpenID metadata and the v2 token endpoint, as MSAL (inside @azure/identity) uses
 * them. Client credentials with a secret, or with a client assertion: a GitHub OIDC token checked
 * against the app's federated credentials (issuer, subject, audience), refused with Entra's
 * AADSTS codes when it does not match.
 */
import type { AppSpec } from '../fleets/fleet.js';
import { json, type Request, type Response } from '../http.js';
import { entraError, openIdConfiguration } from './entra-metadata.js';
import { GITHUB_ISSUER, peek, sign, verify, type KeyPair } from '../tokens.js';

export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface EntraOptions {
  tenantId: string;
  apps: AppSpec[];
  entraKey: KeyPair;
  githubKey: KeyPair;
  /** Real seconds an access token lives; short values make the SDK refresh mid-run. */
  tokenLifetimeS: number;
  base: () => string;
  /** Called for every access token issued (tests scan run logs for them). */
  onToken?: (clientId: string, accessToken: string) => void;
}

export async function handleEntra(req: Request, o: EntraOptions): Promise<Response | undefined> {
  const match = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(
    req.path
  );
  if (!match) return undefined;
  const [, tenant, what] = match;
  if (tenant!.toLowerCase() !== o.tenantId.toLowerCase()) {
    return json(
      400,
      entraError(
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`
      )
    );
  }
  if (what!.startsWith('v2.0')) return json(200, openIdConfiguration(o.base(), o.tenantId));
  if (req.method !== 'POST')
    return json(405, entraError('invalid_request', 900561, 'The endpoint only accepts POST requests.'));

  const form = req.form();
  const clientId = form.get('client_id') ?? '';
  const scope = form.get('scope') ?? '';
  if (form.get('grant_type') !== 'client_credentials') {
    return json(
      400,
      entraError('unsupported_grant_type', 70003, 'The app requested an unsupported grant type.')
    );
  }
  const app = o.apps.find(a => a.clientId.toLowerCase() === clientId.toLowerCase());
  if (!app) {
    return json(
      400,
      entraError(
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${o.tenantId}'.`
      )
    );
  }
  if (!scope.endsWith('/.default')) {
    return json(
      400,
      entraError(
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`
      )
    );
  }
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret !== null) {
    if (!app.secret || secret !== app.secret) {
      return json(
        401,
        entraError(
          'invalid_client',
          7000215,
          'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.'
        )
      );
    }
  } else if (assertion !== null) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      return json(400, entraError('invalid_request', 700023, 'Invalid client_assertion_type.'));
    }
    const refused = await checkFederated(assertion, app, o.githubKey);
    if (refused) return refused;
  } else {
    return json(
      401,
      entraError(
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
      )
    );
  }
  const resource = scope.slice(0, -'/.default'.length);
  const accessToken = await sign(
    o.entraKey,
    {
      aud: resource,
      iss: `https://sts.windows.net/${o.tenantId}/`,
      tid: o.tenantId,
      appid: app.clientId,
      oid: app.clientId
    },
    o.tokenLifetimeS
  );
  o.onToken?.(app.clientId, accessToken);
  return json(200, {
    token_type: 'Bearer',
    expires_in: o.tokenLifetimeS,
    ext_expires_in: o.tokenLifetimeS,
    access_token: accessToken
  });
}

async function checkFederated(
  assertion: string,
  app: AppSpec,
  githubKey: KeyPair
): Promise<Response | undefined> {
  const verified = await verify(githubKey, assertion);
  const claims = verified.ok ? verified.claims : peek(assertion);
  if (!verified.ok) {
    return verified.reason === 'expired'
      ? json(
          400,
          entraError('invalid_client', 700024, 'Client assertion is not within its valid time range.')
        )
      : json(
          401,
          entraError(
            'invalid_client',
            700027,
            'The certificate with identifier used to sign the client assertion is not registered on application.'
          )
        );
  }
  const aud = Array.isArray(claims?.aud) ? claims.aud : [claims?.aud];
  const trusted =
    (app.federatedSubjects ?? []).includes(String(claims?.sub)) &&
    claims?.iss === GITHUB_ISSUER &&
    aud.includes(FEDERATED_AUDIENCE);
  if (!trusted) {
    return json(
      400,
      entraError(
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${claims?.iss}'. Assertion Subject: '${claims?.sub}'. Assertion Audience: '${aud.join(',')}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
      )
    );
  }
  return undefined;
}
