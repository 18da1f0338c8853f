/**
 * What the emulator emulates: a tenant with subscriptions, apps (identities) and their roles,
 * regions with Spot capacity and prices, VMs, and the GitHub side. Read from a JSON or YAML file
 * (`npm run emulator -- --fleet <file>`) or built in code by tests.
 */
import { randomUUID } from 'node:crypto';
import type { SizeRestriction } from '../azure/sizes.js';

export type PowerState = 'running' | 'starting' | 'stopping' | 'stopped' | 'deallocating' | 'deallocated';

/** What a VM and a scale set's model both say of their machines: where, what size, the Spot terms, the OS. */
export interface MachineSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string;
  vmSize?: string;
  zone?: string;
  priority?: 'Spot' | 'Regular' | 'Low';
  evictionPolicy?: 'Deallocate' | 'Delete';
  /** -1: never evicted for price. */
  maxPrice?: number;
  /** The OS disk's type (a scale set's: its model's image); Spot prices differ per OS (default Linux). */
  osType?: 'Linux' | 'Windows';
  tags?: Record<string, string>;
}

/** What a spec leaves out: a Linux Spot Standard_D2s_v5 in eastus, deallocated when evicted, no price cap, no tags. */
export function machineDefaults(spec: MachineSpec) {
  return {
    location: spec.location ?? 'eastus',
    vmSize: spec.vmSize ?? 'Standard_D2s_v5',
    zone: spec.zone,
    priority: spec.priority ?? 'Spot',
    evictionPolicy: spec.evictionPolicy ?? 'Deallocate',
    maxPrice: spec.maxPrice ?? -1,
    osType: spec.osType ?? 'Linux',
    tags: spec.tags ?? {}
  };
}

export interface VmSpec extends MachineSpec {
  powerState?: PowerState;
  /** The latest Resource Health annotation, e.g. VirtualMachinePreempted or VirtualMachineDeallocationInitiated. */
  annotation?: 'VirtualMachinePreempted' | 'VirtualMachineDeallocationInitiated';
  /** Minutes before the emulator starts that the VM's last operation ended (default 0); its annotation began a minute before. */
  sinceMinutes?: number;
  vmId?: string;
  /** The guest agent after a start: Ready some seconds after running (default), or never (it stays Not Ready). */
  guestAgent?: GuestAgentSpec;
  /** The Application Health extension, if the VM has one (then its instance view carries vmHealth). */
  applicationHealth?: AppHealthSpec;
}

export type GuestAgentSpec = 'ready' | 'never';

/**
 * Microsoft Learn, "Using Application Health extension with Azure Virtual Machines": Binary Health
 * States (extension 1.0: Healthy, Unhealthy; no Initializing) or Rich (2.0: Initializing first, then
 * Healthy, Unhealthy or Unknown).
 */
export interface AppHealthSpec {
  states?: 'binary' | 'rich';
  /** The state the application settles in after each start (default healthy). */
  settlesTo?: 'healthy' | 'unhealthy' | 'unknown';
}

export interface AppSpec {
  clientId: string;
  /** Client secret, if the app may sign in with one. */
  secret?: string;
  /** GitHub OIDC subjects this app trusts (issuer: the emulated GitHub; audience api://AzureADTokenExchange). */
  federatedSubjects?: string[];
  /** Role actions, as in a role definition; default: the shipped least-privilege role. */
  actions?: string[];
  /**
   * Where that role is assigned: subscription IDs, or scopes such as
   * `/subscriptions/{id}/resourceGroups/{name}`; default: every subscription.
   */
  scopes?: string[];
  /**
   * Role assignments, each with its own role, for set-ups with different roles at different
   * scopes. With `assignments` alone the app holds exactly these.
   */
  assignments?: { scope: string; actions: string[]; notActions?: string[] }[];
}

export interface PoolSpec {
  location: string;
  vmSize: string;
  zone?: string;
  /** How many more VMs of this size can be allocated here. */
  capacity: number;
}

