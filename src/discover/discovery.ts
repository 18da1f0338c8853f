/**
 * Finding VMs with Azure Resource Graph, within its documented limits:
 * - Joins (Microsoft Learn, "Understanding the Azure Resource Graph query language"): at most three
 *   `join`s in a query, of which one may be cross-table unless all cross-table joins are between
 *   Resources and ResourceContainers. The VM query joins `resources` with itself (scale sets,
 *   autoscale settings) and `healthresources` once; the Uniform query joins `computeresources` with
 *   `resources` once, so its instances' annotations are read by ID in a query of their own
 *   (current-annotations.ts).
 * - Paging ("Guidance for pagination"): a deletion between pages shifts every later row, so a
 *   `$skipToken` walk can skip a VM that was there all along. A result of more than one page is read
 *   as hash partitions of `tolower(id)` instead, each small enough for one page: every VM present
 *   through the sweep is in exactly one partition, and fewer rows than first counted is no error.
 * - Scope ("Guidance for throttled requests"): subscriptions in groups of fewer than 300; the
 *   quota shared by every query of the run (graph-quota.ts); at tenant scope, more than 10 000
 *   subscriptions cut the answer short, and `x-ms-tenant-subscription-limit-hit` says so.
 *
 * During a mass eviction the power state changes by the second, so the query filters only on what
 * an eviction does not change (type, priority, eviction policy) and the power state is judged from
 * the rows and the instance view.
 */
import * as core from '@actions/core';
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { kqlList, kqlString } from '../azure/kql.js';
import { withTransientRetry, type Clock } from '../azure/retry.js';
import type { AnnotationEvidence } from './annotations.js';
import { describeGraphError } from './graph-errors.js';
import { quotaOf } from './graph-quota.js';
import type { TargetKind } from '../report/outcomes.js';

/** A VM as the action sees it: the row our query projects. Scale-set instances are VMs too. */
export interface VmRecord {
  id: string;
  /** A standalone VM, or an instance of a Flexible or Uniform scale set. */
  kind: TargetKind;
  /** The scale set of an instance, its tags (opt-in may sit there) and whether Azure restores it (Try & restore). */
  scaleSet?: {
    id: string;
    name: string;
    tags: Record<string, string>;
    tryRestore: boolean;
    /** `spotRestorePolicy.restoreTimeout` (ISO 8601), when set. */
    restoreTimeout?: string;
    /** An enabled autoscale setting targets it (seen only by an identity that may read autoscale settings). */
    autoscale?: boolean;
  };
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

export { quotaWait } from './graph-quota.js';

export const PAGE_SIZE = 1000;
/**
 * "Guidance for throttled requests in Azure Resource Graph": grouping by subscription is cheaper
 * than parallel queries, and "the group size is recommended to be less than 300" (its examples use
 * 100). 200 keeps each request well inside that and each query's text small.
 */
export const SUBSCRIPTIONS_PER_REQUEST = 200;
/**
 * Rows a hash partition aims at, at most: a partition of a hash is a binomial draw (standard
 * deviation about 30 at this size), so one passes a page of 1000 rarely (about 1 in 2000 at 900
 * on average, far less below); one that does is split in two. Fewer, fuller partitions keep the
 * number of queries, each one of the user's quota, close to one a page.
 */
export const ROWS_PER_PARTITION = 900;
/** Resource Graph answers at tenant scope for at most this many subscriptions ("Guidance for throttled requests"). */
export const TENANT_SUBSCRIPTION_LIMIT = 10_000;

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
  /**
   * Leave the annotation history out: the caller reads it (lookup.ts `historyIn`) for the VMs it
   * judges in scope, batch by batch, so starts need not wait for the whole history of the fleet.
   */
  historyLater?: boolean;
}

/** One of `of` hash partitions of the rows: `hash(tolower(id), of) == index` ("Guidance for pagination"). */
export interface Partition {
  of: number;
  index: number;
}

/** A query that can be narrowed to one hash partition (by the builder, where it filters cheapest). */
export type GraphQuery = string | ((partition?: Partition) => string);

