/**
 * The action's own record of what it did to a VM, kept in one tag on the VM so that any later run
 * reads it with the VM's row, at no extra read. It is merged into the VM's tags right after the
 * revert's deallocate (Tags – Update At Scope, Merge; act/resize.ts), one tag write that rewrites
 * no other tag.
 *
 * Why a record: Azure's annotations say only "as requested by an authorized user or process"
 * (Microsoft Learn, "Resource Health virtual machine Health Annotations"); nothing in them names
 * who. Without the record the action's own deallocation would read as a person's, and the VM
 * would never be started again. What someone who can write this tag can do with it:
 * docs/security.md.
 *
 * Value: up to three `<operation>@<ISO time of the request>` entries, newest last, each under
 * 14 days old (the annotation history it is matched against keeps 14 days).
 */
export const OWN_RECORD_TAG = 'SpotRestarterOwnOperations';

/** An operation the action itself made, from its own record. */
export interface OwnOperation {
  kind: 'deallocate';
  /** When the action sent the request (its own clock). */
  at: number;
}

const KEEP = 3;
const KEEP_MS = 14 * 24 * 3_600_000;

/** The operations the record on these tags lists (tag names are case-insensitive in Azure). */
export function ownOperations(tags: Record<string, string>): OwnOperation[] {
  const value = Object.entries(tags).find(([k]) => k.toLowerCase() === OWN_RECORD_TAG.toLowerCase())?.[1];
  if (typeof value !== 'string') return [];
  return value
    .split(/\s+/)
    .map(entry => /^(deallocate)@(.+)$/.exec(entry))
    .flatMap(m => {
      const at = m ? Date.parse(m[2]!) : NaN;
      return m && !Number.isNaN(at) ? [{ kind: m[1] as OwnOperation['kind'], at }] : [];
    });
}

/** These tags with `op` added to the record: the tags to send with the write that carries it. */
export function withOwnOperation(
  tags: Record<string, string>,
  op: OwnOperation,
  now: number
): Record<string, string> {
  const kept = ownOperations(tags).filter(o => o.at >= now - KEEP_MS);
  const entries = [...kept, op]
    .slice(-KEEP)
    .map(o => `${o.kind}@${new Date(o.at).toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
  const others = Object.fromEntries(
    Object.entries(tags).filter(([k]) => k.toLowerCase() !== OWN_RECORD_TAG.toLowerCase())
  );
  return { ...others, [OWN_RECORD_TAG]: entries.join(' ') };
}
