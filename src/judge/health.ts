/**
 * Is a started VM healthy, by what its instance view says? A pure function of one view, so the
 * polling (act/health.ts) only decides when to look again.
 *
 * - guest-agent: the agent's status is `ProvisioningState/succeeded`, "Ready" ("GuestAgent is running
 *   and accepting new configurations.", spec example VirtualMachine_Get_InstanceView.json); not yet
 *   while it is `ProvisioningState/Unavailable`, "Not Ready" ("VM status blob is found but not yet
 *   populated.", spec example VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json).
 * - application-health: `vmHealth.status.code` `HealthState/healthy` (Microsoft Learn, "Using
 *   Application Health extension with Azure Virtual Machines", View VMHealth: `HealthState/unknown`;
 *   the other states' codes are the same form). Unhealthy ends the wait only for Rich Health States
 *   (extension 2.x), where "Instances only go into an Unhealthy state if the application emits an
 *   Unhealthy probe response"; with Binary Health States (1.x) "Initializing state isn't available.
 *   Newly created instances may take some time before settling", so Unhealthy right after a start
 *   is not yet a verdict: the timeout decides, and the report keeps what Azure said.
 *
 * A status older than the deallocation speaks of the VM before its eviction, never of this start.
 */
import type { HealthStatus, HealthView } from '../discover/vm-health.js';
import type { VerifyHealth } from '../plan/inputs.js';

/** The checks of the `verify-health` input (plan/inputs.ts), `none` aside. */
export type HealthCheck = Exclude<VerifyHealth, 'none'>;

export interface HealthVerdict {
  /** healthy / unhealthy (Azure says so, final) / down (not running any more) / waiting (not yet). */
  state: 'healthy' | 'unhealthy' | 'down' | 'waiting';
  /** What Azure said, in a few words, for the log and the report. */
  said: string;
}

const DOWN = [
  'PowerState/deallocated',
  'PowerState/deallocating',
  'PowerState/stopped',
  'PowerState/stopping'
];

/**
 * `since`: Azure's time of the deallocation the start ended (the instance view's), if known.
 * `scaleSetInstance`: a scale-set instance shows vmHealth only once it runs the scale set's latest
 * model (Microsoft Learn, the scale-set Application Health page), which is worth saying when it is missing.
 */
export function judgeHealth(
  view: HealthView,
  check: HealthCheck,
  since?: number,
  scaleSetInstance = false
): HealthVerdict {
  if (view.power === 'gone') return { state: 'down', said: 'the VM no longer exists' };
  const power = view.power.replace('PowerState/', '');
  if (DOWN.includes(view.power) && !view.updating)
    return { state: 'down', said: `power state ${power}: down again before it was healthy` };
  if (view.power !== 'PowerState/running') return { state: 'waiting', said: `power state ${power}` };
  return check === 'guest-agent' ? guestAgent(view, since) : applicationHealth(view, since, scaleSetInstance);
}

function guestAgent(view: HealthView, since?: number): HealthVerdict {
  const agent = view.agent;
  if (!agent)
    return {
      state: 'waiting',
      said: 'no guest agent status in the instance view (is the VM agent installed?)'
    };
  if (stale(agent, since))
    return { state: 'waiting', said: `guest agent: ${describe(agent)}, reported before the start` };
  const ready = agent.code.toLowerCase() === 'provisioningstate/succeeded';
  return { state: ready ? 'healthy' : 'waiting', said: `guest agent: ${describe(agent)}` };
}

function applicationHealth(
  view: HealthView,
  since: number | undefined,
  scaleSetInstance: boolean
): HealthVerdict {
  const extension = view.appHealthExtension;
  const substatus = extension?.statuses
    .map(s => s.message)
    .filter((m): m is string => Boolean(m))
    .join('; ');
  const fromExtension = substatus ? `; extension: ${substatus}` : '';
  const health = view.vmHealth;
  if (!health)
    return {
      state: 'waiting',
      said:
        (extension
          ? `no Application Health state (vmHealth) in the instance view yet${fromExtension}`
          : 'no Application Health state (vmHealth) and no Application Health extension in the instance view') +
        (scaleSetInstance ? ' (an instance shows it once it runs the latest model of its scale set)' : '')
    };
  if (stale(health, since))
    return {
      state: 'waiting',
      said: `Application Health: ${describe(health)}, reported before the start`
    };
  const said = `Application Health: ${describe(health)}${fromExtension}`;
  const state = health.code.toLowerCase().replace(/^healthstate\//, '');
  if (state === 'healthy') return { state: 'healthy', said };
  if (state === 'unhealthy' && richHealthStates(extension?.typeHandlerVersion))
    return { state: 'unhealthy', said };
  return { state: 'waiting', said };
}

/** Rich Health States are extension version 2.0 (`typeHandlerVersion` "2.0"); Binary is 1.0. */
function richHealthStates(typeHandlerVersion: string | undefined): boolean {
  const major = Number(typeHandlerVersion?.split('.')[0]);
  return Number.isFinite(major) && major >= 2;
}

function stale(status: HealthStatus, since: number | undefined): boolean {
  return since !== undefined && status.time !== undefined && status.time <= since;
}

/** `Not Ready (ProvisioningState/Unavailable): VM status blob is found but not yet populated.` */
function describe(s: HealthStatus): string {
  const name = s.displayStatus && s.displayStatus !== s.code ? `${s.displayStatus} (${s.code})` : s.code;
  return s.message ? `${name}: ${s.message}` : name;
}
