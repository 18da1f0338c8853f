/**
 * Which EventIds were handled, kept in a small JSON file so an event is dispatched once even if
 * the agent restarts mid-event. Written atomically (temp file, then rename).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** `held-back`: a wave had all but spent GitHub's dispatch limit, and the run it started sweeps. */
export type EventStatus = 'pending' | 'dispatched' | 'refused' | 'dry-run' | 'held-back';

interface StateFile {
  version: 1;
  /** `seenAt`: when the agent first saw the event (kept across status changes); absent in older files. */
  events: Record<string, { status: EventStatus; at: string; attempts?: number; seenAt?: string }>;
}

/** The event the agent saw last, and when. */
export interface LastSeen {
  eventId: string;
  status: EventStatus;
  seenAt: number;
}

const KEEP_MS = 7 * 86_400_000;

export class EventState {
  private data: StateFile = { version: 1, events: {} };

  constructor(
    private readonly path: string,
    private readonly onWarning: (message: string) => void = () => undefined
  ) {
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
      if (parsed && parsed.version === 1 && typeof parsed.events === 'object') this.data = parsed;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        onWarning(`state file ${path} unreadable (${(error as Error).message}); starting empty`);
    }
  }

  status(eventId: string): EventStatus | undefined {
    return this.data.events[eventId.toLowerCase()]?.status;
  }

  /** Done means nothing more to do for it: dispatched, refused for good, or seen in a dry run. */
  isDone(eventId: string): boolean {
    const s = this.status(eventId);
    return s !== undefined && s !== 'pending';
  }

  /** The most recently seen event on record, if any. */
  lastSeen(): LastSeen | undefined {
    let last: LastSeen | undefined;
    for (const [eventId, e] of Object.entries(this.data.events)) {
      const seenAt = Date.parse(e.seenAt ?? e.at);
      if (Number.isFinite(seenAt) && (!last || seenAt > last.seenAt))
        last = { eventId, status: e.status, seenAt };
    }
    return last;
  }

  set(eventId: string, status: EventStatus, attempts?: number): void {
    const now = Date.now();
    for (const [id, e] of Object.entries(this.data.events))
      if (now - Date.parse(e.at) > KEEP_MS) delete this.data.events[id];
    const key = eventId.toLowerCase();
    this.data.events[key] = {
      status,
      at: new Date(now).toISOString(),
      seenAt: this.data.events[key]?.seenAt ?? new Date(now).toISOString(),
      ...(attempts ? { attempts } : {})
    };
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const temp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
      renameSync(temp, this.path);
    } catch (error) {
      this.onWarning(`could not write the state file ${this.path}: ${(error as Error).message}`);
    }
  }
}
