/**
 * One small HTTP client over node:http/https for everything the agent sends. Not `fetch`: loading
 * it costs the agent about a quarter of its memory, and IMDS must never go through a proxy.
 *
 * The agent's steady state is one plain-HTTP poll of IMDS a second, so that path loads as little
 * as it can: node:https (and with it TLS and most of node:crypto) is loaded on the first HTTPS
 * request only — when GitHub is called — and IMDS is polled over one kept-alive socket.
 */
import { Agent, request as httpRequest, type ClientRequest, type RequestOptions } from 'node:http';

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

/** Plain HTTP (IMDS): one socket, kept open between polls, so a poll allocates no new connection. */
const plainAgent = new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });

type Requester = (
  url: URL,
  options: RequestOptions,
  onResponse: Parameters<typeof httpRequest>[2]
) => ClientRequest;
let httpsRequest: Requester | undefined;

async function requesterFor(target: URL): Promise<Requester> {
  if (target.protocol !== 'https:')
    return (url, options, onResponse) => httpRequest(url, { ...options, agent: plainAgent }, onResponse);
  httpsRequest ??= (await import('node:https')).request as Requester;
  return httpsRequest;
}

export async function send(
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
  const request = await requesterFor(target);
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
