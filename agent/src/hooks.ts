/** The drain command: run by the shell with the event in its environment, stopped at its timeout. */
import { spawn } from 'node:child_process';

export interface HookResult {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
}

export function runHook(
  command: string,
  env: Record<string, string>,
  timeoutMs: number,
  onOutput: (line: string) => void,
  onStart?: (pid: number | undefined) => void
): Promise<HookResult> {
  const started = Date.now();
  return new Promise(resolve => {
    const child = spawn(command, {
      shell: true,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    onStart?.(child.pid);
    let timedOut = false;
    const forward = (chunk: Buffer) => chunk.toString('utf8').split('\n').filter(Boolean).forEach(onOutput);
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }, timeoutMs);
    child.on('error', error => {
      onOutput(`could not start: ${error.message}`);
    });
    child.on('close', code => {
      clearTimeout(timer);
      resolve({ exitCode: code, timedOut, durationMs: Date.now() - started });
    });
  });
}
