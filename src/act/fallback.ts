/**
 * The fallback of one VM in one run: after its size failed for capacity, record its preferred size
 * (once, before the first resize), then resize the deallocated VM to the next acceptable size and
 * let the start loop try again. Safety first: a VM without a list is never resized, never to a
 * size outside its list, and never unless the instance view read right before says deallocated.
 */
import * as core from '@actions/core';
import type { VmRecord } from '../discover/discovery.js';
import { describeAzureError, fixedRefusal, isQuota, SPOT_QUOTA_WORDS } from '../azure/errors.js';
import type { FeatureSwitch } from './feature-permissions.js';
import { isAcceptable, rankCandidates } from '../judge/size-candidates.js';
import { PREFERRED_TAG, sizeListOf, tagValue, type SizeFacts, type SizeList } from '../discover/size-list.js';
import type { FallbackOrder } from '../plan/inputs.js';
import type { VmResult } from '../report/outcomes.js';
import { recordPreferredSize, resizeVm, type WriteDeps } from './resize.js';
import { updateBudgets, type UpdateBudgets } from './start-operation.js';
import { readPowerState, type VmReadDeps } from '../discover/power-state.js';
import type { SizeFactsReader } from '../discover/size-facts.js';

export interface FallbackDeps {
  fallbackSizes: Record<string, string[]>;
  fallbackOrder: FallbackOrder;
  features: FeatureSwitch;
  sizeFacts: SizeFactsReader;
  /** Resource Manager's address in the run's cloud, for the tag merge (resize.ts). */
  armEndpoint?: string;
}

export class FallbackRun {
  /** Sizes a start was tried on, in order: the VM's own first. */
  readonly tried: string[];
  readonly skipped: { size: string; reason: string }[] = [];
  private resized = false;
  private note?: string;
  private facts?: SizeFacts;

  private constructor(
    private readonly vm: VmRecord,
    private readonly list: SizeList,
    private readonly deps: FallbackDeps,
    private readonly restart: VmReadDeps & { pollIntervalMs: number } & Partial<UpdateBudgets>
  ) {
    this.tried = [vm.vmSize];
  }

  /** The VM's fallback, or undefined without a list (such a VM is never resized). */
  static for(
    vm: VmRecord,
    deps: FallbackDeps,
    restart: VmReadDeps & { pollIntervalMs: number } & Partial<UpdateBudgets>
  ): FallbackRun | undefined {
    const list = sizeListOf(vm, deps.fallbackSizes);
    if (!list) return undefined;
    if ('invalid' in list) {
      core.warning(`${vm.name}: ${list.invalid}; it gets a plain restart.`);
      return undefined;
    }
    return new FallbackRun(vm, list, deps, restart);
  }

  /** After a capacity failure: true when the VM now has another acceptable size to start on. */
  async resizeToNext(deadline: number): Promise<boolean> {
    const feature = 'fallback sizes';
    if (!this.deps.features.isOn(feature)) {
      this.note = this.deps.features.why(feature);
      return false;
    }
    const vm = this.vm;
    const writes: WriteDeps = {
      clock: this.restart.clock,
      client: this.restart.compute(vm.subscriptionId),
      pollIntervalMs: this.restart.pollIntervalMs,
      deadline,
      endpoint: this.deps.armEndpoint,
      updates: updateBudgets(this.restart)
    };
    try {
      const all = [this.list.preferred, ...this.list.fallbacks];
      const facts = (this.facts ??= await this.deps.sizeFacts.factsFor(vm, all, deadline));
      const tried = new Set(this.tried.map(s => s.toLowerCase()));
      for (const candidate of rankCandidates(
        this.list,
        vm.vmSize,
        tried,
        facts,
        vm.maxPrice,
        this.deps.fallbackOrder
      )) {
        if (!candidate.ok) {
          this.skip(candidate.size, candidate.reason);
          continue;
        }
        if (!isAcceptable(this.list, candidate.size)) continue; // never outside the owner's list
        if (tagValue(vm.tags, PREFERRED_TAG) === undefined) {
          await recordPreferredSize(vm, this.list.preferred, writes);
          vm.tags = { ...vm.tags, [PREFERRED_TAG]: this.list.preferred };
        }
        const state = await readPowerState(vm, this.restart, deadline);
        if (state.code !== 'PowerState/deallocated' || state.updating) {
          this.note = `not resized: its power state is ${state.code.replace('PowerState/', '')}, and only a deallocated VM is resized`;
          return false;
        }
        try {
          await resizeVm(vm, candidate.size, writes);
        } catch (error) {
          const info = describeAzureError(error);
          if (info.status === 403) throw error;
          if (isQuota(info)) {
            this.skip(candidate.size, `${SPOT_QUOTA_WORDS} (${info.message.slice(0, 160)})`);
            continue;
          }
          // Refused for good for this size: the next one at once, no retry of this one.
          const fixed = fixedRefusal(info);
          if (fixed) {
            this.skip(candidate.size, `${fixed} (${info.message.slice(0, 160)})`);
            continue;
          }
          if (info.code === 'OperationNotAllowed') {
            this.note = `not resized: ${info.message.slice(0, 160)}`;
            return false;
          }
          this.skip(candidate.size, `${info.code ?? info.status ?? 'error'}: ${info.message.slice(0, 160)}`);
          continue;
        }
        core.info(
          `${vm.name}: no capacity for ${vm.vmSize}; resized to ${candidate.size} (prefers ${this.list.preferred}).`
        );
        vm.vmSize = candidate.size;
        this.tried.push(candidate.size);
        this.resized = true;
        return true;
      }
      return false;
    } catch (error) {
      const info = describeAzureError(error);
      if (info.status === 403) {
        this.deps.features.turnOff(feature, info.message);
        this.note = this.deps.features.why(feature);
        return false;
      }
      this.note = `fallback stopped: ${info.code ?? info.status ?? 'error'}: ${info.message.slice(0, 160)}`;
      return false;
    }
  }

  private skip(size: string, reason: string): void {
    if (!this.skipped.some(s => s.size === size)) this.skipped.push({ size, reason });
  }

  /** The VM's result with what the fallback did: the sizes tried and passed over, and the sizes. */
  decorate(r: VmResult): VmResult {
    const onPreferred = this.vm.vmSize.toLowerCase() === this.list.preferred.toLowerCase();
    const extra: Partial<VmResult> = {
      vmSize: this.vm.vmSize,
      preferredSize: this.list.preferred,
      usedSize: this.vm.vmSize,
      sizesTried: [...this.tried],
      ...(this.skipped.length ? { sizesSkipped: [...this.skipped] } : {})
    };
    const skippedText = this.skipped.length
      ? `; passed over: ${this.skipped.map(s => `${s.size} (${s.reason})`).join(', ')}`
      : '';
    const noteText = this.note ? `; ${this.note}` : '';
    if (r.outcome === 'started' && !onPreferred)
      return {
        ...r,
        ...extra,
        outcome: 'started-fallback',
        detail: `started on fallback size ${this.vm.vmSize} (prefers ${this.list.preferred}; tried ${this.tried.join(', ')})${skippedText}`
      };
    if (r.outcome === 'capacity-unavailable' || this.resized)
      return {
        ...r,
        ...extra,
        detail: `${r.detail}; sizes tried: ${this.tried.join(', ')}${skippedText}${noteText}`
      };
    return noteText ? { ...r, ...extra, detail: r.detail + noteText } : r;
  }
}
