/**
 * The Instance Metadata Service: never through a proxy (send() uses node:http directly), and
 * always with the `Metadata: true` header. Every failure is an ImdsError with a kind, so the monitor can
 * log each kind once and back off.
 */
import { send, type HttpError } from './http.js';

export interface ComputeMetadata {
  name: string;
  resourceId: string;
  subscriptionId: string;
  resourceGroupName: string;
  vmId: string;
  priority: string;
  evictionPolicy: string;
  location: string;
  vmSize: string;
  tagsList: { name: string; value: string }[];
}

export interface ScheduledEvent {
  EventId: string;
  EventStatus: string;
  EventType: string;
  ResourceType: string;
  Resources: string[];
  NotBefore: string;
  Description?: string;
  EventSource?: string;
  DurationInSeconds?: number;
}

export interface EventsDocument {
  DocumentIncarnation: number;
  Events: ScheduledEvent[];
}

export class ImdsError extends Error {
  constructor(
    readonly kind: 'timeout' | 'connection' | 'status' | 'garbage',
    message: string
  ) {
    super(message);
  }
}

const EVENTS = '/metadata/scheduledevents?api-version=2020-07-01';
const COMPUTE = '/metadata/instance/compute?api-version=2021-02-01';

export class Imds {
  constructor(private readonly baseUrl: string) {}

  async compute(timeoutMs = 5000): Promise<ComputeMetadata> {
    const body = (await this.call('GET', COMPUTE, timeoutMs)) as Partial<ComputeMetadata>;
    if (
      !body ||
      typeof body.resourceId !== 'string' ||
      typeof body.name !== 'string' ||
      typeof body.vmId !== 'string'
    ) {
      throw new ImdsError('garbage', 'compute metadata without resourceId, name or vmId');
    }
    return { tagsList: [], priority: '', evictionPolicy: '', ...body } as ComputeMetadata;
  }

  /** The first call after boot turns the service on and may take up to two minutes. */
  async events(timeoutMs: number): Promise<EventsDocument> {
    const body = (await this.call('GET', EVENTS, timeoutMs)) as Partial<EventsDocument>;
    if (!body || typeof body !== 'object' || !Array.isArray(body.Events))
      throw new ImdsError('garbage', 'a Scheduled Events document without Events');
    const events = body.Events.filter(
      (e): e is ScheduledEvent =>
        !!e && typeof e.EventId === 'string' && typeof e.EventType === 'string' && Array.isArray(e.Resources)
    );
    return { DocumentIncarnation: Number(body.DocumentIncarnation) || 0, Events: events };
  }

  /** Tells Azure the VM is ready: the event may start now instead of at NotBefore. */
  async approve(eventId: string, timeoutMs = 5000): Promise<void> {
    await this.call('POST', EVENTS, timeoutMs, JSON.stringify({ StartRequests: [{ EventId: eventId }] }));
  }

  private async call(method: string, path: string, timeoutMs: number, body?: string): Promise<unknown> {
    let answer;
    try {
      answer = await send(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: { Metadata: 'true', ...(body ? { 'content-type': 'application/json' } : {}) },
        body,
        timeoutMs
      });
    } catch (error) {
      const e = error as HttpError;
      throw new ImdsError(e.kind ?? 'connection', e.message);
    }
    if (answer.status >= 400) throw new ImdsError('status', `IMDS answered ${answer.status}`);
    if (!answer.text) return undefined;
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new ImdsError('garbage', 'IMDS answered something that is not JSON');
    }
  }
}
