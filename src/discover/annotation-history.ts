/**
 * The annotations a VM had before its current one, from Resource Graph's `HealthResourceChanges`
 * (14 days of history): the sequence the cause of a deallocation is read from. Read for every
 * deallocated VM whose current annotation is not a person's stop: a resize or a max-price change
 * replaces the annotation that explains the deallocation, and a current `VirtualMachinePreempted`
 * may follow a person's stop of the still allocated VM (then the person's word stands). A person's
 * stop as the current annotation is the last word already. One query per batch of VMs, never one
 * per VM.
 *
 * Row shape: Microsoft Learn, Resource Graph sample queries for `healthresourcechanges`
 * (`properties.targetResourceId` ends in `/providers/Microsoft.ResourceHealth/resourceAnnotations/current`,
 * `properties.changes['properties.annotationName'].newValue`, `properties.changeAttributes.timestamp`).
 * A change lists only the properties that changed, so a repeated annotation name is absent.
 */
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { PERSON_DOWN_ANNOTATIONS, type AnnotationEvidence } from './annotations.js';
import { queryRows, type DiscoveryStats, type VmRecord } from './discovery.js';
import { kqlList } from '../azure/kql.js';
import type { Clock } from '../azure/retry.js';

const ANNOTATION_SUFFIX = '/providers/microsoft.resourcehealth/resourceannotations/current';
/** Keeps each query's text well under Resource Graph's size limits. */
export const HISTORY_BATCH = 200;

export function needsHistory(vm: VmRecord): boolean {
  return !PERSON_DOWN_ANNOTATIONS.some(n => n.toLowerCase() === vm.annotationName.toLowerCase());
}

export function buildHistoryQuery(vmIds: string[]): string {
  return [
    'healthresourcechanges',
    "| where tostring(properties.targetResourceType) =~ 'microsoft.resourcehealth/resourceannotations'",
    '| extend targetId = tolower(tostring(properties.targetResourceId))',
    `| where targetId in~ ${kqlList(vmIds.map(id => id.toLowerCase() + ANNOTATION_SUFFIX))}`,
    "| project id, targetId, annotationName = tostring(properties.changes['properties.annotationName'].newValue)," +
      " annotationContext = tostring(properties.changes['properties.context'].newValue)," +
      " occurredTime = tostring(properties.changes['properties.occurredTime'].newValue)," +
      ' changedAt = tostring(properties.changeAttributes.timestamp)',
    '| order by id asc'
  ].join('\n');
}

/** Adds `history` to the VMs that need it; a VM with no recorded change gets an empty history. */
export async function attachHistory(
  client: ResourceGraphClient,
  vms: VmRecord[],
  subscriptions: string[],
  clock: Clock,
  stats: DiscoveryStats
): Promise<void> {
  const wanted = vms.filter(needsHistory);
  for (let i = 0; i < wanted.length; i += HISTORY_BATCH) {
    const batch = wanted.slice(i, i + HISTORY_BATCH);
    const rows = await queryRows(
      client,
      buildHistoryQuery(batch.map(v => v.id)),
      subscriptions,
      clock,
      stats
    );
    const byVm = historyByVm(rows);
    for (const vm of batch) vm.history = byVm.get(vm.id.toLowerCase()) ?? [];
  }
}

/** Change rows → each VM's annotations, oldest first; a change without a name repeats the one before it. */
export function historyByVm(rows: Record<string, unknown>[]): Map<string, AnnotationEvidence[]> {
  const str = (row: Record<string, unknown>, key: string) =>
    typeof row[key] === 'string' ? (row[key] as string) : '';
  const grouped = new Map<string, { at: number; name: string; context: string }[]>();
  for (const row of rows) {
    const target = str(row, 'targetId');
    if (!target.endsWith(ANNOTATION_SUFFIX)) continue;
    const at = Date.parse(str(row, 'occurredTime') || str(row, 'changedAt'));
    if (Number.isNaN(at)) continue;
    const vmKey = target.slice(0, -ANNOTATION_SUFFIX.length);
    const list = grouped.get(vmKey) ?? [];
    list.push({ at, name: str(row, 'annotationName'), context: str(row, 'annotationContext') });
    grouped.set(vmKey, list);
  }
  const result = new Map<string, AnnotationEvidence[]>();
  for (const [vmKey, changes] of grouped) {
    changes.sort((a, b) => a.at - b.at);
    const annotations: AnnotationEvidence[] = [];
    let name = '';
    let context = '';
    for (const change of changes) {
      name = change.name || name;
      context = change.context || context;
      if (name) annotations.push({ name, context: context || undefined, at: change.at });
    }
    result.set(vmKey, annotations);
  }
  return result;
}
