/**
 * Why is this VM deallocated? The one rule that keeps us from starting a VM a person stopped, as a
 * pure function of the evidence Azure (and our agent) gives, with its lags and gaps:
 *
 * - Resource Health annotations reach Resource Graph "within 5 minutes in general" and can go
 *   missing (Microsoft Learn: "VM availability information in Azure Resource Graph"; "HealthResources
 *   table in Resource Graph has missing entries").
 * - There is one current annotation per VM and any later one replaces it, including customer
 *   operations on a VM that stays deallocated (`VirtualMachineSizeChanged`,
 *   `VirtualMachineConfigurationUpdated`); `HealthResourceChanges` keeps 14 days of history.
 * - An annotation's time is when its operation began; the instance view's ProvisioningState time
 *   is when the VM's last operation ended. So the annotation that explains a deallocation is a
 *   little older than the deallocation: compare with a tolerance, never strictly.
 * - The agent's Preempt, seen on the VM itself, is positive evidence of an eviction.
 *
 * Names and contexts: Microsoft Learn, "Resource Health virtual machine Health Annotations".
 */
import {
  EVICTION_ANNOTATIONS,
  initiator,
  PERSON_DOWN_ANNOTATIONS,
  WHILE_DEALLOCATED_ANNOTATIONS,
  type AnnotationEvidence
} from '../discover/annotations.js';

export interface DeallocationEvidence {
  /** When the VM's last operation ended (the instance view's ProvisioningState time); absent while Azure shows none. */
  lastOperationEndedAt?: number;
  /** The current annotation from `HealthResources`. */
  current?: AnnotationEvidence;
  /** Earlier annotations from `HealthResourceChanges`, in any order (may repeat the current one). */
  history?: AnnotationEvidence[];
  /** The agent on the VM saw `Preempt` for it at this time (the dispatch's `detectedAt`). */
  agentPreemptAt?: number;
}

export interface EvidenceRules {
  now: number;
  /** A deallocation that has no evidence at all this long after it is treated as an eviction. */
  startWithoutEvidenceAfterMs: number;
  /** The longest plausible time from an operation's start (the annotation) to the end of the deallocation. */
  toleranceMs?: number;
  /** Clock differences between the services whose times we compare. */
  skewMs?: number;
}

export type DeallocationCause =
  | { cause: 'evicted'; because: string; evictedAt?: number }
  | { cause: 'person'; because: string; at?: number }
  | { cause: 'unknown'; because: string; waitedMs: number };

export const DEFAULT_TOLERANCE_MS = 10 * 60_000;
export const DEFAULT_SKEW_MS = 60_000;

const is = (list: string[], name: string) => list.some(n => n.toLowerCase() === name.toLowerCase());

export function deallocationCause(evidence: DeallocationEvidence, rules: EvidenceRules): DeallocationCause {
  const tolerance = rules.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const skew = rules.skewMs ?? DEFAULT_SKEW_MS;
  if (evidence.lastOperationEndedAt === undefined) {
    return {
      cause: 'unknown',
      because: 'its instance view does not say yet when its last operation ended (an operation is under way)',
      waitedMs: 0
    };
  }
  const known = dedupe([...(evidence.current ? [evidence.current] : []), ...(evidence.history ?? [])]).sort(
    (a, b) => b.at - a.at
  );
  // The deallocation ended at or before the VM's last operation, and before any operation it
  // underwent while deallocated.
  let deallocatedBy = evidence.lastOperationEndedAt;
  let touchedWhileDown: AnnotationEvidence | undefined;
  let explanation: AnnotationEvidence | undefined;
  for (const a of known) {
    if (a.at > deallocatedBy + skew) continue; // later than the last completed operation: not about it
    if (is(WHILE_DEALLOCATED_ANNOTATIONS, a.name)) {
      // Only counts as done to the deallocated VM when it is the last operation (or follows one that is).
      if (a.at >= deallocatedBy - tolerance) {
        touchedWhileDown ??= a;
        deallocatedBy = Math.min(deallocatedBy, a.at);
        continue;
      }
    }
    explanation = a;
    break;
  }
  const fresh = explanation && explanation.at >= deallocatedBy - tolerance;
  const agent = evidence.agentPreemptAt;
  const agentFits =
    agent !== undefined && agent <= deallocatedBy + skew && agent >= deallocatedBy - tolerance;

  if (explanation && fresh && is(PERSON_DOWN_ANNOTATIONS, explanation.name)) {
    // A person's stop that began after the agent's Preempt (during the notice) still wins.
    if (!agentFits || explanation.at >= agent! - skew) {
      return {
        cause: 'person',
        because: `${explanation.name}${describe(explanation)}`,
        at: explanation.at
      };
    }
  }
  if (explanation && fresh && is(EVICTION_ANNOTATIONS, explanation.name)) {
    return {
      cause: 'evicted',
      because: `${explanation.name}${describe(explanation)}`,
      evictedAt: explanation.at
    };
  }
  if (agentFits) {
    return {
      cause: 'evicted',
      because: `the agent on the VM saw Preempt at ${iso(agent!)}`,
      evictedAt: agent
    };
  }
  if (touchedWhileDown) {
    return {
      cause: 'person',
      because: `${touchedWhileDown.name}${describe(touchedWhileDown)} while it was deallocated, and no evidence that an eviction deallocated it`,
      at: touchedWhileDown.at
    };
  }
  const waitedMs = Math.max(0, rules.now - deallocatedBy);
  const about = explanation
    ? fresh
      ? `its latest annotation (${explanation.name}${describe(explanation)}) is not about a deallocation`
      : `its latest annotation (${explanation.name}${describe(explanation)}) is older than the deallocation`
    : 'it has no Resource Health annotation';
  if (waitedMs >= rules.startWithoutEvidenceAfterMs) {
    return {
      cause: 'evicted',
      because: `${about}, ${minutes(waitedMs)} after the deallocation; annotations can go missing, so it is treated as evicted`
    };
  }
  return {
    cause: 'unknown',
    because: `${about} yet (deallocated ${minutes(waitedMs)} ago; annotations reach Resource Graph within about 5 minutes)`,
    waitedMs
  };
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
