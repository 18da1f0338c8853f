/**
 * The Windows scheduled task, checked the way Task Scheduler checks it when install.ps1 registers
 * it: its definition (agent/install/windows/azure-spot-restarter-agent.task.xml), filled with the
 * paths install.ps1 writes, is validated by xmllint against task-scheduler.xsd, written from
 * Microsoft's Task Scheduler schema pages. What the agent needs beyond the schema is asserted on
 * the same document with XPath.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { readPowerShell } from '../../scripts/installers/powershell.js';
import { debianTool } from './debian-tool.js';

const TEMPLATE = 'agent/install/windows/azure-spot-restarter-agent.task.xml';
const INSTALLER = 'agent/install/windows/install.ps1';
const SCHEMA = fileURLToPath(new URL('task-scheduler.xsd', import.meta.url));
const template = readFileSync(TEMPLATE, 'utf8');
const xmllint = debianTool('xmllint', 'libxml2-utils');

/** What install.ps1 puts in place of each placeholder on a VM with Node.js from its installer. */
const INSTALLED = {
  NODE: 'C:\\Program Files\\nodejs\\node.exe',
  ENV_FILE: 'C:\\ProgramData\\azure-spot-restarter-agent\\agent.env',
  BUNDLE: 'C:\\Program Files\\azure-spot-restarter-agent\\azure-spot-restarter-agent.cjs',
  DATA_DIR: 'C:\\ProgramData\\azure-spot-restarter-agent'
};

