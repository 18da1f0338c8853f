/**
 * Fault injection shared by tests, the demo and the benchmarks: throttling storms, server errors,
 * dropped connections and slow answers, on a chosen kind of request.
 */
import { seededRandom } from './random.js';

export type FaultTarget =
  | 'arg'
  | 'start'
  | 'instanceView'
  | 'operation'
  | 'arm'
  | 'entra'
  | 'oidc'
  | 'dispatch'
  | 'runs'
  | 'imds'
  | 'any';

export interface FaultRule {
  target: FaultTarget;
  kind: '429' | '500' | '503' | 'reset' | 'slow';
  /** Share of matching requests hit (default 1). */
  probability?: number;
  /** Hit at most this many requests, then stop (default: no limit). */
  count?: number;
  /** For `slow`: real milliseconds to wait before answering. */
  delayMs?: number;
  /** For `429`: the Retry-After to send, in emulated seconds (default 1). */
  retryAfterS?: number;
}

export class Faults {
  private rules: (FaultRule & { hits: number })[] = [];
  readonly injected: Record<string, number> = {};

  /** Draws for `probability`: seeded, so the same requests are hit in every run. */
  constructor(private readonly random: () => number = seededRandom(1)) {}

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, hits: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault to apply to this request, if any (a `slow` rule may combine with another). */
  pick(target: FaultTarget): { delayMs: number; fault?: FaultRule } {
    let delayMs = 0;
    let fault: FaultRule | undefined;
    for (const rule of this.rules) {
      if (
        rule.target !== target &&
        rule.target !== 'any' &&
        !(
          rule.target === 'arm' &&
          target !== 'entra' &&
          target !== 'oidc' &&
          target !== 'dispatch' &&
          target !== 'imds'
        )
      )
        continue;
      if (rule.count !== undefined && rule.hits >= rule.count) continue;
      // One failure per request: once a rule has failed it, the others are not used up by it.
      if (fault && rule.kind !== 'slow') continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      rule.hits++;
      this.injected[`${target}:${rule.kind}`] = (this.injected[`${target}:${rule.kind}`] ?? 0) + 1;
      if (rule.kind === 'slow') delayMs += rule.delayMs ?? 1000;
      else fault = rule;
    }
    return { delayMs, fault };
  }
}
