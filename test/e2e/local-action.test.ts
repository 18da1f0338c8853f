/**
 * A local run with GitHub's own debugger, as the README tells a developer to do it:
 * `npm run emulator -- --fleet test/emulator/fleets/fleet.example.yml --write-env <file>`, then
 * `npm run local-action`, which runs src/main.ts under @github/local-action (its own
 * @actions/core in place of ours) against the emulator. A real sweep: the evicted VM is started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { parse } from 'dotenv';

const ROOT = new URL('../../', import.meta.url).pathname;

function getJson(url: string, ca: string): Promise<unknown> {
  return new Promise((done, fail) => {
    request(url, { ca }, res => {
      let body = '';
      res.on('data', c => (body += c));
      res.on('end', () => done(JSON.parse(body)));
    })
      .on('error', fail)
      .end();
  });
}

describe('npm run emulator -- --write-env, then npm run local-action', () => {
  let emulator: ChildProcess | undefined;
  afterAll(() => {
    if (emulator?.pid) process.kill(-emulator.pid, 'SIGTERM');
  });

  test('sweeps the emulated fleet: worker-1 started, dev-box left alone, the summary written', async () => {
    const envFile = join(mkdtempSync(join(tmpdir(), 'local-action-')), 'emulator.env');
    emulator = spawn(
      'npm',
      [
        'run',
        'emulator',
        '--',
        '--fleet',
        'test/emulator/fleets/fleet.example.yml',
        '--time-scale',
        '50',
        '--write-env',
        envFile
      ],
      { cwd: ROOT, detached: true, stdio: 'ignore', env: { ...process.env } }
    );
    for (let i = 0; i < 600 && !existsSync(envFile); i++) await new Promise(r => setTimeout(r, 100));
    const env = parse(readFileSync(envFile, 'utf8'));
    expect(env).toMatchObject({
      'INPUT_CLIENT-ID': expect.any(String),
      'INPUT_TENANT-ID': expect.any(String),
      'INPUT_CLIENT-SECRET': 'emulated-secret',
      INPUT_SUBSCRIPTIONS: '00000001-5107-4e5f-9d3a-000000000001',
      'INPUT_RESOURCE-MANAGER-ENDPOINT': env.EMULATOR_URL,
      NODE_EXTRA_CA_CERTS: expect.stringMatching(/ca\.pem$/)
    });

    const run = spawnSync('npm', ['run', 'local-action'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 150_000,
      env: { ...process.env, ENV_FILE: envFile }
    });
    const log = `${run.stdout}\n${run.stderr}`;
    expect({ status: run.status, log }).toEqual({
      status: 0,
      log: expect.stringContaining('Running Action')
    });
    expect(log).toContain('worker-1 (rg-batch): started');
    expect(log).toContain('dev-box (rg-batch): user-stopped');
    // local-action prints the outputs instead of writing GITHUB_OUTPUT.
    expect(log).toMatch(/::set-output name=started::\[".*\/virtualMachines\/worker-1"\]/);

    const state = (await getJson(
      `${env.EMULATOR_URL}/_emulator/state`,
      readFileSync(env.NODE_EXTRA_CA_CERTS!, 'utf8')
    )) as {
      vms: { name: string; powerState: string; startsAccepted: number }[];
    };
    const byName = Object.fromEntries(state.vms.map(v => [v.name, v]));
    expect(byName['worker-1']).toMatchObject({ startsAccepted: 1 });
    expect(byName['dev-box']).toMatchObject({ powerState: 'deallocated', startsAccepted: 0 });
    expect(readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8')).toContain('1 started');
  }, 240_000);
});
