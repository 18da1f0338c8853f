/** A response checked against the published schema of its operation, every mismatch listed. */
import { expect } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

const ajv = new Ajv({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(ajv);

/** What `value` breaks of `schema` (formats included); none when it conforms. */
export function schemaErrors(schema: object, value: unknown): unknown[] {
  const validate = ajv.compile(schema);
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

export function conforms(schema: object, body: unknown): void {
  expect(schemaErrors(schema, body)).toEqual([]);
}
