/**
 * Entra ID's OpenID metadata document, as `GET {authority}/{tenant}/v2.0/.well-known/openid-configuration`
 * returns it (the fields MSAL reads: endpoints and issuer). Shared by the emulator and the unit tests.
 */
export function openIdConfiguration(authority: string, tenant: string) {
  const base = `${authority}/${tenant}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid', 'ver'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net'
  };
}

/** Entra's token endpoint error shape (AADSTS codes), e.g. for a federated credential that does not match. */
export function entraError(
  error: string,
  aadsts: number,
  description: string,
  traceId = '00000000-0000-0000-0000-000000000000'
) {
  const timestamp = new Date().toISOString().replace('T', ' ').replace('Z', 'Z');
  return {
    error,
    error_description: `AADSTS${aadsts}: ${description} Trace ID: ${traceId} Correlation ID: ${traceId} Timestamp: ${timestamp}`,
    error_codes: [aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: traceId,
    error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`
  };
}
