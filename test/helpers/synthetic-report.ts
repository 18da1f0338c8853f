/**
 * The report of a sweep at any fleet size without running one: the shape of the 10 000-VM sweep in
 * test/e2e/large-fleet.test.ts (3 in 10 VMs evicted, most of them on a size no region offers), with
 * a few VMs of every other problem, over 10 subscriptions and two regions. Times are fixed, so the
 * same size always gives the same report.
 */
import type { VmResult } from '../../src/report/outcomes.js';
import { shouldFail } from '../../src/report/report.js';
import type { RunReport } from '../../src/report/run-report.js';
import { subscriptionIds } from '../emulator/fleets/sample-fleet.js';

const BEGAN = Date.parse('2026-03-02T10:00:00Z');
const SUBSCRIPTIONS = subscriptionIds(10);

const SKU_NOT_AVAILABLE = (name: string, sub: string, location: string) =>
  `The requested VM size 'Standard_D4s_v5' for resource '${name}' is currently not available in location '${location}' for subscription '${sub}'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details.`;
const QUOTA = (location: string) =>
  `Operation could not be completed as it results in exceeding approved Low Priority Cores quota. Additional details - Deployment Model: Resource Manager, Location: ${location}, Current Limit: 100, Current Usage: 96, Additional Required: 8, (Minimum) New Limit Required: 104. Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/%7B%22SubscriptionId%22:%22${SUBSCRIPTIONS[0]}%22,%22Command%22:%22openQuotaApprovalBlade%22%7D.`;

const iso = (ms: number) => new Date(ms).toISOString();

export function syntheticReport(vms: number): RunReport {
  const results: VmResult[] = [];
  for (let i = 0; i < vms; i++) {
    const r = (i * 7919) % 100;
    if (r >= 33) continue; // running, or not opted in: not in the report
    const name = `vm-${String(i).padStart(6, '0')}`;
    const subscriptionId = SUBSCRIPTIONS[i % SUBSCRIPTIONS.length]!;
    const location = i % 2 ? 'eastus' : 'westeurope';
    const resourceGroup = `rg-${i % 7}`;
    const base = {
      id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`,
      kind: 'vm' as const,
      name,
      resourceGroup,
      subscriptionId,
      vmSize: 'Standard_D4s_v5',
      location,
      source: 'sweep' as const,
      durationMs: 1200 + (i % 50) * 37
    };
    const evictedAt = BEGAN - 10 * 60_000 + (i % 300) * 1000;
    if (r >= 30) {
      results.push({
        ...base,
        outcome: 'user-stopped',
        attempts: 0,
        detail: `deallocated by a person or script: VirtualMachineDeallocationInitiated at ${iso(evictedAt)}, by a user or script`
      });
      continue;
    }
    const kind = (i * 104_729) % 1000;
    if (kind < 950) {
      results.push({
        ...base,
        outcome: 'capacity-unavailable',
        attempts: 1,
        errorCode: 'SkuNotAvailable',
        evictedAt: iso(evictedAt),
        deallocatedAt: iso(evictedAt + 30_000),
        detail: SKU_NOT_AVAILABLE(name, subscriptionId, location)
      });
    } else if (kind < 960) {
      results.push({
        ...base,
        vmSize: 'Standard_D8s_v5',
        outcome: 'quota-exceeded',
        attempts: 1,
        errorCode: 'OperationNotAllowed',
        evictedAt: iso(evictedAt),
        detail: QUOTA(location)
      });
    } else if (kind < 965) {
      results.push({
        ...base,
        outcome: 'awaiting-evidence',
        attempts: 0,
        deallocatedAt: iso(BEGAN - 2 * 60_000),
        detail:
          'deallocated 2 min ago; Azure has not said why yet (no Resource Health annotation): a later run decides'
      });
    } else {
      const accepted = BEGAN + 20_000 + (i % 60) * 500;
      results.push({
        ...base,
        outcome: 'started',
        attempts: 1 + (i % 3 === 0 ? 1 : 0),
        evictedAt: iso(evictedAt),
        deallocatedAt: iso(evictedAt + 30_000),
        startAcceptedAt: iso(accepted),
        runningAt: iso(accepted + 40_000),
        detail: 'started'
      });
    }
  }
  const report: RunReport = {
    event: 'schedule',
    dryRun: false,
    results,
    payloadErrors: [],
    permissionGaps: [],
    discovery: {
      requests: Math.ceil(vms / 1000) + 2,
      pages: Math.ceil(vms / 1000),
      quotaWaits: 0,
      candidates: results.length
    },
    durationMs: 3 * 60_000 + 21_400,
    startedAt: iso(BEGAN),
    evidenceBoundMs: 15 * 60_000,
    failOn: 'error'
  };
  report.failure = shouldFail(report, 'error');
  return report;
}
