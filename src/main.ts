/**
 * The action's phases: inputs → plan → discover → restart → report. The only place that fails
 * the step.
 */
import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
import type { TokenCredential } from '@azure/identity';
import type { PipelineRequest, SendRequest } from '@azure/core-rest-pipeline';
import { loadAzureClients } from './azure-clients.js';
import { createCredential, OidcError, presentedClaims, type GetIdToken } from './auth.js';
import { armScope } from './clouds.js';
import { attachHistory } from './annotation-history.js';
import { DOWN_STATES, lookupVms, queryRows, type DiscoveryStats, type VmFilter } from './discovery.js';
import { featureActionsFor, FeatureSwitch } from './feature-permissions.js';
import { isAway, revertVm } from './revert.js';
import { SizeFactsReader } from './size-facts.js';
import { sizesInPlay, SpotMarket } from './spot-market.js';
import { judge } from './eligibility.js';
import { InputError, readSettings, type GetInput, type Settings } from './inputs.js';
import type { VmResult } from './outcomes.js';
import { surfaceNestedErrors } from './operation-errors.js';
import { describeGap, PermissionCheck } from './permissions.js';
import { parseVmResourceId, vmKey } from './resource-id.js';
import { annotate, shouldFail, writeOutputs, writeSummary, type RunReport } from './report.js';
import { GET_OPERATION, LOW_COST_GET_VM, ResourceBudget, UPDATE_VM, UPDATE_VMSS } from './resource-budget.js';
import { ARM_READS, ARM_WRITES, armBudgetPolicy, SubscriptionBudget } from './subscription-budget.js';
import { restartVm, type RestartDeps } from './restart.js';
import { ScaleSetStarter, startSlots } from './start-operation.js';
import { longRetryAfterPolicy } from './long-retry-after.js';
import { handleDispatch, resolveTargets, startIfEligible, type Start } from './targets.js';
import { realClock, type Clock } from './retry.js';
import { planRun, type Plan } from './trigger.js';

export interface RunDeps {
  getInput: GetInput;
  clock: Clock;
  getIdToken?: GetIdToken;
  /** Tests may hand in a credential; normally it comes from the inputs. */
  credential?: TokenCredential;
}

/** Retries inside the SDK pipeline (429 with Retry-After, 5xx, resets) before ours take over. */
const PIPELINE_RETRY = { maxRetries: 4, retryDelayInMs: 500, maxRetryDelayInMs: 20_000 };

