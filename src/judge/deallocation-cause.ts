/**
 * Why is this VM deallocated? The one rule that keeps us from starting a VM a person stopped, and
 * from leaving an evicted one down, as a pure function of what Azure (and our agent) says.
 *
 * It decides by the ORDER of Azure's events, not by clocks:
 *
 * - The VM's annotations (the current one from `HealthResources`, earlier ones from
 *   `HealthResourceChanges`, 14 days) are read as one sequence, oldest first. `occurredTime` is
 *   when Azure emitted the annotation (Event Grid schema for Health Resources events: "Timestamp
 *   when the annotation was emitted by the Azure platform"), so it orders the events; it is not
 *   when the operation began.
 * - The cause of the current deallocation is the last down-operation — an eviction
 *   (`VirtualMachinePreempted`, "Platform Initiated") or a person's deallocate or stop ("Customer
 *   Initiated") — with no start after it. A resize or a configuration update of the deallocated VM
 *   does not change who took it down (Microsoft Learn, "Resource Health virtual machine Health
 *   Annotations").
 * - A person's latest word wins: a person's stop after the last start is the cause even when an
 *   eviction follows it (a stopped VM "is allocated on a host but not running", so its capacity can
 *   still be recalled; a deallocated one "has released the lease on the underlying hardware":
 *   "States and billing status of Azure Virtual Machines"). The person wanted it off.
 *   A deallocated VM holds no capacity to evict, so an eviction emitted more than `toleranceMs`
 *   after a deallocation shows an unannotated start between them; a closer one is concurrent, and
 *   the person's deallocation stands. A shutdown from inside the VM (`VirtualMachineStoppedInternally`,
 *   "due to a guest activity from within the Virtual Machine") emitted within `toleranceMs` before
 *   the eviction, or after the agent's Preempt, is the workload answering the Preempt notice:
 *   part of the eviction, not a person's word.
 * - The action's own deallocation (revert mode) is not a person's: it is recognised from the
 *   action's own record (discover/own-record.ts) and the VM is brought back.
 *
 * Times only where the order cannot answer, each with its bound:
 *
 * - The instance view's `ProvisioningState` is "the status of a user-initiated, control-plane
 *   operation" (Microsoft Learn, "States and billing status of Azure Virtual Machines"); its time is
 *   when the last such operation ended. An eviction is not one: nothing published says it moves
 *   that time, so it is never required to.
 * - A failed start (`ProvisioningState/failed/<code>`, the power state still deallocated) did not
 *   bring the VM up: it changes nothing about who took it down, and it says that whoever asked
 *   wanted it running. Its time is never the deallocation's.
 * - An eviction annotation older than the end of a later user operation that nothing else explains
 *   (more than `toleranceMs`) is about an earlier deallocation: a start since has gone unannotated.
 *   A person's annotation is never discarded by time.
 * - No down-operation known: the VM is `unknown` until `startWithoutEvidenceAfterMs` after the
 *   deallocation (annotations can go missing: "HealthResources table in Resource Graph has missing
 *   entries"), counted from the end of the last user operation that is not a change to the
 *   deallocated VM.
 * - The agent's Preempt (dispatch): the VM was running when the agent saw it, so anything older is
 *   superseded; it is an eviction unless Azure shows a person's stop emitted after it.
 */
import {
  EVICTION_ANNOTATIONS,
  initiator,
  PERSON_DOWN_ANNOTATIONS,
  START_ANNOTATIONS,
  WHILE_DEALLOCATED_ANNOTATIONS,
  type AnnotationEvidence
} from '../discover/annotations.js';
import type { OwnOperation } from '../discover/own-record.js';

export interface DeallocationEvidence {
  /** When the VM's last user-initiated operation ended (the instance view's ProvisioningState time); absent while one runs. */
  lastOperationEndedAt?: number;
  /** The error code of `ProvisioningState/failed/<code>`: the last operation (a start) failed. */
  lastOperationFailed?: string;
  /** The current annotation from `HealthResources`. */
  current?: AnnotationEvidence;
  /** Earlier annotations from `HealthResourceChanges`, in any order (may repeat the current one). */
  history?: AnnotationEvidence[];
  /** The agent on the VM saw `Preempt` for it at this time (the dispatch's `detectedAt`). */
  agentPreemptAt?: number;
  /** What the action's own record says it did to the VM. */
  own?: OwnOperation[];
}

export interface EvidenceRules {
  now: number;
  /** A deallocation that has no evidence at all this long after it is treated as an eviction. */
  startWithoutEvidenceAfterMs: number;
  /** How long a deallocation may take, from its annotation to the end of the operation. */
  toleranceMs?: number;
  /** Clock differences between the services whose times we compare. */
  skewMs?: number;
  /** How long after the action's request Azure may emit the annotation of it. */
  ownEmitMs?: number;
}

