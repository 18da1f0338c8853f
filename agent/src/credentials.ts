/**
 * GitHub credentials, in order of preference: a GitHub App (installation token, cached until
 * near expiry), a token file, an environment variable. Key and token files that others can read
 * are refused: a stolen dispatch token can start workflows.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Config } from './config.js';
import type { Logger } from './log.js';

export interface Credentials {
  kind: 'github-app' | 'token-file' | 'environment';
  token(): Promise<string>;
  /** The token was refused: forget it, so the next call gets a fresh one (GitHub App only). */
  invalidate(): void;
}

export class CredentialError extends Error {}

export function privateFile(path: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new CredentialError(`${what} ${path} cannot be read: ${(error as Error).message}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CredentialError(
      `${what} ${path} can be read by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`
    );
  }
  return readFileSync(path, 'utf8').trim();
}

export function loadCredentials(config: Config, log: Logger): Credentials {
  if (config.appId && config.installationId && config.privateKeyFile) {
    const key = privateFile(config.privateKeyFile, 'The GitHub App private key');
    let cached: { token: string; expiresAt: number } | undefined;
    return {
      kind: 'github-app',
      async token() {
        if (cached && cached.expiresAt - Date.now() > 5 * 60_000) return cached.token;
        // Loaded on first use: it needs node:crypto, which an agent that only polls never does.
        const { installationToken } = await import('./github-app.js');
        cached = await installationToken(config.githubApiUrl, config.appId!, config.installationId!, key);
        log.secret(cached.token);
        return cached.token;
      },
      invalidate() {
        cached = undefined;
      }
    };
  }
  if (config.tokenFile) {
    const token = privateFile(config.tokenFile, 'The token file');
    log.secret(token);
    return { kind: 'token-file', token: async () => token, invalidate: () => undefined };
  }
  if (config.token) {
    log.secret(config.token);
    return { kind: 'environment', token: async () => config.token!, invalidate: () => undefined };
  }
  throw new CredentialError(
    'No GitHub credentials: give a GitHub App (--app-id, --installation-id, --private-key-file), a --token-file, or SPOT_AGENT_GITHUB_TOKEN'
  );
}