/** [System.Security.SecurityElement]::Escape, as install.ps1 escapes each value (its page's table). */
const escapeXml = (value: string) =>
  value.replace(
    /[<>"'&]/g,
    c => ({ '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '&': '&amp;' })[c]!
  );

function filled(values: Record<string, string> = INSTALLED): string {
  let xml = template;
  for (const [name, value] of Object.entries(values)) xml = xml.replaceAll(`{{${name}}}`, escapeXml(value));
  return xml;
}

function validate(xml: string) {
  return xmllint.run(['--noout', '--schema', SCHEMA, '-'], { input: xml });
}

/** The string value of an XPath over the task, with the namespace prefix t. */
function xpath(xml: string, path: string): string {
  const expression = path.replace(/t:(\w+)/g, "*[local-name()='$1']");
  const result = xmllint.run(['--xpath', `string(${expression})`, '-'], { input: xml });
  expect(result.stderr).toBe('');
  return result.stdout.replace(/\n$/, '');
}

describe('the scheduled task definition', () => {
  xmllint.test("passes Microsoft's Task Scheduler schema as shipped and as install.ps1 fills it", () => {
    for (const xml of [template, filled()]) {
      const result = validate(xml);
      expect(result.stderr).toContain('- validates');
      expect(result.status).toBe(0);
    }
  });

  xmllint.test('RestartOnFailure Count 9999 (what -RestartCount 9999 registered) fails the schema', () => {
    const result = validate(filled().replace('<Count>3</Count>', '<Count>9999</Count>'));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Element '\{[^}]+\}Count': '9999' is not a valid value/);
  });

  // Each mistake is one that Microsoft's pages rule out; the schema must refuse every one.
  const restartInterval = '<Interval>PT1M</Interval>\n      <Count>';
  const trigger =
    '<Enabled>true</Enabled>\n      <Repetition>\n        <Interval>PT1M</Interval>\n      </Repetition>';
  for (const [mistake, from, to] of [
    ['Count 0 (minInclusive 1)', '<Count>3</Count>', '<Count>0</Count>'],
    ['Count 256 (an unsignedByte ends at 255)', '<Count>3</Count>', '<Count>256</Count>'],
    ['a restart Interval under a minute', restartInterval, restartInterval.replace('PT1M', 'PT30S')],
    ['a restart Interval over 31 days', restartInterval, restartInterval.replace('PT1M', 'P32D')],
    ['a repetition Interval under a minute', '<Interval>PT1M</Interval>', '<Interval>PT10S</Interval>'],
    ['an ExecutionTimeLimit that is not a duration', '<ExecutionTimeLimit>PT0S<', '<ExecutionTimeLimit>0<'],
    ['Priority 11 (0 to 10)', '<Priority>4</Priority>', '<Priority>11</Priority>'],
    ['a RunLevel that is not one of its values', '>HighestAvailable<', '>Highest<'],
    ['version 1.2 (the schema fixes 1.3)', 'version="1.3"', 'version="1.2"'],
    ['Actions in the context of a principal that does not exist', 'Context="Author"', 'Context="Admin"'],
    [
      'Enabled after Repetition in a trigger (a sequence)',
      trigger,
      trigger.replace(/(<Enabled>.*?<\/Enabled>)(\s*)([\s\S]*)/, '$3$2$1')
    ],
    ['a Command longer than 260 characters (pathType)', INSTALLED.NODE, `C:\\${'n'.repeat(260)}\\node.exe`],
    [
      'an element not looked up on its page yet',
      '<Priority>4</Priority>',
      '<Priority>4</Priority><WakeToRun>true</WakeToRun>'
    ]
  ])
    xmllint.test(`${mistake} fails the schema`, () => {
      const xml = filled().replace(from!, to!);
      expect(xml).not.toBe(filled());
      const result = validate(xml);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('fails to validate');
    });

  xmllint.test(
    'a path with XML characters in it, escaped as install.ps1 escapes it, keeps the XML valid',
    () => {
      const node = `C:\\Tools & <Apps> "O'Brien"\\node.exe`;
      const xml = filled({ ...INSTALLED, NODE: node });
      expect(validate(xml).status).toBe(0);
      expect(xpath(xml, '/t:Task/t:Actions/t:Exec/t:Command')).toBe(node);
    }
  );

  xmllint.test(
    'runs as LocalSystem, elevated, at boot and at registration, again every minute, forever',
    () => {
      const xml = filled();
      expect(xpath(xml, '/t:Task/t:Principals/t:Principal/t:UserId')).toBe('S-1-5-18');
      expect(xpath(xml, '/t:Task/t:Principals/t:Principal/t:RunLevel')).toBe('HighestAvailable');
      expect(xpath(xml, '/t:Task/t:Actions/@Context')).toBe(
        xpath(xml, '/t:Task/t:Principals/t:Principal/@id')
      );
      for (const trigger of ['BootTrigger', 'RegistrationTrigger']) {
        expect(xpath(xml, `/t:Task/t:Triggers/t:${trigger}/t:Enabled`)).toBe('true');
        expect(xpath(xml, `/t:Task/t:Triggers/t:${trigger}/t:Repetition/t:Interval`)).toBe('PT1M');
        // No Duration: "the pattern is repeated indefinitely" (RepetitionPattern.Duration).
        expect(xpath(xml, `count(/t:Task/t:Triggers/t:${trigger}/t:Repetition/t:Duration)`)).toBe('0');
      }
      // A repetition while the agent runs must not start a second one.
      expect(xpath(xml, '/t:Task/t:Settings/t:MultipleInstancesPolicy')).toBe('IgnoreNew');
      expect(xpath(xml, '/t:Task/t:Settings/t:ExecutionTimeLimit')).toBe('PT0S');
      expect(xpath(xml, '/t:Task/t:Settings/t:DisallowStartIfOnBatteries')).toBe('false');
      expect(xpath(xml, '/t:Task/t:Settings/t:StopIfGoingOnBatteries')).toBe('false');
      expect(xpath(xml, '/t:Task/t:Settings/t:Enabled')).toBe('true');
    }
  );

  xmllint.test('starts node with the settings file and the bundle install.ps1 writes', () => {
    const xml = filled();
    expect(xpath(xml, '/t:Task/t:Actions/t:Exec/t:Command')).toBe(INSTALLED.NODE);
    expect(xpath(xml, '/t:Task/t:Actions/t:Exec/t:WorkingDirectory')).toBe(INSTALLED.DATA_DIR);
    const args = xpath(xml, '/t:Task/t:Actions/t:Exec/t:Arguments');
    expect(args.startsWith(`--env-file="${INSTALLED.ENV_FILE}" `)).toBe(true);
    expect(args.endsWith(` "${INSTALLED.BUNDLE}"`)).toBe(true);
  });

  test('is plain ASCII, so no code page can change it on its way to Task Scheduler', () => {
    expect([...template].filter(c => c > '~' || (c < ' ' && c !== '\n'))).toEqual([]);
  });
});

describe('install.ps1 and the task definition', () => {
  test('install.ps1 fills exactly the placeholders the definition has', async () => {
    const script = await readPowerShell(readFileSync(INSTALLER, 'utf8'));
    const placeholders = [...template.matchAll(/\{\{(\w+)\}\}/g)].map(m => m[1]);
    expect(script.hashtables.get('taskValues')?.sort()).toEqual([...new Set(placeholders)].sort());
    expect(Object.keys(INSTALLED).sort()).toEqual([...new Set(placeholders)].sort());
  });

  test('install.ps1 registers the definition from the file beside it, with -Xml, and builds no task of its own', async () => {
    const source = readFileSync(INSTALLER, 'utf8');
    const script = await readPowerShell(source);
    expect(source).toContain("$taskTemplate = Join-Path $PSScriptRoot 'azure-spot-restarter-agent.task.xml'");
    const register = script.commands.filter(c => c.name === 'Register-ScheduledTask');
    expect(register).toHaveLength(1);
    expect(register[0]!.parameters).toEqual(expect.arrayContaining(['TaskName', 'Xml']));
    const builders = script.commands.filter(c => /^New-ScheduledTask/.test(c.name)).map(c => c.name);
    expect(builders).toEqual([]);
  });
});

describe("the agent README's Windows section", () => {
  const readme = readFileSync('agent/README.md', 'utf8');
  const windows = readme.slice(readme.indexOf('### Windows'), readme.indexOf('### At VM creation'));

  test('names every option of install.ps1, and no other', () => {
    const source = readFileSync(INSTALLER, 'utf8');
    const params = source.slice(source.indexOf('param('), source.indexOf("$ErrorActionPreference = 'Stop'"));
    const options = [...params.matchAll(/\](\$\w+)/g)].map(m => `-${m[1]!.slice(1)}`).sort();
    expect(options.length).toBeGreaterThan(5);
    const named = [...windows.matchAll(/`(-[A-Z]\w+)`/g)].map(m => m[1]!).sort();
    expect(named).toEqual(options);
  });

  test('says what the task is and what the installer needs', () => {
    expect(windows).toContain('S-1-5-18');
    expect(windows).toContain('Node.js 20.6 or newer');
    expect(windows).toContain('install/windows/azure-spot-restarter-agent.task.xml');
    expect(windows).toContain('Register-ScheduledTask -Xml');
    expect(windows).toContain('Windows PowerShell 5.1 or PowerShell 7');
  });
});
