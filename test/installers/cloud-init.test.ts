/**
 * The cloud-init example, checked the way cloud-init checks user data: `cloud-init schema`
 * validates it against cloud-init's own published JSON schema of cloud-config (Debian's
 * cloud-init package, which brings the schema of its version).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from '@jest/globals';
import { debianTool } from './debian-tool.js';

const CLOUD_CONFIG = 'agent/install/cloud-init/cloud-config.yml';
const cloudInit = debianTool('cloud-init', 'cloud-init');
const shipped = readFileSync(CLOUD_CONFIG, 'utf8');

function schema(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'cloud-config-')), 'user-data.yml');
  writeFileSync(file, text);
  return cloudInit.run(['schema', '--config-file', file]);
}

describe('cloud-config.yml', () => {
  cloudInit.test("is valid cloud-config by cloud-init's schema", () => {
    const result = schema(shipped);
    // "Valid cloud-config: FILE" (cloud-init 22), "Valid schema FILE" (later versions).
    expect(result.stdout).toMatch(/^Valid (cloud-config|schema)/m);
    expect(result.stdout + result.stderr).not.toMatch(/deprecat/i);
    expect(result.status).toBe(0);
  });

  // Mistakes cloud-init would refuse (or, for the mode, silently misread) at first boot.
  for (const [mistake, from, to, said] of [
    [
      'a file mode YAML reads as a number',
      "permissions: '0600'",
      'permissions: 0600',
      "is not of type 'string'"
    ],
    [
      'packages given as one string',
      'packages:\n  - nodejs\n  - curl',
      'packages: nodejs curl',
      "is not of type 'array'"
    ],
    [
      'a write_files entry with a key cloud-init does not know',
      '    owner: root:root',
      '    owner: root:root\n    mode: 600',
      "'mode' was unexpected"
    ]
  ])
    cloudInit.test(`${mistake} is refused`, () => {
      expect(shipped).toContain(from);
      const result = schema(shipped.replace(from!, to!));
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain(said);
    });
});
