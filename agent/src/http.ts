/**
 * One small HTTP client over node:http/https for everything the agent sends. Not `fetch`: loading
 * it costs the agent about a quarter of its memory, and IMDS must never go through a proxy.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class HttpError extends Error {
  constructor(
    readonly kind: 'timeout' | 'connection',
    message: string
  ) {
    super(message);
  }
}

export function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs: number;
    /** Called once the whole request (headers and body) has been handed to the operating system. */
    onWritten?: () => void;
  }
): Promise<HttpAnswer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? 'GET',
        headers: {
          ...(options.body ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers
        },
        timeout: options.timeoutMs
      },
      res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', c => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', e => reject(new HttpError('connection', e.message)));
      }
    );
    req.on('timeout', () =>
      req.destroy(new HttpError('timeout', `no answer within ${options.timeoutMs} ms`))
    );
    req.on('error', e => reject(e instanceof HttpError ? e : new HttpError('connection', e.message)));
    if (options.onWritten) req.on('finish', options.onWritten);
    req.end(options.body);
  });
}

export function header(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
