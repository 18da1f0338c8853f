/**
 * The SDK clients load once the run's first request is on its way, not before it (which would
 * delay it) and not after its answer (which would waste the wait).
 */
import { request, createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { loadAzureClients } from '../../src/azure/clients.js';

const options = {
  endpoint: 'https://management.test',
  credentials: { scopes: ['https://management.test/.default'] }
};
let url = '';
let arrived: (req: IncomingMessage) => void = () => undefined;
const server = createServer(req => arrived(req)); // never answers

beforeAll(async () => {
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise(r => server.close(r));
});

describe('loadAzureClients', () => {
  test('does not wait for the token, only for its request to be sent', async () => {
    let asked = 0;
    const received = new Promise<IncomingMessage>(resolve => (arrived = resolve));
    const credential: TokenCredential = {
      getToken: () => {
        asked++;
        return new Promise<AccessToken | null>(() =>
          request(url, { method: 'POST' })
            .on('error', () => undefined)
            .end('x')
        );
      }
    };
    const clients = await loadAzureClients(credential, options);
    expect(asked).toBe(1);
    expect((await received).method).toBe('POST');
    expect(clients.graph.constructor.name).toBe('ResourceGraphClient');
    expect(clients.compute('sub-1')).toBe(clients.compute('sub-1'));
    expect(clients.compute('sub-2')).not.toBe(clients.compute('sub-1'));
  });

  test('a credential that fails before sending anything does not hold the clients back', async () => {
    const credential: TokenCredential = { getToken: () => Promise.reject(new Error('no OIDC here')) };
    const clients = await loadAzureClients(credential, options);
    expect(clients.compute('sub-1').constructor.name).toBe('ComputeManagementClient');
  });
});
