/**
 * Hostile input: generated payloads and input strings never crash the action, never pass
 * validation unless they are well formed, and text that reaches a Resource Graph query stays a
 * string literal whatever it holds (parsed back by Microsoft's Kusto parser).
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { InputError, readSettings } from '../../src/plan/inputs.js';
import { kqlString } from '../../src/azure/kql.js';
import { PAYLOAD_SCHEMA, validatePayload } from '../../src/plan/payload.js';
import { parseVmResourceId } from '../../src/azure/resource-id.js';
import { runQuery } from '../emulator/azure/kql.js';

const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    "' or 1==1 //",
    '../../etc/passwd',
    '"; drop',
    "\\' | take 1",
    '${{ secrets.X }}',
    '\u0000',
    '\u202e',
    'x'.repeat(2000),
    '%00',
    '\\u0027'
  )
);
const json = fc.jsonValue({ maxDepth: 5 });
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;

describe('dispatch payloads', () => {
  test('10 000 generated payloads: no crash; only well-formed ones pass, and every error names a field', () => {
    const fieldish = fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          'schema',
          'vmResourceId',
          'vmId',
          'eventId',
          'eventType',
          'notBefore',
          'detectedAt',
          'evictionPolicy',
          'agentVersion'
        ),
        fc.string()
      ),
      fc.oneof(json, nasty),
      { maxKeys: 14 }
    );
    fc.assert(
      fc.property(fc.oneof(fieldish, json), payload => {
        const result = validatePayload(payload);
        if (result.ok) {
          expect(result.payload.schema).toBe(PAYLOAD_SCHEMA);
          expect(parseVmResourceId(result.payload.vmResourceId)).toBeDefined();
          expect(Object.keys(result.payload).length).toBeLessThanOrEqual(10);
        } else {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) expect(e).toMatch(/^client_payload/);
          // Untrusted text is quoted and escaped, so an error stays one line.
          for (const e of result.errors) expect(e).not.toMatch(CONTROL);
        }
      }),
      { numRuns: 10_000 }
    );
  });
});

describe('inputs', () => {
  test('any text in any input: settings, or an InputError naming that input on one line', () => {
    const names = [
      'subscriptions',
      'resource-groups',
      'tag',
      'vms',
      'max-concurrency',
      'retry-for',
      'environment',
      'fail-on',
      'dry-run',
      'client-id',
      'authority-host'
    ];
    fc.assert(
      fc.property(fc.constantFrom(...names), nasty, (name, value) => {
        try {
          readSettings(n => (n === name ? value : ''));
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          expect((error as InputError).input).toBe(name);
          expect((error as Error).message).not.toMatch(/[\n\r]/);
        }
      }),
      { numRuns: 3000 }
    );
  });
});

describe('KQL string literals', () => {
  test('whatever a value holds, it reaches the query as one literal with the same text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }).filter(s => !CONTROL.test(s)),
        value => {
          const query = `resources | where name == ${kqlString(value)} | project id, name`;
          const rows = runQuery(query, {
            resources: [
              { id: '1', name: value },
              { id: '2', name: `${value}x` }
            ]
          }).rows;
          expect(rows).toEqual([{ id: '1', name: value }]);
        }
      ),
      { numRuns: 300 }
    );
  });
});
