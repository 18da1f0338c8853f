/**
 * Role-based access: each app holds role assignments, each a role definition's actions (and
 * NotActions) at a scope — a subscription or a resource group — and every emulated operation names
 * the action it needs on the resource it touches. As in Azure RBAC ("Understand scope for Azure
 * RBAC", Microsoft Learn), an assignment applies at its scope and to everything below it, never
 * above: a role on a resource group reaches that group's VMs and nothing at subscription level.
 * By default an app holds the role we ship, on every subscription.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AppSpec } from '../fleets/fleet.js';

const ROLE_FILE = fileURLToPath(new URL('../../../docs/spot-restarter-role.json', import.meta.url));

export function shippedRoleActions(): string[] {
  return (JSON.parse(readFileSync(ROLE_FILE, 'utf8')) as { Actions: string[] }).Actions;
}

/** Role actions may hold wildcards (`Microsoft.Compute/*`, `*\/read`); names compare without case. */
export function allows(actions: string[], wanted: string): boolean {
  return actions.some(pattern => matcher(pattern).test(wanted));
}

/**
 * A pattern's RegExp, compiled once: it depends on the pattern's text alone, so the cache can never
 * disagree with a role (a changed role has other patterns, or the same ones meaning the same).
 */
const matchers = new Map<string, RegExp>();
function matcher(pattern: string): RegExp {
  let regex = matchers.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`, 'i');
    matchers.set(pattern, regex);
  }
  return regex;
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export interface Assignment {
  /** `/subscriptions/{id}` or `/subscriptions/{id}/resourcegroups/{name}`, lower case. */
  scope: string;
  actions: string[];
  notActions: string[];
}

/** A subscription ID, a subscription scope or any resource path below one, as a lower-case scope. */
export function normalizeScope(scopeOrSubscription: string): string {
  const s = scopeOrSubscription.trim().replace(/\/+$/, '').toLowerCase();
  return s.startsWith('/') ? s : `/subscriptions/${s}`;
}

/** Whether an assignment at `assigned` reaches `target`: the same scope or one below it. */
function covers(assigned: string, target: string): boolean {
  return target === assigned || target.startsWith(`${assigned}/`);
}

export class Rbac {
  private readonly assignments = new Map<string, Assignment[]>();

  constructor(
    apps: AppSpec[],
    private readonly allSubscriptions: string[] = []
  ) {
    const shipped = shippedRoleActions();
    for (const app of apps) {
      const list: Assignment[] = (app.assignments ?? []).map(a => ({
        scope: normalizeScope(a.scope),
        actions: a.actions,
        notActions: a.notActions ?? []
      }));
      if (!app.assignments || app.actions || app.scopes) {
        const scopes = app.scopes ?? allSubscriptions;
        for (const scope of scopes)
          list.push({ scope: normalizeScope(scope), actions: app.actions ?? shipped, notActions: [] });
      }
      this.assignments.set(app.clientId.toLowerCase(), list);
    }
  }

  /** May the app perform `action` on this resource (or subscription)? */
  can(clientId: string, action: string, resourceOrSubscription: string): boolean {
    const target = normalizeScope(resourceOrSubscription);
    return this.assignmentsAt(clientId, target).some(
      a => allows(a.actions, action) && !allows(a.notActions, action)
    );
  }

  /** The app's assignments that apply at a scope: at it or above it. */
  assignmentsAt(clientId: string, scope: string): Assignment[] {
    const target = normalizeScope(scope);
    return (this.assignments.get(clientId.toLowerCase()) ?? []).filter(a => covers(a.scope, target));
  }

  /**
   * Subscriptions the app sees: those where it reads the subscription, by an assignment on it or on
   * one of its resource groups (Azure lists a subscription to anyone with a role inside it).
   */
  readableSubscriptions(clientId: string, all: string[]): string[] {
    const mine = this.assignments.get(clientId.toLowerCase()) ?? [];
    return all.filter(s => {
      const sub = normalizeScope(s);
      return mine.some(
        a =>
          (covers(sub, a.scope) || covers(a.scope, sub)) &&
          allows(a.actions, 'Microsoft.Resources/subscriptions/read') &&
          !allows(a.notActions, 'Microsoft.Resources/subscriptions/read')
      );
    });
  }
}
