/**
 * The release: scripts/release-assets.sh gathers what .github/workflows/release.yml uploads; the
 * files the cloud-init example downloads and the installers look for beside themselves are all
 * among them; SHA256SUMS covers every asset; and the cloud-init download script, run against a
 * local copy of the release, installs nothing when a file does not match its checksum.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url).pathname;
const TAG = 'v9.8.7';

type Step = { name?: string; run?: string; uses?: string };
const release = parse(readFileSync(join(ROOT, '.github/workflows/release.yml'), 'utf8')) as {
  on: { push: { tags: string[] } };
  jobs: Record<string, { needs?: string; permissions?: Record<string, string>; steps: Step[] }>;
};
const cloudConfig = parse(readFileSync(join(ROOT, 'agent/install/cloud-init/cloud-config.yml'), 'utf8')) as {
  write_files: { path: string; content: string }[];
  runcmd: string[][];
};
const downloadScript = cloudConfig.write_files.find(f => f.path.endsWith('install-agent.sh'))!.content;
const downloaded = /^files='([^']+)'$/m.exec(downloadScript)![1]!.split(' ');

function sh(command: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return spawnSync(command[0]!, command.slice(1), {
    encoding: 'utf8',
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env }
  });
}

describe('release assets', () => {
  let assets: string;
  beforeAll(() => {
    assets = join(mkdtempSync(join(tmpdir(), 'release-')), 'assets');
    const gathered = sh(['bash', 'scripts/release-assets.sh', TAG, assets]);
    expect(gathered.stderr).toBe('');
    expect(gathered.status).toBe(0);
  });

  test('release.yml uploads exactly the folder release-assets.sh fills, after the verify job', () => {
    const steps = release.jobs.release!.steps;
    const gather = steps.find(s => s.run?.includes('scripts/release-assets.sh'))!;
    const folder = /release-assets\.sh "\$TAG" "([^"]+)"/.exec(gather.run!)![1]!;
    const upload = steps.find(s => s.run?.includes('gh release create'))!;
    // Quotes aside, the upload names the same folder.
    expect(upload.run!.replace(/"/g, '')).toContain(`$TAG ${folder}/*`);
    expect(steps.indexOf(gather)).toBeLessThan(steps.indexOf(upload));
    expect(release.jobs.release!.needs).toBe('verify');
    expect(release.jobs.release!.permissions).toEqual({ contents: 'write' });
    expect(release.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    const verify = release.jobs.verify!.steps.map(s => s.run ?? '');
    for (const check of ['npm run check:dist', 'npm test', 'scripts/release-notes.sh'])
      expect(verify.some(r => r.includes(check))).toBe(true);
  });

  test('holds the agent, both installers, the unit, the task, cloud-init and SHA256SUMS', () => {
    expect(readdirSync(assets).sort()).toEqual(
      [
        'SHA256SUMS',
        'azure-spot-restarter-agent.cjs',
        'azure-spot-restarter-agent.service',
        'azure-spot-restarter-agent.task.xml',
        'cloud-config.yml',
        'install.ps1',
        'install.sh'
      ].sort()
    );
  });

  test('SHA256SUMS covers every other asset, and each checksum is right', () => {
    const sums = readFileSync(join(assets, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.map(l => l.split('  ')[1]).sort()).toEqual(
      readdirSync(assets)
        .filter(f => f !== 'SHA256SUMS')
        .sort()
    );
    const check = sh(['sha256sum', '--check', '--strict', 'SHA256SUMS'], { cwd: assets });
    expect(check.status).toBe(0);
    expect(check.stdout.trim().split('\n')).toHaveLength(sums.length);
  });

  test('what cloud-init downloads and what the installers look for beside themselves are assets', () => {
    for (const file of downloaded) expect(readdirSync(assets)).toContain(file);
    // install.sh installs the unit from its own folder and, from a release, the bundle beside it.
    const installSh = readFileSync(join(assets, 'install.sh'), 'utf8');
    for (const file of ['azure-spot-restarter-agent.service', 'azure-spot-restarter-agent.cjs']) {
      expect(installSh).toContain(`$here/${file}`);
      expect(downloaded).toContain(file);
    }
    // install.ps1 takes the bundle and the task definition from beside itself.
    const installPs1 = readFileSync(join(assets, 'install.ps1'), 'utf8');
    for (const file of ['azure-spot-restarter-agent.cjs', 'azure-spot-restarter-agent.task.xml'])
      expect(installPs1).toContain(`Join-Path $PSScriptRoot '${file}'`);
    expect(cloudConfig.runcmd[0]).toEqual(['bash', '/root/spot-agent/install-agent.sh']);
  });

  test("the agent's README downloads and checks only release assets, the checksums first", () => {
    const readme = readFileSync(join(ROOT, 'agent/README.md'), 'utf8');
    const bash = /^for file in (.+); do$/m.exec(readme)![1]!.split(' ');
    const powershell = [...readme.matchAll(/^foreach \(\$file in (.+)\) \{/gm)].map(m =>
      m[1]!.split(', ').map(f => f.replace(/'/g, ''))
    );
    expect(bash[0]).toBe('SHA256SUMS');
    expect(powershell[0]![0]).toBe('SHA256SUMS');
    for (const file of [...bash, ...powershell.flat()]) expect(readdirSync(assets)).toContain(file);
    expect(readme).toContain('sha256sum --check --strict --ignore-missing SHA256SUMS');
    // Each file it then runs is one it checked.
    expect(powershell[1]).toEqual([
      'azure-spot-restarter-agent.cjs',
      'install.ps1',
      'azure-spot-restarter-agent.task.xml'
    ]);
  });

  test("the released cloud-config.yml downloads its own release's version", () => {
    const released = parse(readFileSync(join(assets, 'cloud-config.yml'), 'utf8')) as typeof cloudConfig;
    const script = released.write_files.find(f => f.path.endsWith('install-agent.sh'))!.content;
    expect(script).toMatch(new RegExp(`^version=${TAG}$`, 'm'));
  });

  describe("cloud-init's download script, against a local copy of the release", () => {
    // Everything up to the install itself (which needs root and systemd).
    const verifyPart = downloadScript.slice(0, downloadScript.indexOf('# Every file checked: install.'));

    function download(releaseDir: string) {
      const dir = mkdtempSync(join(tmpdir(), 'vm-'));
      const result = sh(['bash', '-c', verifyPart.replace(/^version=.*$/m, `version=${TAG}`)], {
        env: { SPOT_AGENT_RELEASES: `file://${releaseDir}`, SPOT_AGENT_DIR: dir }
      });
      return { ...result, dir };
    }

    function releaseCopy(): string {
      const root = mkdtempSync(join(tmpdir(), 'releases-'));
      const copy = sh(['cp', '-r', assets, join(root, TAG)]);
      expect(copy.status).toBe(0);
      return root;
    }

    test('downloads and checks every file it installs', () => {
      const result = download(releaseCopy());
      expect(result.status).toBe(0);
      for (const file of downloaded) {
        expect(result.stdout).toContain(`${file}: OK`);
        expect(readFileSync(join(result.dir, file))).toEqual(readFileSync(join(assets, file)));
      }
    });

    test('stops before installing when the agent was changed on its way', () => {
      const releases = releaseCopy();
      appendFileSync(
        join(releases, TAG, 'azure-spot-restarter-agent.cjs'),
        '\nrequire("child_process").exec("curl evil");\n'
      );
      const result = download(releases);
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('azure-spot-restarter-agent.cjs: FAILED');
    });

    test('stops when SHA256SUMS does not list a file', () => {
      const releases = releaseCopy();
      const sums = join(releases, TAG, 'SHA256SUMS');
      const kept = readFileSync(sums, 'utf8')
        .split('\n')
        .filter(l => !l.endsWith('  install.sh'))
        .join('\n');
      spawnSync('bash', ['-c', `printf '%s' "$0" > "$1"`, kept, sums]);
      const result = download(releases);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`SHA256SUMS of ${TAG} lists no install.sh`);
    });
  });

  test('from a release folder, install.sh finds the bundle beside it (refuses later, for credentials)', () => {
    if (process.getuid?.() !== 0) return; // install.sh first insists on root; CI runs as root
    const result = sh(['bash', join(assets, 'install.sh'), '--repository', 'acme/spot']);
    expect(result.stderr).not.toContain('agent bundle not found');
    expect(result.stderr).toContain('give GitHub credentials');
  });

  test("the release notes are the version's CHANGELOG section; a version without one is refused", () => {
    const notes = sh(['bash', 'scripts/release-notes.sh', '0.1.0']);
    expect(notes.status).toBe(0);
    expect(notes.stdout).toContain('### Added');
    expect(notes.stdout).not.toContain('## [');
    const missing = sh(['bash', 'scripts/release-notes.sh', '9.8.7']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("no notes under '## [9.8.7]'");
  });
});
