/** Talking to the emulator from outside, as a caller would: the tests, the demo and the benchmarks. */
import { buildPayload, type DispatchPayload } from '../../src/plan/payload.js';
import type { Emulator } from './server.js';
import type { ScheduledEvent, Vm } from './azure/spot.js';

/** The payload the agent would send for this VM and its Preempt event. */
export function preemptPayload(
  vm: Vm,
  event: ScheduledEvent,
  extra: Partial<DispatchPayload> = {}
): DispatchPayload {
  return buildPayload({
    vmResourceId: vm.id,
    vmId: vm.vmId,
    eventId: event.EventId,
    eventType: 'Preempt',
    detectedAt: new Date().toISOString(),
    ...extra
  });
}

/** POSTs to the emulated GitHub API from the test process, trusting the emulator's CA. */
export async function githubPost(
  emu: Emulator,
  path: string,
  token: string | undefined,
  body: unknown
): Promise<{ status: number; body: unknown }> {
  const { request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.url}${path}`,
      {
        method: 'POST',
        ca: readFileSync(emu.caFile),
        headers: {
          'content-type': 'application/json',
          accept: 'application/vnd.github+json',
          ...(token ? { authorization: `Bearer ${token}` } : {})
        }
      },
      res => {
        let text = '';
        res.on('data', c => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined })
        );
      }
    );
    req.on('error', reject);
    req.end(data);
  });
}
