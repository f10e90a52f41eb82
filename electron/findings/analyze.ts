import type { Store, FindingRow, EventRow } from '../store/store';
import type { ParsedEvent, EventKind, Level } from '../../shared/model/event';
import { runRules, type Finding } from '../../shared/findings';
import { correctedTime } from '../timeline/correct';

/** An event as the rules see it: the parsed event (time corrected per host) plus where it came from. */
export type RuleEvent = ParsedEvent & { readonly host?: string; readonly artifactKind?: string; readonly ref?: number };

export function toRuleEvents(store: Store, caseId: number): RuleEvent[] {
  const hosts = new Map(store.listHosts(caseId).map((h) => [h.id, h]));
  const kinds = new Map(store.listArtifacts(caseId).map((a) => [a.id, a.kind]));
  const out: RuleEvent[] = [];
  const stmt = store.db.prepare('SELECT * FROM events WHERE case_id = ? ORDER BY ts_ns IS NULL, ts_ns, id').safeIntegers(true);
  for (const raw of stmt.iterate(caseId) as IterableIterator<Record<string, unknown>>) {
    const e = rowToEvent(raw);
    const host = e.hostId !== undefined ? hosts.get(e.hostId) : undefined;
    out.push({
      kind: e.kind as EventKind,
      ts: correctedTime(e, host),
      tsRaw: e.tsRaw,
      clock: e.clock as ParsedEvent['clock'],
      durationNs: e.durationNs,
      line: e.line,
      endLine: e.endLine,
      pid: e.pid,
      level: e.level as Level | undefined,
      text: e.text,
      data: e.data,
      host: host?.name ?? (e.hostId === undefined ? undefined : `host ${e.hostId}`),
      artifactKind: kinds.get(e.artifactId),
      ref: e.id,
    });
  }
  return out;
}

import { eventRow } from '../store/store';
function rowToEvent(r: Record<string, unknown>): EventRow {
  return eventRow(r);
}

/** Run every finding rule over a case; evidence keeps the stored event ids so the UI can link to them. */
export function analyzeCase(store: Store, caseId: number): Omit<FindingRow, 'id' | 'caseId' | 'createdNs'>[] {
  const events = toRuleEvents(store, caseId);
  const hostIds = new Map(store.listHosts(caseId).map((h) => [h.name, h.id]));
  const findings: readonly Finding[] = runRules({ events });
  return findings.map((f) => {
    const evidence = f.evidence.map((ev) => {
      const idx = typeof ev.eventIndex === 'number' ? ev.eventIndex : undefined;
      const src = idx !== undefined ? events[idx] : undefined;
      return { ...ev, eventId: src?.ref, host: ev.host ?? src?.host, line: src?.line, artifactKind: src?.artifactKind };
    });
    const times = evidence.map((e) => (typeof e.eventIndex === 'number' ? events[e.eventIndex]?.ts : undefined)).filter((t): t is bigint => t !== undefined);
    const host = evidence.find((e) => e.host)?.host;
    return {
      rule: f.rule,
      title: f.title,
      severity: f.severity,
      explanation: f.explanation,
      next: f.next,
      hostId: host !== undefined ? hostIds.get(host) : undefined,
      firstNs: times.length ? times.reduce((a, b) => (b < a ? b : a)) : undefined,
      lastNs: times.length ? times.reduce((a, b) => (b > a ? b : a)) : undefined,
      evidence,
    };
  });
}
