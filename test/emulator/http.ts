/** The small HTTP vocabulary the emulator's handlers share. */
import type { IncomingMessage } from 'node:http';

export interface Request {
  method: string;
  url: URL;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json(): unknown;
  form(): URLSearchParams;
}

export interface Response {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body
});

export const empty = (status: number, headers: Record<string, string> = {}): Response => ({
  status,
  headers
});

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function makeRequest(req: IncomingMessage, body: string, base: string): Request {
  const url = new URL(req.url ?? '/', base);
  return {
    method: req.method ?? 'GET',
    url,
    path: url.pathname,
    headers: req.headers,
    body,
    json: () => JSON.parse(body || 'null'),
    form: () => new URLSearchParams(body)
  };
}

export function bearer(req: Request): string | undefined {
  const value = req.headers.authorization;
  const match = /^(?:Bearer|token)\s+(.+)$/i.exec(value ?? '');
  return match?.[1];
}
