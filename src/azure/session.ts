/**
 * Everything a run needs to talk to Azure, wired once: the credential, the SDK clients with our
 * pipeline policies, and the budgets that pace the talk by Azure's own numbers. The rest of the
 * action receives these; nothing below builds its own client.
 */
import * as core from '@actions/core';
import type { PipelineRequest, SendRequest } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { loadAzureClients, type ComputeFor } from './clients.js';
import { armScope, type Cloud } from './clouds.js';
import { longRetryAfterPolicy } from './long-retry-after.js';
import { surfaceNestedErrors } from './nested-errors.js';
import { describeGap, PermissionCheck } from './permissions.js';
import {
  GET_OPERATION,
  LOW_COST_GET_VM,
  ResourceBudget,
  UPDATE_VM,
  UPDATE_VM_PER_VM,
  UPDATE_VMSS
} from './resource-budget.js';
import type { Clock } from './retry.js';
import { createCredential, type GetIdToken, type SignInSettings } from './sign-in.js';
import { ARM_READS, ARM_WRITES, armBudgetPolicy, SubscriptionBudget } from './subscription-budget.js';
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';

/** Retries inside the SDK pipeline (429 with Retry-After, 5xx, resets) before ours take over. */
const PIPELINE_RETRY = { maxRetries: 4, retryDelayInMs: 500, maxRetryDelayInMs: 20_000 };

export interface SessionSettings extends SignInSettings {
  cloud: Cloud;
  requestTimeoutMs: number;
}

/** Compute's budgets (Microsoft Learn, "Compute throttling limits"), per VM, operation or region. */
export interface ComputeBudgets {
  /** "Low Cost Get VM": GET and instance view, per VM ("Get VMSS VMs" has the same numbers). */
  vmReads: ResourceBudget;
  /** "Get Operation": polls of one long-running operation. */
  operationReads: ResourceBudget;
  /** "Update VM" / "Update VMSS" per subscription and region: every start spends one. */
  vmUpdates: ResourceBudget;
  scaleSetUpdates: ResourceBudget;
  /** "Update VM" per VM: a fallback's resizes and starts of one VM. */
  vmUpdatesPerVm: ResourceBudget;
}

export interface AzureSession {
  credential: TokenCredential;
  graph: ResourceGraphClient;
  compute: ComputeFor;
  /** Resource Manager's read and write budgets per subscription, spent by every attempt. */
  armBudgets: { reads: SubscriptionBudget; writes: SubscriptionBudget };
  computeBudgets: ComputeBudgets;
  /** The resource groups the run touches, each looked at once for what the role lacks. */
  permissions: PermissionCheck;
}

export async function openSession(
  settings: SessionSettings,
  clock: Clock,
  /** Actions the run's opt-in features need beyond the base role (→ why), for the permission check. */
  featureActions: Record<string, string>,
  given: { credential?: TokenCredential; getIdToken?: GetIdToken } = {}
): Promise<AzureSession> {
  const credential = given.credential ?? createCredential(settings, given.getIdToken);
  const scope = armScope(settings.cloud.resourceManager);
  const armBudgets = {
    reads: new SubscriptionBudget(clock, ARM_READS),
    writes: new SubscriptionBudget(clock, ARM_WRITES)
  };
  const { graph, compute } = await loadAzureClients(credential, {
    endpoint: settings.cloud.resourceManager,
    credentials: { scopes: [scope] },
    retryOptions: PIPELINE_RETRY,
    additionalPolicies: [
      longRetryAfterPolicy(PIPELINE_RETRY.maxRetryDelayInMs),
      armBudgetPolicy(armBudgets),
      // The SDK waits forever for an answer by default; a hung connection must not hang the run.
      {
        position: 'perCall' as const,
        policy: {
          name: 'requestTimeout',
          sendRequest: (request: PipelineRequest, next: SendRequest) => {
            if (!request.timeout) request.timeout = settings.requestTimeoutMs;
            return next(request);
          }
        }
      },
      { position: 'perCall' as const, policy: surfaceNestedErrors }
    ]
  });
  const permissions = new PermissionCheck({
    credential,
    resourceManager: settings.cloud.resourceManager,
    tokenScope: scope,
    requestTimeoutMs: settings.requestTimeoutMs,
    featureActions,
    onGap: gap => core.warning(describeGap(gap, featureActions), { title: 'Missing permissions' }),
    onUnknown: (g, reason) =>
      core.info(`Permissions on resource group ${g.resourceGroup} not checked: ${reason}.`)
  });
  return {
    credential,
    graph,
    compute,
    armBudgets,
    computeBudgets: {
      vmReads: new ResourceBudget(clock, LOW_COST_GET_VM),
      operationReads: new ResourceBudget(clock, GET_OPERATION),
      vmUpdates: new ResourceBudget(clock, UPDATE_VM),
      scaleSetUpdates: new ResourceBudget(clock, UPDATE_VMSS),
      vmUpdatesPerVm: new ResourceBudget(clock, UPDATE_VM_PER_VM)
    },
    permissions
  };
}

/** Says how often Resource Manager's budgets held requests back, if they did. */
export function logPacing(session: AzureSession): void {
  const { reads, writes } = session.armBudgets;
  if (reads.waits + writes.waits > 0)
    core.info(
      `Paced by Resource Manager's budgets: ${reads.waits} read(s) and ${writes.waits} write(s) waited for their subscription's refill.`
    );
}
