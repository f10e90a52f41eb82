/**
 * Host roles in a run (client / server / both) and which of the selected hosts each step's `on:` reaches.
 * Mirrors `targetHosts` in shared/playbook/state.ts, which the runner applies: `all`, `clients` (every host
 * not marked server-only), `servers` (server or both), or the name of a host/hosts parameter.
 */

export type HostRole = 'client' | 'server' | 'both';
export const HOST_ROLES: readonly HostRole[] = ['client', 'server', 'both'];

export interface RunHost {
  readonly id: number;
  readonly name: string;
  readonly role: HostRole;
}

export interface ParamDef {
  readonly name: string;
  readonly type: string;
}

/**
 * Names of the selected hosts a step runs on. `values` are the parameter values as typed (a `hosts` parameter
 * is a comma-separated list of names); a parameter naming hosts that are not selected reaches none of them.
 */
export function stepHosts(on: string, hosts: readonly RunHost[], params: readonly ParamDef[], values: Readonly<Record<string, string>>): string[] {
  switch (on) {
    case 'all':
      return hosts.map((h) => h.name);
    case 'clients':
      return hosts.filter((h) => h.role !== 'server').map((h) => h.name);
    case 'servers':
      return hosts.filter((h) => h.role === 'server' || h.role === 'both').map((h) => h.name);
    default: {
      const p = params.find((x) => x.name === on);
      if (!p || (p.type !== 'host' && p.type !== 'hosts')) return [];
      const raw = values[on] ?? '';
      const names = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      return hosts.filter((h) => names.includes(h.name)).map((h) => h.name);
    }
  }
}

/** The `roles` input of runs.start: host id (as a string) -> role, for the selected hosts only. */
export function rolesInput(hosts: readonly RunHost[]): Record<string, HostRole> {
  const out: Record<string, HostRole> = {};
  for (const h of hosts) out[String(h.id)] = h.role;
  return out;
}

/** Steps that reach no selected host, with the reason to show before the run (e.g. no host marked server). */
export function unreachedReason(on: string, hosts: readonly RunHost[]): string | undefined {
  if (hosts.length === 0) return 'no host selected';
  if (on === 'servers') return 'no selected host is marked server or both: this step will be skipped';
  if (on === 'clients') return 'every selected host is marked server: this step will be skipped';
  return `no selected host matches "${on}": this step will be skipped`;
}
