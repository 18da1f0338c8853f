/**
 * The agent's log file (agent/src/log-file.ts), for Windows, which keeps no output of a scheduled
 * task: every line is in the file as soon as it is logged, the file is rotated past its limit with
 * one file kept before it, and a path that cannot be written is refused at start.
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logFileWriter } from '../../agent/src/log-file.js';
import { Logger } from '../../agent/src/log.js';

const dir = () => mkdtempSync(join(tmpdir(), 'agent-log-'));

describe('the agent log file', () => {
  test('each line is in the file as soon as it is logged, after what the file held, and secrets stay out', () => {
    const file = join(dir(), 'agent.log');
    writeFileSync(file, 'from the last run\n');
    const log = new Logger('text', logFileWriter(file));
    log.secret('ghs_secretToken123');
    log.info('watching Scheduled Events', { token: 'ghs_secretToken123' });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('from the last run');
    expect(lines[1]).toMatch(/INFO {2}watching Scheduled Events token=\*\*\*$/);
  });

  test('past its limit the file becomes <file>.1 and a new one begins; the older .1 is replaced', () => {
    const file = join(dir(), 'agent.log');
    const write = logFileWriter(file, 100);
    for (let i = 0; i < 12; i++) write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(20)}`); // 29 bytes each
    const current = readFileSync(file, 'utf8').trimEnd().split('\n');
    const before = readFileSync(`${file}.1`, 'utf8').trimEnd().split('\n');
    // Three lines fit in 100 bytes: lines 9–11 now, 6–8 before them; 0–5 are gone with the older .1.
    expect(current.map(l => l.slice(0, 7))).toEqual(['line 09', 'line 10', 'line 11']);
    expect(before.map(l => l.slice(0, 7))).toEqual(['line 06', 'line 07', 'line 08']);
    expect(existsSync(`${file}.2`)).toBe(false);
  });

  test('a folder that does not exist is refused at start, naming the path', () => {
    const file = join(dir(), 'missing', 'agent.log');
    expect(() => logFileWriter(file)).toThrow(/ENOENT.*missing/);
  });
});
