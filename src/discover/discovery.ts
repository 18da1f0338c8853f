/**
 * Finding VMs with Azure Resource Graph: one query per page of up to 1000 rows, `order by id`, at
 * most 1000 subscriptions per request, paced by ARG's per-user quota headers.
 *
 * Paging a result that changes between page requests can repeat or skip rows (Microsoft Learn,
 * "Working with large Azure resource data sets": paging results), and during a mass eviction the
 * power state changes by the second. So the query filters only on what an eviction does not
 * change (type, priority, eviction policy) and the power state is judged from the rows and the
 * instance view.
 */
import * as core from '@actions/core';
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { kqlList, kqlString } from '../azure/kql.js';
import { parseRetryAfter } from '../azure/errors.js';
import { withTransientRetry, type Clock } from '../azure/retry.js';
import type { AnnotationEvidence } from './annotations.js';
import type { TargetKind } from '../report/outcomes.js';

/** A VM as the action sees it: the row our query projects. Scale-set instances are VMs too. */
export interface VmRecord {
  id: string;
  /** A standalone VM, or an instance of a Flexible or Uniform scale set. */
  kind: TargetKind;
  /** The scale set of an instance, its tags (opt-in may sit there) and whether Azure restores it (Try & restore). */
  scaleSet?: { id: string; name: string; tags: Record<string, string>; tryRestore: boolean };
  /** A Uniform instance's id within its scale set. */
  instanceId?: string;
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
  /** `Linux` or `Windows` (the OS disk's type): Spot prices differ per OS. */
  osType?: string;
  /** The availability zone of a zonal VM. */
  zone?: string;
  /** The VM's latest Resource Health annotation (`resourceAnnotations/current`), when read. */
  annotationName: string;
  annotationAt: string;
  annotationContext?: string;
  /** Earlier annotations from `HealthResourceChanges`, read only when the current one does not explain the deallocation. */
  history?: AnnotationEvidence[];
}

export const PAGE_SIZE = 1000;
/** Resource Graph refuses long explicit subscription lists; 1000 per request is the limit we work within (and the emulator enforces). */
export const SUBSCRIPTIONS_PER_REQUEST = 1000;

/** Power states in which a sweep looks closer: down, or on the way down. */
export const DOWN_STATES = ['PowerState/deallocated', 'PowerState/deallocating'];

export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

export interface VmFilter {
  /** The sweep reads only what can be eligible: Spot, policy Deallocate (the power state is judged from the rows). */
  candidatesOnly: boolean;
  resourceGroups?: string[];
  ids?: string[];
  /** `resource-group/name` pairs from the `vms` input. */
  names?: { resourceGroup: string; name: string }[];
  withAnnotations: boolean;
}

const SCALE_SETS =
  "resources | where type =~ 'microsoft.compute/virtualmachinescalesets'" +
  ' | project scaleSetKey = tolower(id), scaleSetTags = tags,' +
  ' tryRestore = tostring(properties.spotRestorePolicy.enabled),' +
  ' ssPriority = tostring(properties.virtualMachineProfile.priority),' +
  ' ssEvictionPolicy = tostring(properties.virtualMachineProfile.evictionPolicy),' +
  ' ssMaxPrice = todouble(properties.virtualMachineProfile.billingProfile.maxPrice),' +
  ' ssSize = tostring(sku.name)';

