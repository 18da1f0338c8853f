/**
 * Tags – Update At Scope on a VM (Microsoft.Resources, Tags_UpdateAtScope): `PATCH
 * {vm}/providers/Microsoft.Resources/tags/default` with `{"operation": "Merge" | "Replace" |
 * "Delete", "properties": {"tags": {…}}}`. The spec's text: "The 'merge' option allows adding tags
 * with new names and updating the values of tags with existing names", "The specified entity can
 * have a maximum of 50 tags at the end of the operation"; its example PatchTagsResource.json
 * (specification/resources/resource-manager/Microsoft.Resources/stable/2024-03-01) answers 200 with
 * the tags or 202 with a `location` (`…/subscriptions/{id}/operationresults/{op}`). Here it always
 * answers 202, and the tags change only when the operation ends: a caller must follow it. Needs
 * `Microsoft.Resources/tags/write` ("Tag Contributor"), not the VM's write.
 */
import { randomUUID } from 'node:crypto';
import type { ArmOptions } from './arm.js';
import { admit, armError, methodNotAllowed, retryHeaders, throttled } from './arm.js';
import { azureErrors } from './azure-errors.js';
import { empty, json, type Request, type Response } from '../http.js';

export const TAGS_WRITE = 'Microsoft.Resources/tags/write';
const TAGS_PATH =
  /^(\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+))\/providers\/Microsoft\.Resources\/tags\/default$/i;
const RESULT_PATH = /^\/subscriptions\/([^/]+)\/operationresults\/([^/]+)$/i;
/** How long (emulated) a tag operation runs before its tags are in place. */
const TAG_OPERATION_MS = 2000;
const MAX_TAGS = 50;

interface TagOperation {
  vmKey: string;
  done: boolean;
}
const operations = new WeakMap<ArmOptions['model'], Map<string, TagOperation>>();

export function tagsKind(req: Request): 'tags' | 'tagsResult' | undefined {
  if (TAGS_PATH.test(req.path)) return 'tags';
  if (RESULT_PATH.test(req.path)) return 'tagsResult';
  return undefined;
}

export function handleTags(
  req: Request,
  kind: 'tags' | 'tagsResult',
  principal: string,
  o: ArmOptions
): Response {
  let ops = operations.get(o.model);
  if (!ops) operations.set(o.model, (ops = new Map()));
  if (kind === 'tagsResult') {
    const [, sub, opId] = RESULT_PATH.exec(req.path)!;
    const read = o.throttles.read(principal, sub!.toLowerCase());
    if (!read.ok) return throttled(read.retryAfterMs, o);
    const headers = read.headers;
    const op = ops.get(opId!);
    if (!op)
      return json(404, { error: { code: 'NotFound', message: `Operation ${opId} not found.` } }, headers);
    if (!op.done) return empty(202, { ...headers, Location: req.url.toString(), ...retryHeaders(1000, o) });
    const vm = o.model.vms.get(op.vmKey)!;
    return json(
      200,
      { id: `${vm.id}/providers/Microsoft.Resources/tags/default`, properties: { tags: vm.tags } },
      headers
    );
  }
  const [, scope, sub, rg, name] = TAGS_PATH.exec(req.path)!;
  if (req.method !== 'PATCH') return methodNotAllowed(req.method);
  const admitted = admit(o, principal, TAGS_WRITE, scope!, sub!.toLowerCase(), true);
  if ('refused' in admitted) return admitted.refused;
  const headers = admitted.headers;
  const vm = o.model.get(scope!);
  if (!vm) return armError(azureErrors.notFound(rg!, name!), headers);
  const invalid = (message: string) =>
    json(400, { error: { code: 'InvalidRequestContent', message } }, headers);
  let body: { operation?: unknown; properties?: { tags?: unknown } };
  try {
    body = req.json() as typeof body;
  } catch {
    return invalid('The request content was invalid and could not be deserialized.');
  }
  const operation = typeof body?.operation === 'string' ? body.operation.toLowerCase() : '';
  if (!['merge', 'replace', 'delete'].includes(operation))
    return invalid("The 'operation' must be one of 'Merge', 'Replace' or 'Delete'.");
  const given = body.properties?.tags;
  if (
    !given ||
    typeof given !== 'object' ||
    Array.isArray(given) ||
    Object.values(given).some(v => typeof v !== 'string')
  )
    return invalid("'properties.tags' must be an object of tag names and string values.");
  const tags = given as Record<string, string>;
  const named = (k: string) => Object.keys(tags).find(t => t.toLowerCase() === k.toLowerCase());
  // Tag names are case-insensitive: a merge updates the existing name's value.
  const next =
    operation === 'replace'
      ? { ...tags }
      : operation === 'merge'
        ? {
            ...Object.fromEntries(Object.entries(vm.tags).filter(([k]) => !named(k))),
            ...tags
          }
        : Object.fromEntries(
            Object.entries(vm.tags).filter(([k, v]) => {
              const t = named(k);
              return t === undefined || (tags[t] !== '' && tags[t] !== v);
            })
          );
  if (Object.keys(next).length > MAX_TAGS)
    return json(
      400,
      {
        error: {
          // The limit is the spec's; this code and message are not published (modelled).
          code: 'InvalidTagCount',
          message: `The resource would have ${Object.keys(next).length} tags; at most ${MAX_TAGS} are allowed.`
        }
      },
      headers
    );
  const id = randomUUID();
  const op: TagOperation = { vmKey: vm.key, done: false };
  ops.set(id, op);
  o.clock.after(TAG_OPERATION_MS, () => {
    // Merged into the tags as they are when the operation ends, not as they were when it began.
    const tagsNow =
      operation === 'merge'
        ? { ...Object.fromEntries(Object.entries(vm.tags).filter(([k]) => !named(k))), ...tags }
        : next;
    o.model.update(vm, { tags: tagsNow });
    op.done = true;
  });
  return empty(202, {
    ...headers,
    Location: `${o.base()}/subscriptions/${sub}/operationresults/${id}?api-version=${req.url.searchParams.get('api-version')}`,
    ...retryHeaders(1000, o)
  });
}
