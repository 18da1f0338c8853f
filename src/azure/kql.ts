/**
 * Text that reaches a Resource Graph query goes through here: every value is a KQL string
 * literal, never spliced raw. Inputs are validated before (resource-id.ts), this is the second wall.
 */
export function kqlString(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(value)) throw new Error('a KQL string literal may not hold control characters');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function kqlList(values: string[]): string {
  return `(${values.map(kqlString).join(', ')})`;
}
