/**
 * A slow network link in front of a local server: a TCP relay on 127.0.0.1 that holds every chunk
 * for half the round trip in each direction. Unlike a delay added to the answer, it slows the TCP
 * and TLS handshakes too, and a request reaches the server half a round trip after the client
 * wrote it — as with a distant GitHub.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SlowLink {
  port: number;
  close(): Promise<void>;
}

export async function slowLink(targetPort: number, roundTripMs: number): Promise<SlowLink> {
  const oneWay = roundTripMs / 2;
  const sockets = new Set<Socket>();
  const server: Server = createServer(client => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream, oneWay);
    relay(upstream, client, oneWay);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      })
  };
}

/** Copies `from` to `to`, each chunk (and the end) delivered `delayMs` after it arrived, in order. */
function relay(from: Socket, to: Socket, delayMs: number): void {
  const queue: { at: number; chunk?: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    while (queue.length && queue[0]!.at <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (to.destroyed) return;
      if (chunk) to.write(chunk);
      else to.end();
    }
    if (queue.length) timer = setTimeout(flush, queue[0]!.at - Date.now());
  };
  const push = (chunk?: Buffer) => {
    queue.push({ at: Date.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on('data', chunk => push(chunk));
  from.on('end', () => push());
  from.on('close', () => {
    // A reset travels no faster than the data before it.
    if (!to.destroyed) setTimeout(() => to.destroy(), delayMs + 1);
  });
}
