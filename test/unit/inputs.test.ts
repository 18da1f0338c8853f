import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { Inputs, readSettings } from '../../src/plan/inputs.js';
import { Outputs } from '../../src/report/report.js';
import { captureStdout } from '../helpers/capture-stdout.js';

const inputs = (values: Record<string, string>) => (name: string) => values[name] ?? '';
const SUB = '11111111-2222-3333-4444-555555555555';

describe('readSettings', () => {
  test('defaults', () => {
    const s = readSettings(inputs({}));
    expect(s).toMatchObject({
      audience: 'api://AzureADTokenExchange',
      environment: 'azurecloud',
      cloud: {
        resourceManager: 'https://management.azure.com',
        authorityHost: 'https://login.microsoftonline.com'
      },
      customAuthority: false,
      subscriptions: [],
      tag: { name: 'AttemptRestartAfterEviction', value: 'true' },
      maxConcurrency: 100,
      waitForDeallocationMs: 300_000,
      retryForMs: undefined,
      skipUserStopped: true,
      sweepOnDispatch: true,
      dryRun: false,
      failOn: 'error'
    });
  });

  test('reads lists, durations, booleans and clouds', () => {
    const s = readSettings(
      inputs({
        'client-id': '0b1c2d3e-0000-4000-8000-000000000001',
        'tenant-id': 'contoso.onmicrosoft.com',
        subscriptions: `${SUB.toUpperCase()},\n 22222222-2222-3333-4444-555555555555 `,
        'resource-groups': 'rg-a\nrg_(b).c',
        tag: 'Restart = Yes',
        vms: `rg-a/vm1, /subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines/vm2`,
        'retry-for': '1h30m',
        'wait-for-deallocation': '90',
        'dry-run': 'TRUE',
        environment: 'AzureUSGovernment',
        'fail-on': 'capacity'
      })
    );
    expect(s.subscriptions).toEqual([SUB, '22222222-2222-3333-4444-555555555555']);
    expect(s.resourceGroups).toEqual(['rg-a', 'rg_(b).c']);
    expect(s.tag).toEqual({ name: 'Restart', value: 'Yes' });
    expect(s.vms).toEqual([
      { kind: 'name', resourceGroup: 'rg-a', name: 'vm1' },
      { kind: 'id', ref: { subscriptionId: SUB, resourceGroup: 'rg-a', name: 'vm2' } }
    ]);
    expect(s.retryForMs).toBe(5_400_000);
    expect(s.waitForDeallocationMs).toBe(90_000);
    expect(s.dryRun).toBe(true);
    expect(s.cloud.resourceManager).toBe('https://management.usgovcloudapi.net');
    expect(s.failOn).toBe('capacity');
  });

  test('environment azurechinacloud: a warning up front that Spot VMs are not offered in Azure operated by 21Vianet', () => {
    const { written, release } = captureStdout();
    try {
      expect(readSettings(inputs({ environment: 'AzureChinaCloud' })).environment).toBe('azurechinacloud');
      readSettings(inputs({}));
    } finally {
      release();
    }
    const warnings = written.filter(l => l.startsWith('::warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('not offered in Azure operated by 21Vianet');
  });

  test.each([
    [{ subscriptions: 'prod' }, 'Input \'subscriptions\' has "prod"; expected subscription IDs (GUIDs)'],
    [{ tag: 'NoValue' }, 'Input \'tag\' is "NoValue"; expected Name=Value'],
    [{ tag: 'a/b=c' }, 'Input \'tag\' has the name "a/b"'],
    [
      { vms: 'just-a-name' },
      'Input \'vms\' has "just-a-name"; expected a VM or scale-set instance resource ID'
    ],
    [
      { vms: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm' },
      "Input 'vms' has"
    ],
    [
      { environment: 'azuregermancloud' },
      'Input \'environment\' is "azuregermancloud"; expected one of azurecloud, azureusgovernment, azurechinacloud'
    ],
    [{ 'retry-for': '10 minutes' }, 'Input \'retry-for\' is "10 minutes"; expected a duration'],
    [{ 'wait-for-deallocation': '-5s' }, 'Input \'wait-for-deallocation\' is "-5s"'],
    [{ 'retry-interval': '7h' }, 'Input \'retry-interval\' is "7h"'],
    [
      { 'max-concurrency': '1000' },
      'Input \'max-concurrency\' is "1000"; expected a whole number from 1 to 500'
    ],
    [{ 'dry-run': 'maybe' }, 'Input \'dry-run\' is "maybe"; expected true or false'],
    [{ 'fail-on': 'always' }, 'Input \'fail-on\' is "always"; expected one of error, capacity, never'],
    [{ 'client-id': 'app' }, 'Input \'client-id\' is "app"; expected a GUID'],
    [
      { 'client-id': '0b1c2d3e-0000-4000-8000-000000000001' },
      "Input 'tenant-id' is required when client-id is set"
    ],
    [
      { 'resource-manager-endpoint': 'http://management.azure.com' },
      'Input \'resource-manager-endpoint\' is "http://management.azure.com"; expected an https:// URL'
    ],
    [{ 'resource-groups': 'bad group' }, 'Input \'resource-groups\' has "bad group"']
  ])('%j is refused with a message naming the input', (values, message) => {
    expect(() => readSettings(inputs(values as Record<string, string>))).toThrow(message);
  });
});

describe('action.yml', () => {
  const action = parse(readFileSync('action.yml', 'utf8'));
  test('declares exactly the inputs the code reads, each with a description', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort());
    for (const [name, input] of Object.entries<{ description: string }>(action.inputs)) {
      expect(`${name}: ${input.description ?? ''}`.length).toBeGreaterThan(name.length + 20);
    }
  });
  test('declares exactly the outputs the code writes', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort());
  });
  test('runs on node24 from the bundle', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });
});