export async function run(deps: Partial<RunDeps> = {}): Promise<RunReport | undefined> {
  const clock = deps.clock ?? realClock;
  const began = clock.now();
  let permissions: PermissionCheck | undefined;
  try {
    const settings = group('Inputs', () => readSettings(deps.getInput));
    const plan = planRun(process.env.GITHUB_EVENT_NAME ?? 'workflow_dispatch', readEvent(), settings);
    logPlan(plan, settings);

    const credential = deps.credential ?? createCredential(settings, deps.getIdToken);
    const armBudgets = {
      reads: new SubscriptionBudget(clock, ARM_READS),
      writes: new SubscriptionBudget(clock, ARM_WRITES)
    };
    const clientOptions = {
      endpoint: settings.cloud.resourceManager,
      credentials: { scopes: [armScope(settings.cloud.resourceManager)] },
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
    };
    const { graph, compute } = await loadAzureClients(credential, clientOptions);
    const restartDeps: RestartDeps = {
      clock,
      compute,
      limit: startSlots(settings.maxConcurrency),
      dryRun: settings.dryRun,
      retryForMs: plan.retryForMs,
      retryIntervalMs: settings.retryIntervalMs,
      pollIntervalMs: settings.pollIntervalMs,
      inFlight: new Map(),
      waitForDeallocationMs: settings.waitForDeallocationMs,
      vmReads: new ResourceBudget(clock, LOW_COST_GET_VM),
      operationReads: new ResourceBudget(clock, GET_OPERATION),
      scaleSets: new ScaleSetStarter(() => restartDeps),
      vmUpdates: new ResourceBudget(clock, UPDATE_VM),
      scaleSetUpdates: new ResourceBudget(clock, UPDATE_VMSS)
    };
    // The resource groups of the VMs the run touches, each looked at once, alongside the work —
    // with what the opt-in features this run uses need beyond the base role.
    const featureActions = featureActionsFor(settings, plan.revert === true);
    permissions = new PermissionCheck({
      credential,
      resourceManager: settings.cloud.resourceManager,
      tokenScope: armScope(settings.cloud.resourceManager),
      requestTimeoutMs: settings.requestTimeoutMs,
      featureActions,
      onGap: gap => core.warning(describeGap(gap, featureActions), { title: 'Missing permissions' }),
      onUnknown: (g, reason) =>
        core.info(`Permissions on resource group ${g.resourceGroup} not checked: ${reason}.`)
    });
    const checkPermissions = permissions;
    const start: Start = (vm, source, mode, decide) => {
      void checkPermissions.check([vm]);
      return restartVm(vm, source, mode, restartDeps, decide);
    };
    const stats: DiscoveryStats = { requests: 0, pages: 0, quotaWaits: 0 };
    // Fallback sizes, price first and revert: what they read is shared by the whole run.
    const features = new FeatureSwitch();
    const market = new SpotMarket(query => queryRows(graph, query, settings.subscriptions, clock, stats));
    restartDeps.fallback = {
      fallbackSizes: settings.fallbackSizes,
      fallbackOrder: settings.fallbackOrder,
      features,
      sizeFacts: new SizeFactsReader(compute, clock, market, restartDeps.vmReads)
    };
    restartDeps.price = { market, raiseMaxPrice: settings.raiseMaxPrice, features };
    const lookup = async (filter: VmFilter) => {
      const vms = await lookupVms(graph, filter, settings.subscriptions, clock, stats);
      // A resize or a max-price change replaced the annotation that explains a deallocation: read the history.
      if (filter.withAnnotations)
        await attachHistory(
          graph,
          vms.filter(v => DOWN_STATES.includes(v.powerState)),
          settings.subscriptions,
          clock,
          stats
        );
      return vms;
    };

    // A dispatched VM's group is known before anything is read: a role too narrow to see the VM still shows.
    const dispatched = plan.dispatch && parseVmResourceId(plan.dispatch.vmResourceId);
    if (dispatched) void permissions.check([dispatched]);

    core.startGroup('Discover and restart');
    const handled = new Set<string>();
    const results: VmResult[] = [];
    let candidates = 0;
    const record = (r: VmResult) => {
      results.push(r);
      core.info(`${r.name} (${r.resourceGroup}): ${r.outcome} — ${r.detail}`);
    };

    // The dispatched VM and the named ones are claimed first, so the sweep does not start them twice.
    const tasks: Promise<void>[] = [];
    if (plan.dispatch) {
      handled.add(vmKey(plan.dispatch.vmResourceId));
      tasks.push(handleDispatch(plan.dispatch, settings, lookup, start).then(record));
    }
    const targets = plan.targets.filter(t => t.kind === 'name' || !handled.has(vmKey(t.ref)));
    if (targets.length) {
      const found = await resolveTargets(targets, settings, lookup);
      candidates += found.length;
      for (const item of found) {
        if ('outcome' in item) {
          record(item);
          continue;
        }
        if (handled.has(vmKey(item.id))) continue;
        handled.add(vmKey(item.id));
        tasks.push(startIfEligible(item, 'vms', judge(item, settings), start, settings).then(record));
      }
    }
    if (plan.sweep) {
      const swept = await lookup({
        candidatesOnly: true,
        resourceGroups: settings.resourceGroups,
        withAnnotations: settings.skipUserStopped
      });
      // Judged from the rows, not filtered in the query: a result paged while evictions change it must not move.
      const down = swept.filter(vm => DOWN_STATES.includes(vm.powerState));
      // Price first: one SpotResources query for every size and region the sweep may start or fall back to.
      await market.load(
        sizesInPlay(
          down.filter(vm => judge(vm, settings).eligible),
          settings.fallbackSizes
        )
      );
      candidates += down.length;
      let notOptedIn = 0;
      for (const vm of down) {
        if (handled.has(vmKey(vm.id))) continue;
        handled.add(vmKey(vm.id));
        const verdict = judge(vm, settings);
        // A deallocated Spot VM that never opted in is none of our business: count it, do not list it.
        if (!verdict.eligible && verdict.outcome === 'skipped') {
          notOptedIn++;
          continue;
        }
        tasks.push(startIfEligible(vm, 'sweep', verdict, start, settings).then(record));
      }
      core.info(
        `Sweep: ${swept.length} Spot VM(s) with eviction policy Deallocate, ${down.length} of them deallocated, ${notOptedIn} of those not in scope or not opted in.`
      );
    }
    if (plan.revert) {
      const found = await lookup({
        candidatesOnly: true,
        resourceGroups: settings.resourceGroups,
        withAnnotations: false
      });
      const away = found.filter(vm => judge(vm, settings).eligible && isAway(vm));
      candidates += away.length;
      core.info(`Revert: ${away.length} opted-in Spot VM(s) on a size other than their preferred one.`);
      await market.load(sizesInPlay(away, settings.fallbackSizes));
      for (const vm of away) tasks.push(revertVm(vm, restartDeps.fallback, restartDeps).then(record));
    }
    await Promise.all(tasks);
    if (armBudgets.reads.waits + armBudgets.writes.waits > 0)
      core.info(
        `Paced by Resource Manager's budgets: ${armBudgets.reads.waits} read(s) and ${armBudgets.writes.waits} write(s) waited for their subscription's refill.`
      );
    core.endGroup();

    const permissionGaps = await permissions.gaps();
    const report: RunReport = {
      event: plan.event,
      dryRun: settings.dryRun,
      results: results.sort((a, b) => a.id.localeCompare(b.id)),
      payloadErrors: plan.payloadErrors ?? [],
      permissionGaps,
      discovery: { ...stats, candidates },
      durationMs: clock.now() - began,
      startedAt: new Date(began).toISOString(),
      dispatch: plan.dispatch && {
        vmResourceId: plan.dispatch.vmResourceId,
        detectedAt: plan.dispatch.detectedAt
      }
    };
    core.startGroup('Report');
    writeOutputs(report);
    annotate(report);
    await writeSummary(report);
    core.endGroup();
    const failure = shouldFail(report, settings.failOn);
    if (failure) core.setFailed(failure);
    return report;
  } catch (error) {
    // What the permission check found may explain the failure: let it speak first.
    await permissions?.gaps();
    core.setFailed(explain(error));
    return undefined;
  }
}

