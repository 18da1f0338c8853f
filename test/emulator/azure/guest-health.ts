/**
 * What a VM's instance view says about the machine inside it: the guest agent's status, and the
 * Application Health extension's state (`vmHealth`) with the extension's own statuses.
 *
 * Published shapes (azure-rest-api-specs, Microsoft.Compute ComputeRP stable 2024-07-01 examples):
 * - Ready: VirtualMachine_Get_InstanceView.json — `vmAgent.statuses[0]` `ProvisioningState/succeeded`,
 *   Info, "Ready", "GuestAgent is running and accepting new configurations.", with a time.
 * - Not Ready: VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json —
 *   `vmAgentVersion` "Unknown", `ProvisioningState/Unavailable`, Warning, "Not Ready", "VM status
 *   blob is found but not yet populated.", `extensionHandlers: null`, next to `PowerState/running`.
 * - vmHealth: Microsoft Learn, "Using Application Health extension with Azure Virtual Machines"
 *   (View VMHealth) — `{"status": {"code": "HealthState/unknown", "level": "Warning",
 *   "displayStatus": "The VM health is unknown", "time": …}}`. The other states' codes follow the same
 *   form (`HealthState/healthy` as Azure SDK tests read it); their level and text are inferred.
 * - The extension's substatuses `AppHealthStatus` ("Application found to be healthy" / "…
 *   unhealthy") and `ApplicationHealthState` (the state's name) are the extension's own
 *   (Azure/applicationhealth-extension-linux); their `ComponentStatus/…` rendering in the instance
 *   view is inferred from how Azure renders other extensions' substatuses.
 *
 * Hostile where Azure is silent: after a start the old statuses stay (with their old times) until
 * the agent reports again, so a reader that ignores the time sees a VM "Ready" and "healthy" the
 * moment it runs. The agent reports Not Ready when the VM runs, Ready `agentReadyS` later; the
 * extension starts with the agent and settles `appHealthSettleS` after it (Binary Health States
 * report Unhealthy meanwhile — they have no Initializing; Rich ones report Initializing).
 */
import type { ScaledClock } from '../clock.js';
import type { AppHealthSpec, GuestAgentSpec } from '../fleets/fleet.js';

export type AppHealthState = 'healthy' | 'unhealthy' | 'unknown' | 'initializing';

export interface GuestHealth {
  agent: GuestAgentSpec;
  app?: AppHealthSpec;
  /** What the agent last reported, and when (emulated ms). */
  agentReady: boolean;
  agentTime: number;
  /** The last Application Health state reported, and when. */
  health?: { state: AppHealthState; time: number };
  /** Starts so far: a timer of an earlier start never speaks for a later one. */
  boots: number;
}

export interface GuestTiming {
  /** Emulated seconds from running to the guest agent reporting Ready (not published; a boot and the agent's start). */
  agentReadyS: number;
  /**
   * Emulated seconds from the agent Ready to the Application Health state settling: the extension's
   * defaults, `intervalInSeconds` 5 × `numberOfProbes` 1 (the same page).
   */
  appHealthSettleS: number;
}

/** A fleet's VM as it is before the emulator starts: the agent Ready and the application settled, reported at `reportedAt`. */
export function initialGuestHealth(
  agent: GuestAgentSpec | undefined,
  app: AppHealthSpec | undefined,
  reportedAt: number
): GuestHealth {
  return {
    agent: agent ?? 'ready',
    app,
    agentReady: true,
    agentTime: reportedAt,
    health: app ? { state: app.settlesTo ?? 'healthy', time: reportedAt } : undefined,
    boots: 0
  };
}

/** The VM runs again: the agent is Not Ready at once, Ready later (unless it never is), and the extension follows it. */
export function booted(guest: GuestHealth, clock: ScaledClock, timing: GuestTiming): void {
  const boot = ++guest.boots;
  guest.agentReady = false;
  guest.agentTime = clock.now();
  if (guest.agent === 'never') return;
  clock.after(timing.agentReadyS * 1000, () => {
    if (guest.boots !== boot) return;
    guest.agentReady = true;
    guest.agentTime = clock.now();
    if (!guest.app) return;
    const rich = guest.app.states === 'rich';
    guest.health = { state: rich ? 'initializing' : 'unhealthy', time: clock.now() };
    clock.after(timing.appHealthSettleS * 1000, () => {
      if (guest.boots !== boot) return;
      const settled = guest.app!.settlesTo ?? 'healthy';
      // Binary Health States know only Healthy and Unhealthy: an application that cannot answer is Unhealthy.
      guest.health = { state: !rich && settled === 'unknown' ? 'unhealthy' : settled, time: clock.now() };
    });
  });
}

const LEVEL: Record<AppHealthState, string> = {
  healthy: 'Info',
  initializing: 'Info',
  unknown: 'Warning',
  unhealthy: 'Error'
};

/** The instance view's `vmAgent`, `vmHealth` and `extensions` for this VM. */
export function guestHealthView(guest: GuestHealth, osType: 'Linux' | 'Windows') {
  const time = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const vmAgent = guest.agentReady
    ? {
        vmAgentVersion: '2.7.41491.949',
        statuses: [
          {
            code: 'ProvisioningState/succeeded',
            level: 'Info',
            displayStatus: 'Ready',
            message: 'GuestAgent is running and accepting new configurations.',
            time: time(guest.agentTime)
          }
        ],
        extensionHandlers: guest.app
          ? [
              {
                type: `Microsoft.ManagedServices.ApplicationHealth${osType}`,
                typeHandlerVersion: guest.app.states === 'rich' ? '2.0' : '1.0',
                status: { code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Ready' }
              }
            ]
          : []
      }
    : {
        vmAgentVersion: 'Unknown',
        statuses: [
          {
            code: 'ProvisioningState/Unavailable',
            level: 'Warning',
            displayStatus: 'Not Ready',
            message: 'VM status blob is found but not yet populated.',
            time: time(guest.agentTime)
          }
        ],
        extensionHandlers: null
      };
  const health = guest.health;
  if (!guest.app || !health) return { vmAgent };
  const good = health.state === 'healthy';
  const stateName = health.state.charAt(0).toUpperCase() + health.state.slice(1);
  return {
    vmAgent,
    vmHealth: {
      status: {
        code: `HealthState/${health.state}`,
        level: LEVEL[health.state],
        displayStatus: `The VM health is ${health.state}`,
        time: time(health.time)
      }
    },
    extensions: [
      {
        name: 'HealthExtension',
        type: `Microsoft.ManagedServices.ApplicationHealth${osType}`,
        typeHandlerVersion: guest.app.states === 'rich' ? '2.0' : '1.0',
        statuses: [
          {
            code: 'ProvisioningState/succeeded',
            level: 'Info',
            displayStatus: 'Provisioning succeeded',
            time: time(health.time)
          }
        ],
        substatuses: [
          {
            code: `ComponentStatus/AppHealthStatus/${good ? 'succeeded' : 'failed'}`,
            level: good ? 'Info' : 'Error',
            displayStatus: good ? 'Provisioning succeeded' : 'Provisioning failed',
            message: good ? 'Application found to be healthy' : 'Application found to be unhealthy'
          },
          ...(guest.app.states === 'rich'
            ? [
                {
                  code: `ComponentStatus/ApplicationHealthState/${health.state === 'initializing' ? 'transitioning' : good ? 'succeeded' : 'failed'}`,
                  level: good || health.state === 'initializing' ? 'Info' : 'Error',
                  displayStatus: 'Provisioning succeeded',
                  message: stateName
                }
              ]
            : [])
        ]
      }
    ]
  };
}
