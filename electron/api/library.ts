import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../store/store';
import { exportBundle, importBundle, BundleError } from '../export/bundle';
import { mountstatsDelta, type MountstatsData } from '../../shared/parsers/mountstats';
import { ftsQuery } from './queries';
import { hostCorrectionNs } from '../timeline/correct';
import { ApiError } from './errors';

/** The offline case library, saved searches and chart data: read-side features over the whole store. */

/** Past cases whose name/title match, or whose events contain the words (full text over every case). */
export function searchCases(store: Store, query: string) {
  const q = query.trim();
  if (!q) return store.listCases().map((c) => ({ caseId: c.id, name: c.name, title: c.title, hits: 0 }));
  const byName = new Map<number, { caseId: number; name: string; title: string; hits: number; snippet?: string }>();
  const lower = q.toLowerCase();
  for (const c of store.listCases()) {
    if (c.name.toLowerCase().includes(lower) || c.title.toLowerCase().includes(lower)) byName.set(c.id, { caseId: c.id, name: c.name, title: c.title, hits: 0 });
  }
  const fts = ftsQuery(q);
  if (fts) {
    const rows = store.db
      .prepare('SELECT e.case_id AS cid, count(*) AS n FROM events_fts JOIN events e ON e.id = events_fts.rowid WHERE events_fts MATCH ? GROUP BY e.case_id ORDER BY n DESC LIMIT 200')
      .all(fts) as { cid: number; n: number }[];
    const snip = store.db.prepare("SELECT snippet(events_fts, 0, '[', ']', '…', 12) FROM events_fts JOIN events e ON e.id = events_fts.rowid WHERE events_fts MATCH ? AND e.case_id = ? LIMIT 1").pluck();
    for (const r of rows) {
      const c = store.getCase(r.cid);
      if (!c) continue;
      const prev = byName.get(r.cid);
      byName.set(r.cid, { caseId: c.id, name: c.name, title: c.title, hits: r.n + (prev?.hits ?? 0), snippet: snip.get(fts, r.cid) as string });
    }
  }
  return [...byName.values()].sort((a, b) => b.hits - a.hits || a.name.localeCompare(b.name));
}