/** Which tables a lookup needs: standalone and Flexible VMs live in `resources`, Uniform instances in `computeresources`. */
export function buildQueries(filter: VmFilter): string[] {
  const uniformIds = filter.ids?.filter(id => /\/virtualMachineScaleSets\//i.test(id));
  const vmIds = filter.ids?.filter(id => !/\/virtualMachineScaleSets\//i.test(id));
  const queries: string[] = [];
  if (!filter.ids || vmIds!.length) queries.push(buildVmQuery({ ...filter, ids: filter.ids && vmIds }));
  if (!filter.ids || uniformIds!.length)
    queries.push(buildUniformQuery({ ...filter, ids: filter.ids && uniformIds }));
  return queries;
}

function scopeFilters(filter: VmFilter): string[] {
  const lines: string[] = [];
  if (filter.resourceGroups?.length)
    lines.push(`| where resourceGroup in~ ${kqlList(filter.resourceGroups)}`);
  if (filter.ids?.length) lines.push(`| where id in~ ${kqlList(filter.ids)}`);
  if (filter.names?.length) {
    const pairs = filter.names.map(
      n => `(resourceGroup =~ ${kqlString(n.resourceGroup)} and name =~ ${kqlString(n.name)})`
    );
    lines.push(`| where ${pairs.join(' or ')}`);
  }
  return lines;
}

function annotationJoin(filter: VmFilter): string[] {
  if (!filter.withAnnotations) return [];
  return [
    '| extend vmKey = tolower(id)',
    '| join kind=leftouter (',
    '    healthresources',
    "    | where type =~ 'microsoft.resourcehealth/resourceannotations'",
    '    | extend vmKey = tolower(tostring(properties.targetResourceId))',
    '    | project vmKey, annotationName = tostring(properties.annotationName), annotationAt = tostring(properties.occurredTime), annotationContext = tostring(properties.context)',
    '  ) on vmKey'
  ];
}

const annotationColumns = (filter: VmFilter) =>
  filter.withAnnotations ? ', annotationName, annotationAt, annotationContext' : '';

/** Standalone VMs and Flexible scale-set instances; every value in it is a KQL string literal. */
export function buildVmQuery(filter: VmFilter): string {
  const lines = ['resources', "| where type =~ 'microsoft.compute/virtualmachines'"];
  if (filter.candidatesOnly) {
    lines.push(
      "| where tostring(properties.priority) =~ 'Spot'",
      "| where tostring(properties.evictionPolicy) =~ 'Deallocate'"
    );
  }
  lines.push(...scopeFilters(filter));
  lines.push(
    '| extend scaleSetKey = tolower(tostring(properties.virtualMachineScaleSet.id))',
    `| join kind=leftouter (${SCALE_SETS}) on scaleSetKey`,
    ...annotationJoin(filter),
    '| project id, name, resourceGroup, subscriptionId, location, tags,' +
      ' vmSize = tostring(properties.hardwareProfile.vmSize),' +
      ' priority = tostring(properties.priority),' +
      ' evictionPolicy = tostring(properties.evictionPolicy),' +
      ' powerState = tostring(properties.extended.instanceView.powerState.code),' +
      ' maxPrice = todouble(properties.billingProfile.maxPrice),' +
      ' scaleSetId = tostring(properties.virtualMachineScaleSet.id), scaleSetTags, tryRestore,' +
      ' osType = tostring(properties.storageProfile.osDisk.osType), zone = tostring(zones[0])' +
      annotationColumns(filter),
    '| order by id asc'
  );
  return lines.join('\n');
}

/**
 * Uniform scale-set instances (`computeresources`, Microsoft Learn's Resource Graph samples for
 * ComputeResources): priority, eviction policy, max price, size and usually the tags belong to the
 * scale set, joined from `resources`.
 */
export function buildUniformQuery(filter: VmFilter): string {
  const lines = [
    'computeresources',
    "| where type =~ 'microsoft.compute/virtualmachinescalesets/virtualmachines'",
    ...scopeFilters(filter),
    "| extend scaleSetKey = tolower(tostring(split(id, '/virtualMachines/')[0]))",
    `| join kind=inner (${SCALE_SETS}) on scaleSetKey`
  ];
  if (filter.candidatesOnly)
    lines.push("| where ssPriority =~ 'Spot'", "| where ssEvictionPolicy =~ 'Deallocate'");
  lines.push(
    ...annotationJoin(filter),
    '| project id, name, resourceGroup, subscriptionId, location, tags,' +
      ' vmSize = ssSize, priority = ssPriority, evictionPolicy = ssEvictionPolicy,' +
      ' powerState = tostring(properties.extended.instanceView.powerState.code),' +
      ' maxPrice = ssMaxPrice, instanceId = tostring(properties.instanceId),' +
      " scaleSetId = tostring(split(id, '/virtualMachines/')[0]), scaleSetTags, tryRestore," +
      ' zone = tostring(zones[0])' +
      annotationColumns(filter),
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
 * Runs a query over every page, in batches of at most 1000 subscriptions. `subscriptions` empty
 * means every subscription the identity can read (ARG's own default when the field is left out).
 * A row seen twice (a moving result) is kept once; a result ARG truncated is an error, never a
 * silent first page.
 */
export async function queryVms(
  client: ResourceGraphClient,
  query: string,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats = { requests: 0, pages: 0, quotaWaits: 0 }
): Promise<VmRecord[]> {
  const byId = new Map<string, VmRecord>();
  for (const row of await queryRows(client, query, subscriptions, clock, stats)) {
    const vm = toRecord(row);
    byId.set(vm.id.toLowerCase(), vm);
  }
  return [...byId.values()];
}

/** Every VM (of any kind) a filter matches: one query per table it needs. */
export async function lookupVms(
  client: ResourceGraphClient,
  filter: VmFilter,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): Promise<VmRecord[]> {
  const found: VmRecord[] = [];
  for (const query of buildQueries(filter))
    found.push(...(await queryVms(client, query, subscriptions, clock, stats)));
  return found;
}

export async function queryRows(
  client: ResourceGraphClient,
  query: string,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  const batches = subscriptions.length ? chunk(subscriptions, SUBSCRIPTIONS_PER_REQUEST) : [undefined];
  const quota = { waitMs: 0 };
  for (const batch of batches) rows.push(...(await queryPages(client, query, batch, clock, stats, quota)));
  return rows;
}

async function queryPages(
  client: ResourceGraphClient,
  query: string,
  subscriptions: string[] | undefined,
  clock: Clock,
  stats: DiscoveryStats,
  quota: { waitMs: number }
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let skipToken: string | undefined;
  let expected: number | undefined;
  do {
    if (quota.waitMs > 0) {
      stats.quotaWaits++;
      core.info(`Resource Graph quota used up: waiting ${quota.waitMs} ms for it to refill.`);
      await clock.sleep(quota.waitMs);
      quota.waitMs = 0;
    }
    const page = await withTransientRetry(clock, 'Resource Graph query', () => {
      stats.requests++;
      return client.resources(
        { query, subscriptions, options: { top: PAGE_SIZE, skipToken, resultFormat: 'objectArray' } },
        {
          onResponse: response => {
            quota.waitMs = quotaWait(
              response.headers.get('x-ms-user-quota-remaining'),
              response.headers.get('x-ms-user-quota-resets-after')
            );
          }
        }
      );
    });
    stats.pages++;
    // `resultTruncated` is a string in the 2024-04-01 description ("true"/"false"), a boolean in older ones.
    if (String(page.resultTruncated).toLowerCase() === 'true') {
      throw new DiscoveryError(
        `Resource Graph truncated the result at ${page.count} of ${page.totalRecords} rows and gave no way to page on: the query must project 'id' to be paged.`
      );
    }
    expected ??= page.totalRecords;
    rows.push(...(page.data as Record<string, unknown>[]));
    skipToken = page.skipToken;
  } while (skipToken);
  if (expected !== undefined && rows.length < expected) {
    throw new DiscoveryError(
      `Resource Graph said the result has ${expected} rows but returned ${rows.length} and no $skipToken for the rest; no VM was judged from a partial list.`
    );
  }
  return rows;
}

function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** ARG says how many queries are left in the window and when it refills (`hh:mm:ss`). */
export function quotaWait(remaining: string | undefined, resetsAfter: string | undefined): number {
  if (remaining === undefined || Number(remaining) > 0) return 0;
  const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(resetsAfter ?? '');
  if (!match) return parseRetryAfter(resetsAfter ?? '') ?? 1000;
  return Math.ceil((Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000);
}

/** A row of either query, as the rest of the action sees it. */
export function toRecord(row: Record<string, unknown>): VmRecord {
  const str = (key: string) => (typeof row[key] === 'string' ? (row[key] as string) : '');
  const tags: Record<string, string> = {};
  if (row.tags && typeof row.tags === 'object') {
    for (const [k, v] of Object.entries(row.tags as Record<string, unknown>)) tags[k] = String(v);
  }
  const maxPrice = typeof row.maxPrice === 'number' ? row.maxPrice : null;
  const scaleSetId = str('scaleSetId');
  const scaleSetTags: Record<string, string> = {};
  if (row.scaleSetTags && typeof row.scaleSetTags === 'object') {
    for (const [k, v] of Object.entries(row.scaleSetTags as Record<string, unknown>))
      scaleSetTags[k] = String(v);
  }
  const uniform = /\/virtualMachineScaleSets\/[^/]+\/virtualMachines\/[^/]+$/i.test(str('id'));
  return {
    id: str('id'),
    kind: uniform ? 'vmss-uniform' : scaleSetId ? 'vmss-flex' : 'vm',
    scaleSet: scaleSetId
      ? {
          id: scaleSetId,
          name: scaleSetId.split('/').pop()!,
          tags: scaleSetTags,
          tryRestore: str('tryRestore').toLowerCase() === 'true'
        }
      : undefined,
    instanceId: uniform ? str('instanceId') || str('id').split('/').pop() : undefined,
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
    osType: str('osType') || undefined,
    zone: str('zone') || undefined,
    annotationName: str('annotationName'),
    annotationAt: str('annotationAt'),
    annotationContext: str('annotationContext') || undefined
  };
}
