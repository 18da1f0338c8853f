/** The headers of every request the agent sends to GitHub's REST API. */
import { AGENT_VERSION } from './version.js';

export function githubHeaders(token: string, json = false): Record<string, string> {
  return {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${token}`,
    'x-github-api-version': '2022-11-28',
    'user-agent': `azure-spot-restarter-agent/${AGENT_VERSION}`,
    ...(json ? { 'content-type': 'application/json' } : {})
  };
}
