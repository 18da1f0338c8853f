/**
 * The bundle as the runner starts it: a malformed input fails the step with one line naming the
 * input, before any request (a local server stands where Azure would be, and counts).
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

let server: Server;
let requests = 0;
let url = '';

beforeAll(async () => {
  server = createServer((_, res) => (requests++, res.end('{}')));
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>(resolve => server.close(() => resolve())));

const SUB = '11111111-2222-3333-4444-555555555555';

describe('dist/index.js with a malformed input', () => {
  test.each([
    [
      'SUBSCRIPTIONS',
      'prod-subscription',
      '::error::Input \'subscriptions\' has "prod-subscription"; expected subscription IDs (GUIDs)'
    ],
    [
      'TAG',
      'AttemptRestartAfterEviction',
      '::error::Input \'tag\' is "AttemptRestartAfterEviction"; expected Name=Value'
    ],
    [
      'VMS',
      'vm-without-group',
      '::error::Input \'vms\' has "vm-without-group"; expected a VM or scale-set instance resource ID'
    ],
    [
      'ENVIRONMENT',
      'azurestack',
      '::error::Input \'environment\' is "azurestack"; expected one of azurecloud, azureusgovernment, azurechinacloud'
    ],
    ['RETRY-FOR', '10 minutes', '::error::Input \'retry-for\' is "10 minutes"; expected a duration'],
    ['WAIT-FOR-DEALLOCATION', '1d', '::error::Input \'wait-for-deallocation\' is "1d"; expected a duration']
  ])('INPUT_%s=%s exits 1 naming the input, with no request sent', (name, value, message) => {
    const result = spawnSync(process.execPath, ['dist/index.js'], {
      env: {
        PATH: process.env.PATH,
        GITHUB_EVENT_NAME: 'schedule',
        'INPUT_CLIENT-ID': '0b1c2d3e-0000-4000-8000-000000000001',
        'INPUT_TENANT-ID': '72f988bf-86f1-41af-91ab-2d7cd011db47',
        'INPUT_RESOURCE-MANAGER-ENDPOINT': url.replace('http:', 'https:'),
        'INPUT_AUTHORITY-HOST': url.replace('http:', 'https:'),
        INPUT_SUBSCRIPTIONS: SUB,
        ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/token?x=1`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
        [`INPUT_${name}`]: value
      },
      encoding: 'utf8',
      timeout: 20_000
    });
    expect(result.status).toBe(1);
    const errors = result.stdout.split('\n').filter(l => l.startsWith('::error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
    expect(requests).toBe(0);
  });
});
