/**
 * One HTTPS request to the emulator, trusting its CA, with the answer's status, headers and JSON
 * body; and the requests every conformance test starts from (an app's sign-in, Resource Graph's path).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { Emulator } from '../emulator/server.js';

export type Answer = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
};

/** An Authorization value, and a JSON body or a form (sent url-encoded). */
export type CallOptions = { auth?: string; body?: unknown; form?: Record<string, string> };

/** Resource Graph's query operation at the version the action calls. */
export const RESOURCE_GRAPH = '/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01';

export function httpsCall(
  emu: Emulator,
  method: string,
  path: string,
  options: CallOptions = {}
): Promise<Answer> {
  const data = options.form
    ? new URLSearchParams(options.form).toString()
    : options.body === undefined
      ? ''
      : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.url}${path}`,
      {
        method,
        ca: readFileSync(emu.caFile),
        headers: {
          'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
          ...(options.auth ? { authorization: options.auth } : {})
        }
      },
      res => {
        let text = '';
        res.on('data', c => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? JSON.parse(text) : undefined
          })
        );
      }
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Entra ID's client-credentials grant for an app, with the secret given (right or wrong). */
export function tokenRequest(emu: Emulator, clientId: string, secret: string): Promise<Answer> {
  return httpsCall(emu, 'POST', `/${emu.tenantId}/oauth2/v2.0/token`, {
    form: {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      scope: `${emu.url}/.default`
    }
  });
}

/** Signs an app in; its access token as an Authorization value. */
export async function signIn(emu: Emulator, clientId: string, secret: string): Promise<string> {
  const answer = await tokenRequest(emu, clientId, secret);
  // A refused sign-in would otherwise surface later as a puzzling 401 on the request under test.
  if (answer.status !== 200)
    throw new Error(`app ${clientId} could not sign in: ${answer.status} ${JSON.stringify(answer.body)}`);
  return `Bearer ${(answer.body as { access_token: string }).access_token}`;
}
