/**
 * The Instance Metadata Service of every emulated VM, each at its own local URL
 * (`<imds>/<vm-key>`), speaking IMDS's paths: compute metadata, Scheduled Events and their
 * approval (`StartRequests`). Like IMDS it wants `Metadata: true` and answers 400 without it.
 */
import { createHash } from 'node:crypto';
import { empty, json, type Request, type Response } from '../http.js';
import type { SpotModel, Vm } from './spot.js';

export interface ImdsOptions {
  model: SpotModel;
  /** VMs whose IMDS is down (answers are dropped), e.g. for the outage scenario. */
  down: Set<string>;
}

/** The path prefix of a VM's IMDS: a short stable hash of its resource ID. */
export function imdsPrefix(vm: Pick<Vm, 'key'>): string {
  return `/${createHash('sha256').update(vm.key).digest('hex').slice(0, 12)}`;
}

export function handleImds(req: Request, o: ImdsOptions): Response | 'drop' | undefined {
  const match = /^\/([0-9a-f]{12})(\/metadata\/.*)$/.exec(req.path);
  if (!match) return undefined;
  const vm = [...o.model.vms.values()].find(v => imdsPrefix(v) === `/${match[1]}`);
  if (!vm || vm.deleted) return 'drop';
  if (o.down.has(vm.key)) return 'drop';
  if (req.headers.metadata !== 'true') {
    return json(400, { error: 'Bad request. Required metadata header not specified' });
  }
  const path = match[2];
  if (path === '/metadata/scheduledevents') {
    if (req.method === 'POST') {
      let body: { StartRequests?: { EventId?: string }[] };
      try {
        body = req.json() as typeof body;
      } catch {
        return json(400, { error: 'Bad request. Invalid JSON' });
      }
      for (const r of body.StartRequests ?? []) if (r.EventId) o.model.approve(vm, r.EventId);
      return empty(200);
    }
    return json(200, { DocumentIncarnation: vm.incarnation, Events: vm.events });
  }
  if (path === '/metadata/instance/compute') {
    return json(200, {
      azEnvironment: 'AzurePublicCloud',
      location: vm.location,
      name: vm.name,
      resourceGroupName: vm.resourceGroup,
      resourceId: vm.id,
      subscriptionId: vm.subscriptionId,
      vmId: vm.vmId,
      vmSize: vm.vmSize,
      zone: vm.zone ?? '',
      priority: vm.priority,
      evictionPolicy: vm.priority === 'Spot' ? vm.evictionPolicy.toLowerCase() : '',
      tagsList: Object.entries(vm.tags).map(([name, value]) => ({ name, value })),
      tags: Object.entries(vm.tags)
        .map(([k, v]) => `${k}:${v}`)
        .join(';'),
      osType: 'Linux',
      // Inside a scale-set instance IMDS names its scale set; `name` is `{ss}_{n}` for Uniform and
      // `resourceId` the instance's own ID (Microsoft Learn, "Azure Instance Metadata Service").
      ...(vm.scaleSet ? { vmScaleSetName: vm.scaleSet.name } : {})
    });
  }
  return json(404, { error: 'Not found' });
}