export type DeallocationCause =
  | { cause: 'evicted'; because: string; evictedAt?: number }
  | { cause: 'own'; because: string; at: number }
  | { cause: 'person'; because: string; at?: number }
  | { cause: 'unknown'; because: string; waitedMs: number };

export const DEFAULT_TOLERANCE_MS = 10 * 60_000;
export const DEFAULT_SKEW_MS = 60_000;
export const DEFAULT_OWN_EMIT_MS = 10 * 60_000;

const is = (list: readonly string[], name: string) => list.some(n => n.toLowerCase() === name.toLowerCase());

type Kind = 'eviction' | 'person' | 'own' | 'start' | 'while-down' | 'other';

interface Event extends AnnotationEvidence {
  kind: Kind;
}

export function deallocationCause(evidence: DeallocationEvidence, rules: EvidenceRules): DeallocationCause {
  const tolerance = rules.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const skew = rules.skewMs ?? DEFAULT_SKEW_MS;
  const failed = evidence.lastOperationFailed;
  const endedAt = evidence.lastOperationEndedAt;
  const sequence = classify(
    dedupe([...(evidence.history ?? []), ...(evidence.current ? [evidence.current] : [])]),
    evidence.own ?? [],
    rules.ownEmitMs ?? DEFAULT_OWN_EMIT_MS,
    skew
  );
  const agent = evidence.agentPreemptAt;
  // The dispatch: the VM ran when the agent saw the Preempt, so everything older is superseded.
  // The agent's event is used up once the VM came back (a start after it that did not fail), or
  // when a user operation ended well after it that nothing annotated after it explains.
  if (agent !== undefined) {
    const after = sequence.filter(e => e.at >= agent - skew);
    const cameBack = failed === undefined && after.some(e => e.kind === 'start' && e.at > agent + skew);
    const holds =
      !cameBack &&
      (failed !== undefined ||
        endedAt === undefined ||
        endedAt <= agent + tolerance ||
        after.some(e => e.kind !== 'other' && e.kind !== 'start'));
    if (holds) {
      const person = [...after]
        .reverse()
        .find(e => e.kind === 'person' && !(isGuestShutdown(e) && e.at <= agent + tolerance));
      if (person)
        return {
          cause: 'person',
          because: `${person.name}${describe(person)}, after the agent saw the Preempt`,
          at: person.at
        };
      return {
        cause: 'evicted',
        because: `the agent on the VM saw Preempt at ${iso(agent)}`,
        evictedAt: agent
      };
    }
  }

  // Walk back from the newest event to the last start, collecting the down-operations after it.
  const downs: Event[] = [];
  const neutral: Event[] = [];
  let startedAfter: Event | undefined;
  for (let i = sequence.length - 1; i >= 0; i--) {
    const e = sequence[i]!;
    if (e.kind === 'while-down' || e.kind === 'other') {
      if (!downs.length && e.kind === 'while-down') neutral.push(e);
      continue;
    }
    if (e.kind === 'start') {
      // The last operation failed and nothing took the VM down since: these starts did not bring it up.
      if (failed !== undefined && !downs.length) {
        neutral.push(e);
        continue;
      }
      startedAfter = e;
      break;
    }
    // A deallocated VM holds no capacity to evict: an eviction emitted well after a deallocation
    // means the VM was started in between, even if that start's annotation is missing.
    const deallocation = is(['VirtualMachineDeallocationInitiated'], e.name);
    if (deallocation && downs.some(d => d.kind === 'eviction' && d.at > e.at + tolerance)) break;
    // A shutdown from inside the VM just before its eviction is the workload answering the
    // Preempt notice (Scheduled Events, at least 30 s ahead), not a person's wish to keep it off.
    if (
      isGuestShutdown(e) &&
      downs.some(d => d.kind === 'eviction' && d.at >= e.at && d.at <= e.at + tolerance)
    )
      continue;
    downs.push(e);
  }

  const person = downs.find(e => e.kind === 'person');
  if (person) {
    const evicted =
      downs[0]!.kind === 'eviction' ? `; the eviction at ${iso(downs[0]!.at)} came after it` : '';
    return {
      cause: 'person',
      because: `${person.name}${describe(person)}, and no start since${evicted}${touched(neutral)}`,
      at: person.at
    };
  }
  const latest = downs[0];
  // The end of the last user operation is explained by the changes to the deallocated VM since.
  // Otherwise an eviction older than it was followed by an unannotated start: not about this deallocation.
  const changes = neutral.filter(n => n.kind === 'while-down');
  const explained = changes.length > 0 && endedAt !== undefined && endedAt <= changes[0]!.at + tolerance;
  const stale =
    latest?.kind === 'eviction' &&
    failed === undefined &&
    endedAt !== undefined &&
    latest.at < endedAt - tolerance &&
    !explained;
  if (latest?.kind === 'own')
    return {
      cause: 'own',
      because: `the action itself deallocated it at ${iso(latest.at)} (its own record of the revert), and no start since${touched(neutral)}`,
      at: latest.at
    };
  if (latest?.kind === 'eviction' && !stale)
    return {
      cause: 'evicted',
      because: `${latest.name}${describe(latest)}${touched(neutral)}`,
      evictedAt: latest.at
    };
  if (failed !== undefined)
    return {
      cause: 'evicted',
      because: `its last operation, a start, failed (${failed}${endedAt !== undefined ? ` at ${iso(endedAt)}` : ''}): whoever asked wanted it running, and Azure shows no person's stop since`
    };
  if (endedAt === undefined)
    return {
      cause: 'unknown',
      because: 'its instance view does not say yet when its last operation ended (an operation is under way)',
      waitedMs: 0
    };

  // No down-operation known: count from the deallocation — the end of the last user operation,
  // or, when that was a change to the deallocated VM (its annotation explains the time), from
  // before the first of the changes that followed the deallocation.
  // It went down after its last start, whatever the instance view's time says.
  const deallocatedBy = Math.max(
    explained ? Math.min(endedAt, ...changes.map(n => n.at)) : endedAt,
    startedAfter?.at ?? -Infinity
  );
  const waitedMs = Math.max(0, rules.now - deallocatedBy);
  const about = stale
    ? `its latest eviction annotation (${latest!.name}${describe(latest!)}) is older than its last operation, which ended at ${iso(endedAt)}`
    : startedAfter
      ? `nothing says what took it down after its last start (${startedAfter.name}${describe(startedAfter)})`
      : sequence.length
        ? `none of its annotations says what took it down`
        : 'it has no Resource Health annotation';
  if (waitedMs >= rules.startWithoutEvidenceAfterMs)
    return {
      cause: 'evicted',
      because: `${about}, ${minutes(waitedMs)} after the deallocation; annotations can go missing, so it is treated as evicted`
    };
  return {
    cause: 'unknown',
    because: `${about} yet (deallocated ${minutes(waitedMs)} ago; annotations reach Resource Graph within about 5 minutes)`,
    waitedMs
  };
}

