/** What one run did, as the outputs, the summary and the annotations tell it. */
import type { PermissionGap } from '../azure/permissions.js';
import type { VmResult } from './outcomes.js';

export interface RunReport {
  event: string;
  dryRun: boolean;
  results: VmResult[];
  payloadErrors: string[];
  /** What the identity's roles seem to lack, per resource group touched: warnings, never a failure. */
  permissionGaps: PermissionGap[];
  discovery: {
    requests: number;
    pages: number;
    quotaWaits: number;
    candidates: number;
    /** What Resource Graph refused or left out (a table's query, a tenant cut short): the run went on. */
    warnings?: string[];
  };
  durationMs: number;
  /** When the run began, ISO-8601: for a dispatched run, just after GitHub delivered the dispatch. */
  startedAt?: string;
  /** The dispatch that started the run (its payload's VM and when the agent saw the Preempt). */
  dispatch?: { vmResourceId: string; detectedAt: string };
  /** The no-evidence bound (`start-without-evidence-after`): waiting for evidence longer needs a person. */
  evidenceBoundMs?: number;
  /** The step's result: why it fails (per `fail-on`), or nothing when it succeeds. */
  failure?: string;
  failOn?: string;
  /** Where writeOutputs put the complete per-VM result (also the `result-file` output). */
  resultFile?: string;
}
