/** One HTTPS request to the emulator, trusting its CA, with the answer's status, headers and JSON body. */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { Emulator } from '../emulator/server.js';

export type Answer = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
};

export function httpsCall(
  emu: Emulator,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; form?: Record<string, string> } = {}
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
