/**
 * The Azure SDK clients of a run, loaded when the run first needs them. The Compute client alone
 * is about a third of the bundle: evaluating it at start-up delayed the first request (the GitHub
 * OIDC token) of every run, and a run refused at its inputs never needs it. Loaded here and only
 * here, so the rest of the code keeps static types and one place decides when the cost is paid.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { Agent } from 'node:https';
import type { ComputeManagementClient, ComputeManagementClientOptionalParams } from '@azure/arm-compute';
import type { ResourceGraphClient, ResourceGraphClientOptionalParams } from '@azure/arm-resourcegraph';
import type { TokenCredential } from '@azure/identity';

/**
 * Connections to Resource Manager at once. The budgets allow a subscription about 35 requests a
 * second after its burst; at a round trip of 100–300 ms, 128 connections carry the burst of several
 * subscriptions, and requests beyond them wait for a free connection rather than open one.
 */
const MAX_SOCKETS = 128;

/** One Compute client per subscription, made on first use. */
export type ComputeFor = (subscriptionId: string) => ComputeManagementClient;

export interface AzureClients {
  graph: ResourceGraphClient;
  compute: ComputeFor;
}

export type ClientOptions = ResourceGraphClientOptionalParams & ComputeManagementClientOptionalParams;

export async function loadAzureClients(
  credential: TokenCredential,
  options: ClientOptions
): Promise<AzureClients> {
  // The run's first request (GitHub's OIDC token, to be exchanged for Azure's) goes out first,
  // and the SDK loads while the answers travel; the clients then find the token in the
  // credential's cache. Loading earlier would hold the request back: a socket is written only
  // when the event loop comes round, and compiling the SDK keeps it busy.
  const sent = requestSent();
  const token = credential.getToken(options.credentials!.scopes!).catch(() => undefined);
  await Promise.race([sent.promise, token]).finally(sent.stopWatching);
  // One after the other: they share most of their dependencies, and the second finds them loaded.
  const { ResourceGraphClient } = await import('@azure/arm-resourcegraph');
  const { ComputeManagementClient } = await import('@azure/arm-compute');
  // One pool of kept-alive connections for every client of the run. Each SDK client would
  // otherwise keep its own, unbounded: thousands of requests in flight opened thousands of
  // connections, each a TLS handshake that costs both ends CPU (measured in docs/performance.md).
  options = { ...options, agent: new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }) };
  const computeClients = new Map<string, ComputeManagementClient>();
  return {
    graph: new ResourceGraphClient(credential, options),
    compute: subscriptionId => {
      let client = computeClients.get(subscriptionId);
      if (!client) {
        client = new ComputeManagementClient(credential, subscriptionId, options);
        computeClients.set(subscriptionId, client);
      }
      return client;
    }
  };
}

/** Resolves once the next request made with node:http(s) has been written to its socket. */
function requestSent(): { promise: Promise<void>; stopWatching: () => void } {
  let onStart: (message: unknown) => void = () => undefined;
  const stopWatching = () => unsubscribe('http.client.request.start', onStart);
  const promise = new Promise<void>(resolve => {
    onStart = message => {
      stopWatching();
      const request = (message as { request: ClientRequest }).request;
      request.once('finish', () => resolve());
      request.once('close', () => resolve());
    };
    subscribe('http.client.request.start', onStart);
  });
  return { promise, stopWatching };
}
