/**
 * Finding VMs with Azure Resource Graph: one query per page of up to 1000 rows, `order by id` for
 * stable pages, many subscriptions per request, paced by ARG's per-user quota headers.
 */
import * as core from '@actions/core';
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { kqlList, kqlString } from './kql.js';
import { parseRetryAfter } from './errors.js';
import { withTransientRetry, type Clock } from './retry.js';

/** A VM as the action sees it: the row our query projects. */
export interface VmRecord {
  id: string;
  name: string;
  resourceGroup: string;
  subscriptionId: string;
  location: string;
  vmSize: string;
  priority: string;
  evictionPolicy: string;
  powerState: string;
  tags: Record<string, string>;
  maxPrice: number | null;
  /** The VM's latest Resource Health annotation (`resourceAnnotations/current`), when read. */
  annotationName: string;
  annotationAt: string;
}

export const PAGE_SIZE = 1000;
export const ANNOTATION_USER_STOPPED = 'VirtualMachineDeallocationInitiated';

export interface VmFilter {
  /** The sweep reads only what can be eligible: Spot, policy Deallocate, deallocated. */
  candidatesOnly: boolean;
  resourceGroups?: string[];
  ids?: string[];
  /** `resource-group/name` pairs from the `vms` input. */
  names?: { resourceGroup: string; name: string }[];
  withAnnotations: boolean;
}

/** Builds the one query the action sends; every value in it is a KQL string literal. */
export function buildVmQuery(filter: VmFilter): string {
  const lines = ['resources', "| where type =~ 'microsoft.compute/virtualmachines'"];
  if (filter.candidatesOnly) {
    lines.push(
      "| where tostring(properties.priority) =~ 'Spot'",
      "| where tostring(properties.evictionPolicy) =~ 'Deallocate'",
      "| where tostring(properties.extended.instanceView.powerState.code) =~ 'PowerState/deallocated'"
    );
  }
  if (filter.resourceGroups?.length)
    lines.push(`| where resourceGroup in~ ${kqlList(filter.resourceGroups)}`);
  if (filter.ids?.length) lines.push(`| where id in~ ${kqlList(filter.ids)}`);
  if (filter.names?.length) {
    const pairs = filter.names.map(
      n => `(resourceGroup =~ ${kqlString(n.resourceGroup)} and name =~ ${kqlString(n.name)})`
    );
    lines.push(`| where ${pairs.join(' or ')}`);
  }
  if (filter.withAnnotations) {
    lines.push(
      '| extend vmKey = tolower(id)',
      '| join kind=leftouter (',
      '    healthresources',
      "    | where type =~ 'microsoft.resourcehealth/resourceannotations'",
      '    | extend vmKey = tolower(tostring(properties.targetResourceId))',
      '    | project vmKey, annotationName = tostring(properties.annotationName), annotationAt = tostring(properties.occurredTime)',
      '  ) on vmKey'
    );
  }
  lines.push(
    '| project id, name, resourceGroup, subscriptionId, location, tags,' +
      ' vmSize = tostring(properties.hardwareProfile.vmSize),' +
      ' priority = tostring(properties.priority),' +
      ' evictionPolicy = tostring(properties.evictionPolicy),' +
      ' powerState = tostring(properties.extended.instanceView.powerState.code),' +
      ' maxPrice = todouble(properties.billingProfile.maxPrice)' +
      (filter.withAnnotations ? ', annotationName, annotationAt' : ''),
    '| order by id asc'
  );
  return lines.join('\n');
}

export interface DiscoveryStats {
  requests: number;
  pages: number;
  quotaWaits: number;
}

/**
 * Runs a query over every page. `subscriptions` empty means every subscription the identity can
 * read (ARG's own default when the field is left out).
 */
export async function queryVms(
  client: ResourceGraphClient,
  query: string,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats = { requests: 0, pages: 0, quotaWaits: 0 }
): Promise<VmRecord[]> {
  const rows: VmRecord[] = [];
  let skipToken: string | undefined;
  let quotaWaitMs = 0;
  do {
    if (quotaWaitMs > 0) {
      stats.quotaWaits++;
      core.info(`Resource Graph quota used up: waiting ${quotaWaitMs} ms for it to refill.`);
      await clock.sleep(quotaWaitMs);
    }
    const page = await withTransientRetry(clock, 'Resource Graph query', () => {
      stats.requests++;
      return client.resources(
        {
          query,
          subscriptions: subscriptions.length ? subscriptions : undefined,
          options: { top: PAGE_SIZE, skipToken, resultFormat: 'objectArray' }
        },
        {
          onResponse: response => {
            quotaWaitMs = quotaWait(
              response.headers.get('x-ms-user-quota-remaining'),
              response.headers.get('x-ms-user-quota-resets-after')
            );
          }
        }
      );
    });
    stats.pages++;
    for (const row of page.data as Record<string, unknown>[]) rows.push(toRecord(row));
    skipToken = page.skipToken;
  } while (skipToken);
  return rows;
}

/** ARG says how many queries are left in the window and when it refills (`hh:mm:ss`). */
export function quotaWait(remaining: string | undefined, resetsAfter: string | undefined): number {
  if (remaining === undefined || Number(remaining) > 0) return 0;
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(resetsAfter ?? '');
  if (!match) return parseRetryAfter(resetsAfter ?? '') ?? 1000;
  return Math.ceil((Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000);
}

function toRecord(row: Record<string, unknown>): VmRecord {
  const str = (key: string) => (typeof row[key] === 'string' ? (row[key] as string) : '');
  const tags: Record<string, string> = {};
  if (row.tags && typeof row.tags === 'object') {
    for (const [k, v] of Object.entries(row.tags as Record<string, unknown>)) tags[k] = String(v);
  }
  const maxPrice = typeof row.maxPrice === 'number' ? row.maxPrice : null;
  return {
    id: str('id'),
    name: str('name'),
    resourceGroup: str('resourceGroup'),
    subscriptionId: str('subscriptionId'),
    location: str('location'),
    vmSize: str('vmSize'),
    priority: str('priority'),
    evictionPolicy: str('evictionPolicy'),
    powerState: str('powerState'),
    tags,
    maxPrice,
    annotationName: str('annotationName'),
    annotationAt: str('annotationAt')
  };
}
