/**
 * How the agents of a fleet share GitHub's limits in a wave. Azure evicts many VMs of one size at
 * once, and their agents share one token or one GitHub App installation: one identity, whose
 * content-creating requests GitHub limits to 80 a minute ("Rate limits for the REST API",
 * secondary rate limits). Past that every dispatch is refused, and a refused agent has only its
 * notice to try again in — the VM is gone after it.
 *
 * So before it sends, the agent asks how many repository_dispatch runs this repository received in
 * the last minute (`GET …/actions/runs`, a read that creates nothing; its token needs
 * `Actions: read`). When they are near the limit, a wave is under way and its first run reads every
 * VM of it and sweeps: this agent holds back rather than add one more refusal. Without the
 * permission, or with no answer in time, it sends as before.
 */
import { sendDispatch, type DispatchOptions, type DispatchResult } from './dispatch.js';
import { githubHeaders } from './github-headers.js';
import { send } from './http.js';

/** Below GitHub's 80 a minute, leaving room for the dispatches already on their way. */
export const RECENT_DISPATCHES_TO_HOLD_BACK = 60;
const WINDOW_MS = 60_000;
/** The notice is short: an answer that takes longer is not worth waiting for. */
const TIMEOUT_MS = 2000;

/** How many repository_dispatch runs GitHub created in the last minute, or undefined when it cannot say. */
export async function recentDispatches(o: {
  apiUrl: string;
  repository: string;
  token: string;
  now?: () => number;
}): Promise<number | undefined> {
  const since = new Date((o.now ?? Date.now)() - WINDOW_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const query = new URLSearchParams({ event: 'repository_dispatch', created: `>=${since}`, per_page: '1' });
  try {
    const answer = await send(
      `${o.apiUrl.replace(/\/+$/, '')}/repos/${o.repository}/actions/runs?${query.toString()}`,
      { headers: githubHeaders(o.token), timeoutMs: TIMEOUT_MS }
    );
    if (answer.status !== 200) return undefined;
    const count = (JSON.parse(answer.text) as { total_count?: unknown }).total_count;
    return typeof count === 'number' ? count : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Until when the agent tries to dispatch: the end of the notice (NotBefore), never past it — the
 * VM is being deallocated then, and the run that the wave started sweeps. An event without
 * NotBefore has already begun: one attempt.
 */
export function dispatchDeadline(notBefore: number | undefined, now: number): number {
  return notBefore === undefined ? now : Math.max(now, notBefore);
}

/**
 * The agent's dispatch in a wave: held back when the last minute's dispatches are near GitHub's
 * limit, otherwise sent, retried and spread within the notice.
 */
export async function dispatchInWave(
  o: DispatchOptions & { now?: () => number }
): Promise<DispatchResult | { ok: false; heldBack: number }> {
  const recent = await recentDispatches({
    apiUrl: o.apiUrl,
    repository: o.repository,
    token: await o.credentials.token().catch(() => ''),
    now: o.now
  });
  if (recent !== undefined && recent >= RECENT_DISPATCHES_TO_HOLD_BACK)
    return { ok: false, heldBack: recent };
  return sendDispatch(o);
}