/** Oldest first; each annotation named for what it did, and the action's own deallocations recognised. */
function classify(list: AnnotationEvidence[], own: OwnOperation[], emitMs: number, skew: number): Event[] {
  const sorted = [...list].sort((a, b) => a.at - b.at);
  const unclaimed = own.filter(o => o.kind === 'deallocate').sort((a, b) => a.at - b.at);
  const events: Event[] = sorted.map(a => {
    if (is(EVICTION_ANNOTATIONS, a.name)) return { ...a, kind: 'eviction' };
    if (is(START_ANNOTATIONS, a.name)) return { ...a, kind: 'start' };
    if (is(WHILE_DEALLOCATED_ANNOTATIONS, a.name)) return { ...a, kind: 'while-down' };
    if (is(PERSON_DOWN_ANNOTATIONS, a.name)) {
      // Each recorded deallocation explains at most one annotation: the first emitted after it.
      const i = is(['VirtualMachineDeallocationInitiated'], a.name)
        ? unclaimed.findIndex(o => a.at >= o.at - skew && a.at <= o.at + emitMs)
        : -1;
      if (i >= 0) {
        unclaimed.splice(i, 1);
        return { ...a, kind: 'own' };
      }
      return { ...a, kind: 'person' };
    }
    return { ...a, kind: 'other' };
  });
  // A recorded deallocation whose annotation has not arrived (or never will) is still the action's.
  const recorded = unclaimed.map(o => ({
    name: "the action's own deallocation",
    at: o.at,
    kind: 'own' as const
  }));
  return [...events, ...recorded].sort((a, b) => a.at - b.at);
}

function isGuestShutdown(e: Event): boolean {
  return e.kind === 'person' && is(['VirtualMachineStoppedInternally'], e.name);
}

function touched(neutral: Event[]): string {
  const changes = neutral.filter(n => n.kind === 'while-down');
  const starts = neutral.filter(n => n.kind === 'start');
  const parts = [
    ...(changes.length ? [`changed while deallocated since (${changes.map(c => c.name).join(', ')})`] : []),
    ...(starts.length ? [`${starts.length} start(s) since that failed`] : [])
  ];
  return parts.length ? `; ${parts.join('; ')}` : '';
}

function describe(a: AnnotationEvidence): string {
  const who = initiator(a.context);
  const by = who === 'customer' ? ', by a user or script' : who === 'platform' ? ', by the platform' : '';
  return ` at ${iso(a.at)}${by}`;
}

function dedupe(list: AnnotationEvidence[]): AnnotationEvidence[] {
  const seen = new Set<string>();
  return list.filter(a => {
    const key = `${a.name.toLowerCase()}|${a.at}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function minutes(ms: number): string {
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return m ? `${m} min${s ? ` ${s} s` : ''}` : `${s} s`;
}
