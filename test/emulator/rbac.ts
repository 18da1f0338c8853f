/**
 * Role-based access: each app holds the actions of a role definition on some subscriptions, and
 * every emulated operation names the action it needs. By default the role is the one we ship.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AppSpec } from './fleet.js';

const ROLE_FILE = fileURLToPath(new URL('../../docs/spot-restarter-role.json', import.meta.url));

export function shippedRoleActions(): string[] {
  return (JSON.parse(readFileSync(ROLE_FILE, 'utf8')) as { Actions: string[] }).Actions;
}

/** Role actions may hold wildcards (`Microsoft.Compute/*`, `*\/read`); names compare without case. */
export function allows(actions: string[], wanted: string): boolean {
  return actions.some(pattern => {
    const regex = new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`, 'i');
    return regex.test(wanted);
  });
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export class Rbac {
  private readonly roles = new Map<string, { actions: string[]; scopes?: string[] }>();

  constructor(apps: AppSpec[]) {
    const shipped = shippedRoleActions();
    for (const app of apps) {
      this.roles.set(app.clientId.toLowerCase(), {
        actions: app.actions ?? shipped,
        scopes: app.scopes?.map(s => s.toLowerCase())
      });
    }
  }

  can(clientId: string, action: string, subscriptionId: string): boolean {
    const role = this.roles.get(clientId.toLowerCase());
    if (!role) return false;
    if (role.scopes && !role.scopes.includes(subscriptionId.toLowerCase())) return false;
    return allows(role.actions, action);
  }

  /** The actions the app holds on a subscription, or undefined without an assignment there. */
  actionsOn(clientId: string, subscriptionId: string): string[] | undefined {
    const role = this.roles.get(clientId.toLowerCase());
    if (!role || (role.scopes && !role.scopes.includes(subscriptionId.toLowerCase()))) return undefined;
    return role.actions;
  }

  readableSubscriptions(clientId: string, all: string[]): string[] {
    return all.filter(s => this.can(clientId, 'Microsoft.Resources/subscriptions/read', s));
  }
}