/** The filter of one partition; IDs differ in case between tables, so the hash is of the lower-cased ID. */
export function partitionFilter(p: Partition | undefined): string[] {
  return p ? [`| where hash(tolower(id), ${p.of}) == ${p.index}`] : [];
}

function textOf(query: GraphQuery, partition?: Partition): string {
  if (typeof query === 'function') return query(partition);
  return [query, ...partitionFilter(partition)].join('\n');
}

/**
 * Enabled autoscale settings and the scale set each targets ("Try & restore is disabled in scale
 * sets that use Autoscale": Microsoft Learn, "Azure Spot Virtual Machines for Virtual Machine Scale
 * Sets"). Shape: azure-rest-api-specs, Microsoft.Insights 2015-04-01 getAutoscaleSetting.json;
 * Resource Graph lists the type in `resources`. The target's case varies, so it is compared lower-cased.
 */
const AUTOSCALE =
  "resources | where type =~ 'microsoft.insights/autoscalesettings'" +
  " | where tostring(properties.enabled) =~ 'true'" +
  ' | project scaleSetKey = tolower(tostring(properties.targetResourceUri)), autoscaleId = id';

/** Scale sets with their autoscale setting: a join of `resources` with itself, never cross-table. */
const SCALE_SETS =
  "resources | where type =~ 'microsoft.compute/virtualmachinescalesets'" +
  ' | project scaleSetKey = tolower(id), ssId = id, scaleSetTags = tags,' +
  ' tryRestore = tostring(properties.spotRestorePolicy.enabled),' +
  ' restoreTimeout = tostring(properties.spotRestorePolicy.restoreTimeout),' +
  ' ssPriority = tostring(properties.virtualMachineProfile.priority),' +
  ' ssEvictionPolicy = tostring(properties.virtualMachineProfile.evictionPolicy),' +
  ' ssMaxPrice = todouble(properties.virtualMachineProfile.billingProfile.maxPrice),' +
  ' ssOsType = tostring(properties.virtualMachineProfile.storageProfile.osDisk.osType),' +
  ' ssSize = tostring(sku.name)' +
  ` | join kind=leftouter (${AUTOSCALE}) on scaleSetKey`;

/** A lookup's query for one table, named for what it finds (said when it fails). */
export interface TableQuery {
  table: 'resources' | 'computeresources';
  what: string;
  query: (partition?: Partition) => string;
}

