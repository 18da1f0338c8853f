/**
 * The Azure SDK clients of a run, loaded when the run first needs them. The Compute client alone
 * is about a third of the bundle: evaluating it at start-up delayed the first request (the GitHub
 * OIDC token) of every run, and a run refused at its inputs never needs it. Loaded here and only
 * here, so the rest of the code keeps static types and one place decides when the cost is paid.
 */
import type { ComputeManagementClient, ComputeManagementClientOptionalParams } from '@azure/arm-compute';
import type { ResourceGraphClient, ResourceGraphClientOptionalParams } from '@azure/arm-resourcegraph';
import type { TokenCredential } from '@azure/identity';

export interface AzureClients {
  graph: ResourceGraphClient;
  /** One Compute client per subscription, made on first use. */
  compute: (subscriptionId: string) => ComputeManagementClient;
}

export type ClientOptions = ResourceGraphClientOptionalParams & ComputeManagementClientOptionalParams;

export async function loadAzureClients(
  credential: TokenCredential,
  options: ClientOptions
): Promise<AzureClients> {
  // The run's first request (GitHub's OIDC token, exchanged for Azure's) goes out before the SDK
  // loads, and travels while it does; the clients then find the token in the credential's cache.
  void credential.getToken(options.credentials!.scopes!).catch(() => undefined);
  const [{ ResourceGraphClient }, { ComputeManagementClient }] = await Promise.all([
    import('@azure/arm-resourcegraph'),
    import('@azure/arm-compute')
  ]);
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
