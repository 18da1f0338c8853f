/**
 * The log as a file, for where nothing keeps the agent's output: Windows keeps none of a scheduled
 * task's (journald keeps it on Linux). Each line is appended at once — an eviction can end the VM
 * within 30 s, so nothing waits in a buffer — and past `maxBytes` the file becomes `<file>.1`
 * (replacing the one before) and a new one begins, so the log never takes more than twice that.
 */
import { appendFileSync, renameSync, statSync } from 'node:fs';

export const LOG_FILE_MAX_BYTES = 10 * 2 ** 20;

/**
 * A writer that appends lines to `path`; it throws at once if the file cannot be written, so a
 * wrong path is found at start. A line that cannot be written later is dropped (the agent goes on;
 * its other output still has the line).
 */
export function logFileWriter(path: string, maxBytes = LOG_FILE_MAX_BYTES): (line: string) => void {
  appendFileSync(path, '');
  let size = statSync(path).size;
  return line => {
    const data = Buffer.from(`${line}\n`);
    try {
      if (size > 0 && size + data.length > maxBytes) {
        renameSync(path, `${path}.1`);
        size = 0;
      }
      appendFileSync(path, data);
      size += data.length;
    } catch {
      // Disk full or the file taken away: watching for evictions matters more than this line.
    }
  };
}