/** Which tables a lookup needs: standalone and Flexible VMs live in `resources`, Uniform instances in `computeresources`. */
export function buildQueries(filter: VmFilter): TableQuery[] {
  const uniformIds = filter.ids?.filter(id => /\/virtualMachineScaleSets\//i.test(id));
  const vmIds = filter.ids?.filter(id => !/\/virtualMachineScaleSets\//i.test(id));
  const queries: TableQuery[] = [];
  if (!filter.ids || vmIds!.length) {
    const f = { ...filter, ids: filter.ids && vmIds };
    queries.push({
      table: 'resources',
      what: 'VMs and Flexible scale-set instances',
      query: p => buildVmQuery(f, p)
    });
  }
  if (!filter.ids || uniformIds!.length) {
    const f = { ...filter, ids: filter.ids && uniformIds };
    queries.push({
      table: 'computeresources',
      what: 'Uniform scale-set instances',
      query: p => buildUniformQuery(f, p)
    });
  }
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

/** The one cross-table join the VM query may have: `resources` ⋈ `healthresources`. */
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

/** Standalone VMs and Flexible scale-set instances; every value in it is a KQL string literal. */
export function buildVmQuery(filter: VmFilter, partition?: Partition): string {
  const lines = [
    'resources',
    "| where type =~ 'microsoft.compute/virtualmachines'",
    ...partitionFilter(partition)
  ];
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
      ' restoreTimeout, autoscaleId,' +
      ' osType = tostring(properties.storageProfile.osDisk.osType), zone = tostring(zones[0])' +
      (filter.withAnnotations ? ', annotationName, annotationAt, annotationContext' : ''),
    '| order by id asc'
  );
  return lines.join('\n');
}

/**
 * Uniform scale-set instances (`computeresources`, Microsoft Learn's Resource Graph samples for
 * ComputeResources): priority, eviction policy, max price, size and usually the tags belong to the
 * scale set, joined from `resources` — the query's one cross-table join, so the annotations are
 * read apart (current-annotations.ts). An instance's ID may come in any case (Azure returns IDs in
 * differing case, e.g. Azure/azure-cli#7262), so it is lower-cased before it is split, and the
 * scale set's ID is taken from the scale set's own row.
 */
export function buildUniformQuery(filter: VmFilter, partition?: Partition): string {
  const lines = [
    'computeresources',
    "| where type =~ 'microsoft.compute/virtualmachinescalesets/virtualmachines'",
    ...partitionFilter(partition),
    ...scopeFilters(filter),
    "| extend scaleSetKey = tostring(split(tolower(id), '/virtualmachines/')[0])",
    `| join kind=inner (${SCALE_SETS}) on scaleSetKey`
  ];
  if (filter.candidatesOnly)
    lines.push("| where ssPriority =~ 'Spot'", "| where ssEvictionPolicy =~ 'Deallocate'");
  lines.push(
    '| project id, name, resourceGroup, subscriptionId, location, tags,' +
      ' vmSize = ssSize, priority = ssPriority, evictionPolicy = ssEvictionPolicy,' +
      ' powerState = tostring(properties.extended.instanceView.powerState.code),' +
      ' maxPrice = ssMaxPrice, osType = ssOsType, instanceId = tostring(properties.instanceId),' +
      ' scaleSetId = ssId, scaleSetTags, tryRestore, restoreTimeout, autoscaleId, zone = tostring(zones[0])',
    '| order by id asc'
  );
  return lines.join('\n');
}

export interface DiscoveryStats {
  requests: number;
  pages: number;
  quotaWaits: number;
  /** What Resource Graph left out or refused, for the run report: the run went on without it. */
  warnings?: string[];
}

/** A warning of the discovery: in the log now, and in the run report. */
export function warn(stats: DiscoveryStats, message: string): void {
  core.warning(message, { title: 'Resource Graph' });
  (stats.warnings ??= []).push(message);
}

/**
 * Runs a query in batches of subscriptions and keeps each VM once. `subscriptions` empty means
 * every subscription the identity can read (ARG's own default when the field is left out).
 */
export async function queryVms(
  client: ResourceGraphClient,
  query: GraphQuery,
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

/**
 * Every VM (of any kind) a filter matches: one query per table it needs. A table whose query fails
 * is reported (with Resource Graph's reasons) and the others' VMs are still handled; only when
 * every table failed does the lookup fail.
 */
export async function lookupVms(
  client: ResourceGraphClient,
  filter: VmFilter,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): Promise<VmRecord[]> {
  const found: VmRecord[] = [];
  const queries = buildQueries(filter);
  const failures: unknown[] = [];
  for (const { table, what, query } of queries) {
    try {
      found.push(...(await queryVms(client, query, subscriptions, clock, stats)));
    } catch (error) {
      failures.push(error);
      if (failures.length === queries.length) throw error;
      warn(
        stats,
        `Resource Graph refused the query for ${what} (table ${table}): ${error instanceof Error ? error.message : String(error)}. The run went on without them.`
      );
    }
  }
  return found;
}

/**
 * The rows of a query over every subscription batch. A result of one page is read in one request;
 * a longer one as hash partitions of `tolower(id)`, sized from the first answer's `totalRecords`,
 * each read in one page (a partition that outgrew it is split in two): no row of a partition can
 * shift out of it when another is deleted, so nothing that was there through the sweep is missed.
 */
export async function queryRows(
  client: ResourceGraphClient,
  query: GraphQuery,
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  const batches = subscriptions.length ? chunk(subscriptions, SUBSCRIPTIONS_PER_REQUEST) : [undefined];
  for (const batch of batches) {
    const first = await queryPage(client, textOf(query), batch, clock, stats);
    if (!first.skipToken) {
      rows.push(...first.data);
      continue;
    }
    const of = Math.max(2, Math.ceil(first.totalRecords / ROWS_PER_PARTITION));
    const read = async (p: Partition): Promise<void> => {
      const page = await queryPage(client, textOf(query, p), batch, clock, stats);
      if (!page.skipToken) {
        rows.push(...page.data);
        return;
      }
      // It outgrew a page since it was counted: hash % 2n is index or index + n exactly when hash % n is index.
      if (p.of * 2 > MAX_PARTITIONS)
        throw new DiscoveryError(
          `Resource Graph kept more than ${PAGE_SIZE} rows in a partition of ${p.of}.`
        );
      await read({ of: p.of * 2, index: p.index });
      await read({ of: p.of * 2, index: p.index + p.of });
    };
    // Partitions do not depend on each other: a few at once, within the run's quota (graph-quota.ts).
    const queue: Partition[] = Array.from({ length: of }, (_, index) => ({ of, index }));
    await Promise.all(
      Array.from({ length: Math.min(PARTITIONS_AT_ONCE, of) }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) await read(p);
      })
    );
  }
  return rows;
}

/** Partitions read at once: their round trips overlap; each still takes its place in the quota. */
const PARTITIONS_AT_ONCE = 4;
/** A limit on splitting: past it the result is not a fleet any more, it is a loop. */
const MAX_PARTITIONS = 1 << 16;

interface Page {
  data: Record<string, unknown>[];
  totalRecords: number;
  skipToken?: string;
}

/** One request: within the run's shared quota, with Resource Graph's transient failures retried. */
async function queryPage(
  client: ResourceGraphClient,
  query: string,
  subscriptions: string[] | undefined,
  clock: Clock,
  stats: DiscoveryStats
): Promise<Page> {
  const quota = quotaOf(client, clock);
  let limitHit = false;
  const page = await withTransientRetry(clock, 'Resource Graph query', async () => {
    await quota.acquire(ms => {
      stats.quotaWaits++;
      core.info(`Resource Graph quota used up: waiting ${ms} ms for it to refill.`);
    });
    stats.requests++;
    let headers: { get(name: string): string | undefined } | undefined;
    try {
      return await client.resources(
        { query, subscriptions, options: { top: PAGE_SIZE, resultFormat: 'objectArray' } },
        { onResponse: response => void (headers = response.headers) }
      );
    } catch (error) {
      headers = (error as { response?: { headers?: typeof headers } }).response?.headers;
      throw error;
    } finally {
      quota.settle(headers?.get('x-ms-user-quota-remaining'), headers?.get('x-ms-user-quota-resets-after'));
      if (headers?.get('x-ms-tenant-subscription-limit-hit')?.toLowerCase() === 'true') limitHit = true;
    }
  }).catch((error: unknown) => {
    // Resource Graph's reasons are in details[]; its top-level message is only a line for support.
    if (error instanceof Error) error.message = describeGraphError(error);
    throw error;
  });
  stats.pages++;
  if (limitHit && !(stats.warnings ?? []).some(w => w.includes('x-ms-tenant-subscription-limit-hit')))
    warn(
      stats,
      `Resource Graph answered for the first ${TENANT_SUBSCRIPTION_LIMIT} subscriptions of the tenant only (x-ms-tenant-subscription-limit-hit: true): VMs in the others were not seen. Name the subscriptions in the 'subscriptions' input.`
    );
  // `resultTruncated` is a string in the 2024-04-01 description ("true"/"false"), a boolean in older ones.
  if (String(page.resultTruncated).toLowerCase() === 'true') {
    throw new DiscoveryError(
      `Resource Graph truncated the result at ${page.count} of ${page.totalRecords} rows and gave no way to page on: the query must project 'id' to be paged.`
    );
  }
  return {
    data: page.data as Record<string, unknown>[],
    totalRecords: page.totalRecords,
    skipToken: page.skipToken
  };
}

function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
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
          tryRestore: str('tryRestore').toLowerCase() === 'true',
          restoreTimeout: str('restoreTimeout') || undefined,
          autoscale: Boolean(str('autoscaleId'))
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
