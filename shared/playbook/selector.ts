import { EVENT_KINDS, type EventKind, type ParsedEvent } from '../model/event';

/**
 * The extract selector language: `kind[cond,cond].field`, e.g. `process[state^=D].pid` or
 * `mount[fstype~^nfs].server`. A condition is `field=value`, `field!=value`, `field^=prefix` or
 * `field~regex`; several conditions must all hold. Fields are looked up in the event's `data` first, then
 * on the event itself (pid, text, level); dotted paths walk nested objects. Deliberately tiny: it selects
 * values from one step's events, it is not a query language.
 */

export type SelectorOp = '=' | '!=' | '^=' | '~';
export interface SelectorCondition {
  readonly field: string;
  readonly op: SelectorOp;
  readonly value: string;
  readonly regex?: RegExp;
}
export interface Selector {
  readonly kind: EventKind;
  readonly where: readonly SelectorCondition[];
  readonly field: string;
}

const FIELD = '[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*';
const SELECTOR_RE = new RegExp(`^([a-z]+)(?:\\[([^\\]]*)\\])?\\.(${FIELD})$`);
const COND_RE = new RegExp(`^\\s*(${FIELD})\\s*(!=|\\^=|=|~)\\s*(.*?)\\s*$`);

export function parseSelector(text: string): { ok: true; selector: Selector } | { ok: false; error: string } {
  const m = SELECTOR_RE.exec(text.trim());
  if (!m) return { ok: false, error: 'expected kind[field=value,...].field, e.g. process[state^=D].pid' };
  const kind = m[1]!;
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) return { ok: false, error: `unknown event kind "${kind}" (one of ${EVENT_KINDS.join(', ')})` };
  const where: SelectorCondition[] = [];
  if (m[2] !== undefined && m[2].trim() !== '') {
    for (const part of m[2].split(',')) {
      const c = COND_RE.exec(part);
      if (!c) return { ok: false, error: `bad condition "${part.trim()}": expected field=value, field!=value, field^=prefix or field~regex` };
      const op = c[2] as SelectorOp;
      let regex: RegExp | undefined;
      if (op === '~') {
        try {
          regex = new RegExp(c[3]!, 'u');
        } catch {
          return { ok: false, error: `bad regular expression "${c[3]}"` };
        }
      }
      where.push({ field: c[1]!, op, value: c[3]!, ...(regex ? { regex } : {}) });
    }
  }
  return { ok: true, selector: { kind: kind as EventKind, where, field: m[3]! } };
}

function walk(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** A field of an event as text (numbers, bigints and booleans stringified), or undefined. */
export function fieldText(e: ParsedEvent, field: string): string | undefined {
  const path = field.split('.');
  let v = path[0] === 'data' ? walk(e.data, path.slice(1)) : walk(e.data, path);
  if (v === undefined) v = walk(e, path);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return undefined;
}

function holds(e: ParsedEvent, c: SelectorCondition): boolean {
  const v = fieldText(e, c.field);
  switch (c.op) {
    case '=':
      return v === c.value;
    case '!=':
      return v !== c.value;
    case '^=':
      return v !== undefined && v.startsWith(c.value);
    case '~':
      return v !== undefined && (c.regex ?? new RegExp(c.value, 'u')).test(v);
    default: {
      const never: never = c.op;
      throw new Error(`unreachable op ${String(never)}`);
    }
  }
}

/** Values selected from events, in event order, without duplicates. */
export function evaluateSelector(sel: Selector, events: readonly ParsedEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.kind !== sel.kind) continue;
    if (!sel.where.every((c) => holds(e, c))) continue;
    const v = fieldText(e, sel.field);
    if (v !== undefined && !out.includes(v)) out.push(v);
  }
  return out;
}