describe('generated docs', () => {
  test('the README tables come from action.yml and the agent options table from its options (run `npm run docs`)', async () => {
    const { regenerate } = await import('../../scripts/docs.js');
    const files = {
      readme: readFileSync('README.md', 'utf8'),
      actionYml: readFileSync('action.yml', 'utf8'),
      agentReadme: readFileSync('agent/README.md', 'utf8')
    };
    const out = regenerate(files);
    // Prettier may pad the tables; compare without the padding.
    const squash = (s: string) => s.replace(/ +/g, ' ').replace(/-+/g, '-');
    expect(squash(files.readme)).toBe(squash(out.readme));
    expect(squash(files.agentReadme)).toBe(squash(out.agentReadme));
  });
});

describe('docs/spot-restarter-role.json', () => {
  test('grants exactly the actions the action needs (src/azure/permissions.ts), nothing more', async () => {
    const { REQUIRED_ACTIONS } = await import('../../src/azure/permissions.js');
    const role = JSON.parse(readFileSync('docs/spot-restarter-role.json', 'utf8'));
    expect([...role.Actions].sort()).toEqual(Object.keys(REQUIRED_ACTIONS).sort());
    expect(role.DataActions).toEqual([]);
  });

  test('wildcards and NotActions are honoured when reading effective permissions', async () => {
    const { permits } = await import('../../src/azure/permissions.js');
    expect(permits([{ actions: ['*'] }], 'Microsoft.Compute/virtualMachines/start/action')).toBe(true);
    expect(
      permits([{ actions: ['Microsoft.Compute/*/read'] }], 'Microsoft.Compute/virtualMachines/read')
    ).toBe(true);
    expect(
      permits(
        [
          { actions: ['Microsoft.Compute/*'], notActions: ['Microsoft.Compute/virtualMachines/start/action'] }
        ],
        'Microsoft.Compute/virtualMachines/start/action'
      )
    ).toBe(false);
    expect(
      permits(
        [{ actions: ['Microsoft.Compute/virtualMachines/read'] }],
        'Microsoft.Compute/virtualMachines/start/action'
      )
    ).toBe(false);
  });
});

