/**
 * What a refused Resource Graph query says. Its top-level message is only "Please provide below
 * info when asking for support: timestamp = …, correlationId = …"; the reasons are in
 * `error.details[]` (`InvalidQuery` "Query is invalid…", then the specific code and message), as
 * the errors quoted in Microsoft's own issues show (e.g. MicrosoftDocs/azure-docs#45495). The SDK
 * puts only the top-level code and message in its RestError's message, so the details are read from the
 * deserialized body the SDK attaches (or the response text).
 */

interface ErrorTree {
  code?: unknown;
  message?: unknown;
  details?: unknown;
}

/** The codes and messages of `details[]`, then the correlation line for support. */
export function describeGraphError(error: unknown): string {
  const top = error instanceof Error ? error.message : String(error);
  const e = error as { details?: { error?: ErrorTree }; response?: { bodyAsText?: string | null } };
  // The Resource Graph SDK puts the deserialized body in `details`; others leave it as text.
  let tree: ErrorTree | undefined = e?.details?.error;
  if (!tree && e?.response?.bodyAsText) {
    try {
      tree = (JSON.parse(e.response.bodyAsText) as { error?: ErrorTree }).error;
    } catch {
      tree = undefined;
    }
  }
  const details = flatten(tree?.details);
  if (!details.length) return top;
  const status = (error as { statusCode?: number }).statusCode;
  const reasons = details.map(d => `${d.code}: ${d.message}`).join('; ');
  return `${status ? `${status} ` : ''}${String(tree?.code ?? 'error')} — ${reasons} (${String(tree?.message ?? top)})`;
}

function flatten(details: unknown): { code: string; message: string }[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((d: ErrorTree) => [
    ...(typeof d?.code === 'string' ? [{ code: d.code, message: String(d.message ?? '') }] : []),
    ...flatten(d?.details)
  ]);
}
