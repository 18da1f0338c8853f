/**
 * Structured logs to stdout (journald keeps them), and with --log-file to a file too (Windows keeps
 * no output of a scheduled task: log-file.ts).
 * Secrets registered here never reach a line; an error that repeats is logged once per kind until
 * it clears.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export class Logger {
  private readonly secrets = new Set<string>();
  private readonly quiet = new Set<string>();

  constructor(
    private readonly format: 'text' | 'json',
    private readonly write: (line: string) => void = line => process.stdout.write(`${line}\n`)
  ) {}

  secret(value: string | undefined): void {
    if (value && value.length >= 6) this.secrets.add(value);
  }

  log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
    const time = new Date().toISOString();
    const line =
      this.format === 'json'
        ? JSON.stringify({ time, level, msg: message, ...fields })
        : `${time} ${level.toUpperCase().padEnd(5)} ${message}${
            Object.keys(fields).length
              ? ` ${Object.entries(fields)
                  .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
                  .join(' ')}`
              : ''
          }`;
    this.write(this.redact(line));
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }

  /** Logs a failure the first time it happens; later identical ones are counted silently. */
  once(kind: string, level: Level, message: string, fields?: Record<string, unknown>): void {
    if (this.quiet.has(kind)) return;
    this.quiet.add(kind);
    this.log(level, message, fields);
  }

  /** The failure of that kind is over: log that, and let the next one be logged again. */
  recovered(kind: string, message: string): void {
    if (!this.quiet.delete(kind)) return;
    this.log('info', message);
  }

  private redact(line: string): string {
    let out = line;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }
}
