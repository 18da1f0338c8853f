/**
 * When the VM boots again after an eviction the agent saw, the agent says how long the VM was
 * away: from the Preempt it recorded to this boot, and to the agent running again. It needs no
 * request: the state file holds the event, and the OS knows when it booted.
 */
import type { LastSeen } from './state.js';

export interface BackAfterEviction {
  eventId: string;
  status: LastSeen['status'];
  seenAt: string;
  bootedAt: string;
  /** Seconds from the event seen to this boot, and to now (the agent watching again). */
  downToBootS: number;
  downToAgentS: number;
}

/** Undefined unless the machine booted after the last event on record (an agent restart alone is no return). */
export function backAfterEviction(
  last: LastSeen | undefined,
  now: number,
  uptimeS: number
): BackAfterEviction | undefined {
  if (!last) return undefined;
  const bootedAt = now - uptimeS * 1000;
  if (!(bootedAt > last.seenAt)) return undefined;
  return {
    eventId: last.eventId,
    status: last.status,
    seenAt: new Date(last.seenAt).toISOString(),
    bootedAt: new Date(bootedAt).toISOString(),
    downToBootS: Math.round((bootedAt - last.seenAt) / 1000),
    downToAgentS: Math.round((now - last.seenAt) / 1000)
  };
}
