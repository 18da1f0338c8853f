/**
 * The baseline the cron scripts implement: list the deallocated, tagged Spot VMs, then start each
 * one and wait for it, in turn. Same SDKs, same emulator, so the comparison is only the method.
 * Env: ARM (endpoint), AUTHORITY, TENANT, CLIENT, SECRET, SUBSCRIPTIONS (comma separated).
 */
import { ComputeManagementClient } from '@azure/arm-compute';
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { ClientSecretCredential } from '@azure/identity';
import { buildVmQuery } from '../../src/discover/discovery.js';
import { hasTag } from '../../src/judge/eligibility.js';

const env = process.env as Record<string, string>;
const credential = new ClientSecretCredential(env.TENANT!, env.CLIENT!, env.SECRET!, {
  authorityHost: env.AUTHORITY,
  disableInstanceDiscovery: true
});
const options = { endpoint: env.ARM, credentials: { scopes: [`${env.ARM}/.default`] } };
const graph = new ResourceGraphClient(credential, options);
const subscriptions = env.SUBSCRIPTIONS!.split(',');
const rows: { name: string; resourceGroup: string; subscriptionId: string; tags: Record<string, string> }[] =
  [];
let skipToken: string | undefined;
do {
  const page = await graph.resources({
    query: buildVmQuery({ candidatesOnly: true, withAnnotations: false }),
    subscriptions,
    options: { top: 1000, skipToken }
  });
  rows.push(...(page.data as typeof rows));
  skipToken = page.skipToken;
} while (skipToken);
let started = 0;
for (const vm of rows.filter(r => hasTag(r.tags, 'AttemptRestartAfterEviction', 'true'))) {
  const compute = new ComputeManagementClient(credential, vm.subscriptionId, options);
  await compute.virtualMachines.start(vm.resourceGroup, vm.name, { updateIntervalInMs: 50 }).pollUntilDone();
  started++;
}
console.log(JSON.stringify({ started }));
