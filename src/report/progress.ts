/**
 * A line in the log every few seconds while VMs are being started: a start takes Azure a minute or
 * more, a wait for a deallocation up to the notice, and a log that says nothing for that long looks
 * like a hung run (in `npm run local-action` as much as on a runner).
 */
import * as core from '@actions/core';
import { formatDuration } from '../plan/duration.js';

/** Starts logging what is in progress (VM name → when its work began); returns a stop function. */
export function logProgress(
  inProgress: ReadonlyMap<string, number>,
  now: () => number,
  everyMs = 10_000
): () => void {
  const timer = setInterval(() => {
    if (!inProgress.size) return;
    const t = now();
    const oldest = [...inProgress].sort((a, b) => a[1] - b[1]);
    const shown = oldest
      .slice(0, 5)
      .map(([name, since]) => `${name} (${formatDuration(t - since)})`)
      .join(', ');
    core.info(
      `Still working on ${inProgress.size} VM(s): ${shown}${inProgress.size > 5 ? ` and ${inProgress.size - 5} more` : ''}.`
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
