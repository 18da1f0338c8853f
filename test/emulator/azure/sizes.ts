/**
 * VM sizes as Compute describes them: the vCPUs and family a size name stands for, the sizes a
 * region offers, and what the subscription may not use there (Resource SKUs `restrictions`).
 *
 * Size names follow Microsoft Learn, "Azure virtual machine sizes naming conventions":
 * `Standard_<family letters><vCPUs><additive features>_v<version>`, e.g. Standard_D4as_v5 is 4 vCPUs
 * of the Dasv5 family, whose quota is counted as `standardDASv5Family`.
 */
export interface SizeInfo {
  name: string;
  vCPUs: number;
  memoryGB: number;
  /** The quota family, as `Microsoft.Compute/locations/usages` and Resource SKUs name it. */
  family: string;
  /**
   * The local temp disk in MB (Resource SKUs capability `MaxResourceVolumeMB`), 0 for none: the
   * naming conventions' "d" ("diskful: a local temp disk is present") on v4 and later; sizes before
   * v4 (and unversioned ones) have one.
   */
  tempDiskMB: number;
  /** An AMD size ("a" in the naming conventions' additive features): another hardware cluster than Intel's. */
  amd: boolean;
}

const NAME = /^Standard_([A-Z]+)(\d+)([a-z-]*)(?:_v(\d+))?$/;

/** The sizes every emulated region offers, besides those a fleet names. */
export const DEFAULT_SIZES = [
  'Standard_D2s_v5',
  'Standard_D4s_v5',
  'Standard_D8s_v5',
  'Standard_D2as_v5',
  'Standard_D4as_v5',
  'Standard_D2s_v4',
  'Standard_D4s_v4',
  'Standard_E2s_v5',
  'Standard_E4s_v5',
  'Standard_F2s_v2',
  'Standard_F4s_v2'
];

export function sizeInfo(name: string): SizeInfo | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [, letters, cores, features, version] = m;
  const vCPUs = Number(cores);
  const suffix = (features ?? '').replace(/-/g, '').toUpperCase();
  return {
    name,
    vCPUs,
    memoryGB: vCPUs * (letters!.startsWith('E') ? 8 : letters!.startsWith('F') ? 2 : 4),
    family: `standard${letters}${suffix}${version ? `v${version}` : ''}Family`,
    amd: (features ?? '').includes('a'),
    tempDiskMB: !version || Number(version) < 4 || (features ?? '').includes('d') ? vCPUs * 8192 : 0
  };
}

/** A size the subscription may not use in a region (or only in some of its zones). */
export interface SizeRestriction {
  location: string;
  vmSize: string;
  /** Only these zones are restricted; absent: the whole region. */
  zones?: string[];
}

export function isRestricted(
  restrictions: SizeRestriction[],
  location: string,
  vmSize: string,
  zone?: string
): boolean {
  return restrictions.some(
    r =>
      r.location.toLowerCase() === location.toLowerCase() &&
      r.vmSize.toLowerCase() === vmSize.toLowerCase() &&
      (!r.zones || (zone !== undefined && r.zones.includes(zone)))
  );
}