describe('docs/spot-restarter-fallback-role.json', () => {
  test('holds exactly the actions the opt-in features need, and the base role stays read + start', async () => {
    const { FEATURE_ACTIONS } = await import('../../src/act/feature-permissions.js');
    const role = JSON.parse(readFileSync('docs/spot-restarter-fallback-role.json', 'utf8'));
    const needed = new Set(Object.values(FEATURE_ACTIONS).flatMap(a => Object.keys(a)));
    expect([...role.Actions].sort()).toEqual([...needed].sort());
    const base = JSON.parse(readFileSync('docs/spot-restarter-role.json', 'utf8'));
    expect(base.Actions).not.toContain('Microsoft.Compute/virtualMachines/write');
  });
});

describe('fallback, revert and price inputs', () => {
  const read = async (values: Record<string, string>) => {
    const { readSettings } = await import('../../src/plan/inputs.js');
    return readSettings(name => values[name] ?? '');
  };

  test('defaults: restart mode, no fleet-wide list, the owner order, no price raise', async () => {
    expect(await read({})).toMatchObject({
      mode: 'restart',
      fallbackSizes: {},
      fallbackOrder: 'listed',
      raiseMaxPrice: { kind: 'no' }
    });
  });

  test('a fleet-wide list per preferred size, a cap, revert mode', async () => {
    expect(
      await read({
        'fallback-sizes':
          'Standard_D4s_v5=Standard_D4as_v5, Standard_D4s_v4\nStandard_E2s_v5=Standard_E2as_v5',
        'raise-max-price': '0.05',
        mode: 'Revert',
        'fallback-order': 'eviction-rate'
      })
    ).toMatchObject({
      mode: 'revert',
      fallbackOrder: 'eviction-rate',
      fallbackSizes: {
        standard_d4s_v5: ['Standard_D4as_v5', 'Standard_D4s_v4'],
        standard_e2s_v5: ['Standard_E2as_v5']
      },
      raiseMaxPrice: { kind: 'cap', usd: 0.05 }
    });
    expect((await read({ 'raise-max-price': 'to-current' })).raiseMaxPrice).toEqual({ kind: 'to-current' });
  });

  test('verify-health: none unless asked; a check with its timeout', async () => {
    expect(await read({})).toMatchObject({ verifyHealth: 'none', healthTimeoutMs: 600_000 });
    expect(await read({ 'verify-health': 'Guest-Agent', 'health-timeout': '90s' })).toMatchObject({
      verifyHealth: 'guest-agent',
      healthTimeoutMs: 90_000
    });
  });

  test.each([
    [
      'fallback-sizes',
      'Standard_D4as_v5,Standard_D4s_v4',
      /Input 'fallback-sizes' has .*expected lines such as/
    ],
    ['fallback-sizes', 'Standard_D4s_v5=bad size', /Input 'fallback-sizes' has the size "bad size"/],
    ['fallback-sizes', 'A1=B1\na1=C1', /lists "a1" twice/],
    ['raise-max-price', 'yes', /Input 'raise-max-price' is "yes"; expected no, to-current, or a cap/],
    ['raise-max-price', '-1', /Input 'raise-max-price' is "-1"/],
    ['mode', 'fallback', /Input 'mode' is "fallback"; expected one of restart, revert/],
    [
      'fallback-order',
      'cheapest',
      /Input 'fallback-order' is "cheapest"; expected one of listed, eviction-rate/
    ],
    [
      'verify-health',
      'ping',
      /Input 'verify-health' is "ping"; expected one of none, guest-agent, application-health/
    ],
    ['health-timeout', 'soon', /Input 'health-timeout' is "soon"; expected a duration from 1.0 s to 6h/],
    ['health-timeout', '7h', /Input 'health-timeout' is "7h"/]
  ])('%s: %s is refused, naming the input', async (input, value, message) => {
    await expect(read({ [input]: value })).rejects.toThrow(message);
  });
});
