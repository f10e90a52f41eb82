import { eventRow, type Store, type FindingRow } from '../store/store';
import type { ParsedEvent, EventKind, Level } from '../../shared/model/event';
import { runRules, type InputEvent, type StepRecord } from '../../shared/findings';
import { correctedTime } from '../timeline/correct';

/**
 * The events of a case as the rules see them: parsed events with time corrected per host (so windows
 * across hosts line up), tagged with host, artifact and the stored event id (kept as `ref`).
 */
export function toRuleEvents(store: Store, caseId: number): InputEvent[] {
  const hosts = new Map(store.listHosts(caseId).map((h) => [h.id, h]));
  const kinds = new Map(store.listArtifacts(caseId).map((a) => [a.id, a.kind]));
  const out: InputEvent[] = [];
  const stmt = store.db.prepare('SELECT * FROM events WHERE case_id = ? ORDER BY ts_ns IS NULL, ts_ns, id').safeIntegers(true);
  for (const raw of stmt.iterate(caseId) as IterableIterator<Record<string, unknown>>) {
    const e = eventRow(raw);
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
      host: host?.name,
      artifactKind: kinds.get(e.artifactId),
      artifact: e.artifactId,
      ref: e.id,
    });
  }
  return out;
}

export function toStepRecords(store: Store, caseId: number): StepRecord[] {
  const hosts = new Map(store.listHosts(caseId).map((h) => [h.id, h.name]));
  const runs = new Map(store.listRuns(caseId).map((r) => [r.id, r.status]));
  return store.listSteps(caseId).map((s) => ({
    stepId: s.stepKey,
    host: s.hostId !== undefined ? hosts.get(s.hostId) : undefined,
    status: s.status,
    isRestore: s.isRestore,
    restore: s.restore,
    runStatus: s.runId !== undefined ? runs.get(s.runId) : undefined,
    command: s.command,
    timeoutMs: s.timeoutMs,
    startedAt: s.startedNs,
    endedAt: s.endedNs,
    reason: s.error ?? (s.stuck ? JSON.stringify(s.stuck) : undefined),
    ref: s.id,
  }));
}

/** Run every finding rule over a case; evidence keeps the stored event ids so the UI can link to them. */
export function analyzeCase(store: Store, caseId: number): Omit<FindingRow, 'id' | 'caseId' | 'createdNs'>[] {
  const events = toRuleEvents(store, caseId);
  const hostIds = new Map(store.listHosts(caseId).map((h) => [h.name, h.id]));
  const findings = runRules({ events, steps: toStepRecords(store, caseId) });
  return findings.map((f) => {
    const evidence = f.evidence.map((ev) => {
      const src = events[ev.eventIndex];
      return { summary: ev.summary, eventId: typeof ev.ref === 'number' ? ev.ref : undefined, host: ev.host ?? src?.host, ts: ev.ts, line: src?.line, artifactId: src?.artifact, artifactKind: src?.artifactKind };
    });
    const times = f.evidence.map((e) => events[e.eventIndex]?.ts).filter((t): t is bigint => t !== undefined);
    return {
      rule: f.rule,
      title: f.title,
      severity: f.severity,
      explanation: f.explanation,
      next: f.next,
      hostId: f.host !== undefined ? hostIds.get(f.host) : undefined,
      firstNs: times.length ? times.reduce((a, b) => (b < a ? b : a)) : undefined,
      lastNs: times.length ? times.reduce((a, b) => (b > a ? b : a)) : undefined,
      evidence,
    };
  });
}