export function exportBundleBase64(store: Store, caseId: number, redact: boolean) {
  const c = store.getCase(caseId);
  if (!c) throw new ApiError(`case ${caseId} not found`, 'not-found');
  const dir = mkdtempSync(join(tmpdir(), 'casefile-bundle-'));
  try {
    const file = join(dir, 'case.casefile');
    const r = exportBundle(store, caseId, file, { redact });
    return { base64: readFileSync(file).toString('base64'), fileName: `${c.name.replace(/[^\w.-]+/g, '_')}${redact ? '-redacted' : ''}.casefile`, sha256: r.sha256 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function importBundleBase64(store: Store, base64: string, name?: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'casefile-bundle-'));
  const path = join(dir, 'import.casefile');
  try {
    writeFileSync(path, Buffer.from(base64, 'base64'));
    return importBundle(store, path, name).caseId;
  } catch (e) {
    if (e instanceof BundleError) throw new ApiError(e.message.split(path).join('the bundle'), 'bad-bundle');
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- saved searches ------------------------------------------------------------------------------
export function saveSearch(store: Store, caseId: number, name: string, query: Record<string, unknown>): number {
  const r = store.db.prepare('INSERT INTO saved_searches (case_id, name, query_json, created_ns) VALUES (?, ?, ?, ?)').run(caseId, name, JSON.stringify(query), BigInt(Date.now()) * 1_000_000n);
  return Number(r.lastInsertRowid);
}
export function listSearches(store: Store, caseId: number) {
  return (store.db.prepare('SELECT id, name, query_json, created_ns FROM saved_searches WHERE case_id = ? ORDER BY id').safeIntegers(true).all(caseId) as { id: bigint; name: string; query_json: string; created_ns: bigint }[]).map((r) => ({
    id: Number(r.id),
    name: r.name,
    query: JSON.parse(r.query_json) as Record<string, unknown>,
    createdNs: r.created_ns.toString(),
  }));
}
export function deleteSearch(store: Store, caseId: number, id: number): boolean {
  return store.db.prepare('DELETE FROM saved_searches WHERE id = ? AND case_id = ?').run(id, caseId).changes === 1;
}

// ---- charts --------------------------------------------------------------------------------------
/**
 * RPC latency scatter (each call: time, latency, operation) sampled evenly down to maxPoints, and the
 * operation rate per time bucket. Times are corrected per host like the timeline.
 */
export function rpcChart(store: Store, caseId: number, o: { startNs?: bigint; endNs?: bigint; maxPoints: number; buckets: number }) {
  const hosts = new Map(store.listHosts(caseId).map((h) => [h.id, h]));
  const where = ["case_id = ?", "kind = 'rpc'", 'ts_ns IS NOT NULL'];
  const args: unknown[] = [caseId];
  const total = store.db.prepare(`SELECT count(*) FROM events WHERE ${where.join(' AND ')}`).pluck().get(...args) as number;
  const step = Math.max(1, Math.ceil(total / o.maxPoints));
  const rows = store.db
    .prepare(
      `SELECT ts_ns, host_id, json_extract(data_json, '$.latencyMs') AS lat, json_extract(data_json, '$.procedure') AS proc,
              json_extract(data_json, '$.ops') AS ops, json_extract(data_json, '$.status') AS status
       FROM events WHERE ${where.join(' AND ')} ORDER BY ts_ns`,
    )
    .safeIntegers(true)
    .iterate(...args) as IterableIterator<{ ts_ns: bigint; host_id: bigint | null; lat: number | null; proc: string | null; ops: string | null; status: string | null }>;
  const pts: { tNs: string; latencyMs: number; op: string; status?: string }[] = [];
  const all: { t: bigint; op: string }[] = [];
  let i = 0;
  let lo: bigint | undefined;
  let hi: bigint | undefined;
  for (const r of rows) {
    const t = r.ts_ns - hostCorrectionNs(r.host_id === null ? undefined : hosts.get(Number(r.host_id)));
    if ((o.startNs !== undefined && t < o.startNs) || (o.endNs !== undefined && t >= o.endNs)) continue;
    // NFSv4: label by the operation that does the work (the last op of the COMPOUND), not "COMPOUND".
    let op = r.proc ?? '?';
    if (r.ops) {
      const list = JSON.parse(r.ops) as string[];
      const main = list.filter((x) => !['SEQUENCE', 'PUTFH', 'PUTROOTFH', 'GETATTR', 'GETFH', 'CB_SEQUENCE'].includes(x));
      op = main.at(-1) ?? list.at(-1) ?? op;
    }
    all.push({ t, op });
    if (lo === undefined || t < lo) lo = t;
    if (hi === undefined || t > hi) hi = t;
    if (r.lat !== null && i++ % step === 0) pts.push({ tNs: t.toString(), latencyMs: Number(r.lat), op, ...(r.status ? { status: r.status } : {}) });
  }
  const start = o.startNs ?? lo ?? 0n;
  const end = o.endNs ?? (hi !== undefined ? hi + 1n : start + 1n);
  const width = (end - start + BigInt(o.buckets) - 1n) / BigInt(o.buckets) || 1n;
  const ops: Record<string, number[]> = {};
  for (const a of all) {
    const b = Number((a.t - start) / width);
    if (b < 0 || b >= o.buckets) continue;
    (ops[a.op] ??= new Array<number>(o.buckets).fill(0))[b]!++;
  }
  return { points: pts, sampled: step > 1, rate: { startNs: start.toString(), widthNs: width.toString(), ops } };
}

/**
 * mountstats per operation: queue (backlog wait) and RTT per op. With two samples of the same mount the
 * values are deltas between them (counters are cumulative since mount: a single sample says little).
 */
export function mountstatsChart(store: Store, caseId: number) {
  const rows = store.db
    .prepare("SELECT host_id, ts_ns, data_json FROM events WHERE case_id = ? AND kind = 'mountstats' ORDER BY host_id, ts_ns, id")
    .safeIntegers(true)
    .all(caseId) as { host_id: bigint | null; ts_ns: bigint | null; data_json: string }[];
  const last = new Map<string, MountstatsData>();
  const out: { hostId?: number; mount: string; tNs?: string; op: string; ops: number; queueMsPerOp: number; rttMsPerOp: number; backlogPerSend?: number }[] = [];
  for (const r of rows) {
    const d = JSON.parse(r.data_json) as MountstatsData;
    if (!d.nfs || !d.perOp) continue;
    const key = `${r.host_id ?? ''}|${d.device}|${d.mountpoint}`;
    const prev = last.get(key);
    last.set(key, d);
    const hostId = r.host_id === null ? undefined : Number(r.host_id);
    const tNs = r.ts_ns === null ? undefined : r.ts_ns.toString();
    if (prev) {
      const delta = mountstatsDelta(prev, d);
      const bl = delta.xprt && delta.xprt.sends > 0n ? Number(delta.xprt.bklog_u) / Number(delta.xprt.sends) : undefined;
      for (const op of delta.perOp) {
        if (op.ops === 0n) continue;
        out.push({ hostId, mount: d.mountpoint, tNs, op: op.op, ops: Number(op.ops), queueMsPerOp: Number(op.queue_ms) / Number(op.ops), rttMsPerOp: Number(op.rtt_ms) / Number(op.ops), ...(bl !== undefined ? { backlogPerSend: bl } : {}) });
      }
    } else {
      const x = d.xprt?.fields;
      const bl = x?.sends && Number(x.sends) > 0 && x.bklog_u !== undefined ? Number(x.bklog_u) / Number(x.sends) : undefined;
      for (const op of d.perOp) {
        const n = Number(op.ops);
        if (!n) continue;
        out.push({ hostId, mount: d.mountpoint, tNs, op: op.op, ops: n, queueMsPerOp: Number(op.queue_ms) / n, rttMsPerOp: Number(op.rtt_ms) / n, ...(bl !== undefined ? { backlogPerSend: bl } : {}) });
      }
    }
  }
  return out;
}