function group<T>(name: string, fn: () => T): T {
  core.startGroup(name);
  try {
    return fn();
  } finally {
    core.endGroup();
  }
}

function readEvent(): Record<string, unknown> {
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    core.warning(`Could not read the event payload at GITHUB_EVENT_PATH: ${errorMessage(error)}`);
    return {};
  }
}

function logPlan(plan: Plan, settings: Settings): void {
  core.info(
    `Event ${plan.event}: ${
      [
        plan.dispatch ? `dispatched VM ${plan.dispatch.vmResourceId}` : '',
        plan.targets.length ? `${plan.targets.length} named VM(s)` : '',
        plan.sweep ? 'sweep' : '',
        plan.revert ? 'revert to preferred sizes' : ''
      ]
        .filter(Boolean)
        .join(' + ') || 'nothing to do'
    }; scope: ${settings.subscriptions.length ? settings.subscriptions.join(', ') : 'every readable subscription'}; tag ${settings.tag.name}=${settings.tag.value}${settings.dryRun ? '; dry run' : ''}.`
  );
  for (const error of plan.payloadErrors ?? []) core.error(`Dispatch payload refused: ${error}`);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** Turns the errors a run can die of into advice. */
function explain(error: unknown): string {
  if (error instanceof InputError || error instanceof OidcError) return error.message;
  const message = errorMessage(error);
  if (/AADSTS70021|AADSTS700213|No matching federated identity/i.test(message)) {
    const claims = presentedClaims();
    return `Azure refused the GitHub OIDC token: no federated credential of the app matches it${claims ? ` (${claims})` : ''}. Add a federated credential with exactly that subject. ${message}`;
  }
  if (/AADSTS7000215|invalid client secret/i.test(message))
    return `Azure refused the client secret (wrong or expired). ${message}`;
  if (/AuthorizationFailed/.test(message))
    return `Resource Graph or Compute refused the identity: ${message}`;
  return message;
}