export interface FleetSpec {
  tenantId?: string;
  subscriptions: string[];
  /** Resource Graph's tenant-scope subscription limit (default 10 000, as documented); lower it to see the cut. */
  tenantSubscriptionLimit?: number;
  apps?: AppSpec[];
  /** Spot capacity per region, size and zone; absent pools have plenty. */
  pools?: PoolSpec[];
  /** Current Spot price (USD/hour) per `location/vmSize`; default 0.02. */
  prices?: Record<string, number>;
  /** Sizes offered in no region (start fails with SkuNotAvailable). */
  unavailableSizes?: string[];
  /** Sizes the subscription may not use in a region or some of its zones (Resource SKUs restrictions). */
  restrictedSizes?: SizeRestriction[];
  /** Sizes offered, but not for Spot (Resource SKUs capability LowPriorityCapable False). */
  spotIncapableSizes?: string[];
  /**
   * Total Regional Spot vCPUs per location (e.g. `eastus`): one pool for every family, VMs and scale
   * sets, deallocated Spot VMs included; absent: no limit.
   */
  quotas?: Record<string, number>;
  /** Spot eviction rate band per `location/vmSize` as SpotResources shows it (default `0-5`). */
  evictionRates?: Record<string, string>;
  vms: VmSpec[];
  /** Virtual machine scale sets: each instance is a Spot VM of the model, of kind vmss-flex or vmss-uniform. */
  scaleSets?: ScaleSetSpec[];
  github?: GitHubSpec;
}

/** One instance of a scale set: the same meaning as in `VmSpec`. */
export interface InstanceSpec {
  powerState?: PowerState;
  /** The instance's own tags (Uniform instances usually have none: tags live on the scale set). */
  tags?: Record<string, string>;
  annotation?: VmSpec['annotation'];
  sinceMinutes?: number;
  zone?: string;
  guestAgent?: GuestAgentSpec;
  /** This instance's application settles differently from the scale set's (see ScaleSetSpec). */
  applicationHealth?: AppHealthSpec;
}

export interface ScaleSetSpec extends MachineSpec {
  /**
   * Uniform: instances live in Resource Graph's ComputeResources and start through the scale set;
   * Flexible: each instance is an ordinary VM (Microsoft Learn, "Orchestration modes for Virtual
   * Machine Scale Sets").
   */
  orchestration: 'Uniform' | 'Flexible';
  /** Try & restore (`spotRestorePolicy.enabled`): the platform restores evicted instances by itself. */
  spotRestore?: boolean;
  /** The Application Health extension in the scale set's model: every instance reports vmHealth. */
  applicationHealth?: AppHealthSpec;
  /** `spotRestorePolicy.restoreTimeout`, an ISO 8601 duration (default PT1H, the emulator's timing). */
  restoreTimeout?: string;
  /**
   * An enabled autoscale setting (`microsoft.insights/autoscalesettings`) targets this scale set:
   * "Try & restore is disabled in scale sets that use Autoscale".
   */
  autoscale?: boolean;
  /**
   * Resource Graph's ComputeResources gives this scale set's instance IDs in lower case, as Azure
   * returns IDs in differing case from one API to another (Azure/azure-cli#7262).
   */
  lowerCaseInstanceIds?: boolean;
  /** How many running instances, or each instance's own spec. */
  instances: number | InstanceSpec[];
}

export interface GitHubSpec {
  repository: string;
  defaultBranch?: string;
  /**
   * Tokens the dispatches endpoint accepts, and which repositories each may write to. Tokens of one
   * `user` share that user's secondary rate limits (default: each token is its own user). Each has
   * Contents: write (what a dispatch needs) and `permissions` besides, as a fine-grained token.
   */
  tokens?: { token: string; repositories: string[]; user?: string; permissions?: Record<string, string> }[];
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** GitHub Apps: an installation token is issued for a JWT signed with the app's key. */
  apps?: {
    appId: string;
    installationId: string;
    publicKeyPem: string;
    repositories: string[];
    /** The installation's repository permissions beyond Contents: write (e.g. `actions: read`). */
    permissions?: Record<string, string>;
  }[];
}

export const DEFAULT_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const DEFAULT_APP = '0b1c2d3e-0000-4000-8000-000000000001';
export const DEFAULT_PRICE = 0.02;

export function vmIdOf(spec: VmSpec): string {
  return spec.vmId ?? randomUUID();
}
