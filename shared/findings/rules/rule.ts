import type { Ctx } from '../context';
import type { Finding, RuleMeta } from '../types';

export interface Rule {
  readonly meta: RuleMeta;
  run(ctx: Ctx): Finding[];
}

/** Build a finding for a rule, clamping confidence to 0..1 and defaulting role to the rule's. */
export function make(meta: RuleMeta, f: Omit<Finding, 'rule' | 'role' | 'confidence'> & { readonly role?: Finding['role']; readonly confidence: number }): Finding {
  return { rule: meta.id, role: f.role ?? meta.role, ...f, confidence: Math.max(0, Math.min(1, Math.round(f.confidence * 100) / 100)) };
}

/** Group items by a key, keeping first-seen order. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (k === undefined) continue;
    const l = m.get(k);
    if (l) l.push(it);
    else m.set(k, [it]);
  }
  return m;
}
