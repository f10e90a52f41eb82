import type { ParsedInput } from '../../shared/api/contract';
import type { Store, ArtifactRow, HostRow } from '../store/store';
import { hostCorrectionNs } from '../timeline/correct';
import { ApiError } from './errors';
import { BIN_NS } from '../store/migrations/005_event_bins';

/** Read-side queries behind the API: artifact pages, timeline buckets, related events, search. */

const s = (v: bigint | undefined): string | undefined => (v === undefined ? undefined : v.toString());
const strip = <T extends object>(o: T): T => {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
};

// ---- artifact lines ----------------------------------------------------------------------------
export function readLines(store: Store, a: ArtifactRow, fromLine: number, maxLines: number): { fromLine: number; lines: string[]; truncated: boolean } {
  if (!a.isText && a.kind !== 'pcap') {
    return { fromLine: 1, lines: [`(binary artifact, ${a.size} bytes: not shown as text)`], truncated: false };
  }
  if (a.kind === 'pcap') {
    // Captures are shown as their decoded RPC events, one per line, numbered by frame.
    const evs = store.db
      .prepare("SELECT line, text FROM events WHERE artifact_id = ? AND line >= ? ORDER BY line LIMIT ?")
      .all(a.id, fromLine, maxLines) as { line: number; text: string }[];
    return { fromLine, lines: evs.map((e) => `#${e.line} ${e.text}`), truncated: evs.length === maxLines };
  }
  const { line: startLine, offset } = store.lineOffset(a.id, fromLine);
  const dec = new TextDecoder('utf-8', { fatal: false });
  const lines: string[] = [];
  let cur = startLine;
  let carry = '';
  let pos = offset;
  const step = 256 * 1024;
  let truncated = false;
  outer: while (pos < a.size) {
    const buf = store.readArtifactRange(a.id, pos, step);
    if (buf.length === 0) break;
    pos += buf.length;
    const text = carry + dec.decode(buf, { stream: pos < a.size });
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts) {
      if (cur >= fromLine) {
        lines.push(p.endsWith('\r') ? p.slice(0, -1) : p);
        if (lines.length >= maxLines) {
          truncated = true;
          break outer;
        }
      }
      cur++;
    }
  }
  if (!truncated && carry.length > 0 && cur >= fromLine) lines.push(carry);
  return { fromLine, lines, truncated };
}

// ---- timeline ----------------------------------------------------------------------------------
const LEVEL_RANK: Record<string, number> = { emerg: 7, alert: 6, crit: 5, err: 4, warn: 3, notice: 2, info: 1, debug: 0 };
const RANK_LEVEL = Object.fromEntries(Object.entries(LEVEL_RANK).map(([k, v]) => [v, k]));

function laneName(host: HostRow | undefined, kind: string): string {
  return `${host?.name ?? 'imported'}/${kind}`;
}

export function timelineRange(store: Store, caseId: number, corrected: boolean) {
  const hosts = new Map(store.listHosts(caseId).map((h) => [h.id, h]));
  // From the per-artifact lane summaries written at ingest: a few rows, whatever the number of events.
  const rows = store.db
    .prepare(
      `SELECT a.host_id, l.kind, sum(l.timed) AS n, min(l.min_ts) AS lo, max(l.max_ts) AS hi
       FROM artifact_lanes l JOIN artifacts a ON a.id = l.artifact_id
       WHERE a.case_id = ? AND l.timed > 0 GROUP BY a.host_id, l.kind ORDER BY a.host_id, l.kind`,
    )
    .safeIntegers(true)
    .all(caseId) as { host_id: bigint | null; kind: string; n: bigint; lo: bigint; hi: bigint }[];
  let lo: bigint | undefined;
  let hi: bigint | undefined;
  const lanes = rows.map((r) => {
    const host = r.host_id === null ? undefined : hosts.get(Number(r.host_id));
    const off = corrected ? hostCorrectionNs(host) : 0n;
    const a = r.lo - off;
    const b = r.hi - off;
    if (lo === undefined || a < lo) lo = a;
    if (hi === undefined || b > hi) hi = b;
    return strip({ lane: laneName(host, r.kind), hostId: host?.id, count: Number(r.n) });
  });
  return strip({ startNs: s(lo), endNs: s(hi === undefined ? undefined : hi + 1n), lanes });
}

/**
 * Aggregate the events of [start, end) into `buckets` columns per lane, in SQL (covering index on
 * case, host, time, kind, level): never ship raw rows. A bucket holding one event carries its id and text,
 * fetched by id afterwards so the aggregate itself never touches the text column.
 */
export function timelineBuckets(store: Store, caseId: number, start: bigint, end: bigint, buckets: number, corrected: boolean) {
  if (end <= start) return [];
  const hosts = store.listHosts(caseId);
  const width = (end - start + BigInt(buckets) - 1n) / BigInt(buckets) || 1n;
  const out: { lane: string; hostId?: number; startNs: string; endNs: string; count: number; maxLevel?: string; eventId?: number; text?: string }[] = [];
  const levelCase = `CASE level ${Object.entries(LEVEL_RANK).map(([k, v]) => `WHEN '${k}' THEN ${v}`).join(' ')} ELSE -1 END`;
  const stmt = store.db
    .prepare(
      `SELECT kind, (ts_ns - @off - @start) / @width AS b, count(*) AS n, min(id) AS first_id, max(${levelCase}) AS lvl
       FROM events WHERE case_id = @case AND host_id IS @host AND ts_ns >= @lo AND ts_ns < @hi
       GROUP BY kind, b ORDER BY kind, b`,
    )
    .safeIntegers(true);
  // Buckets of 1.6 s or more are summed from the 100 ms bins written at ingest (a bin is counted in the bucket
  // its start falls in: at most 1/16 of a bucket at each edge can shift to its neighbour); narrower buckets are
  // counted from the events themselves, exactly.
  const useBins = width >= BIN_NS * 16n;
  const binStmt = store.db
    .prepare(
      `SELECT kind, (bin * ${BIN_NS} - @off - @start) / @width AS b, sum(n) AS n, min(min_id) AS first_id, max(max_lvl) AS lvl
       FROM event_bins WHERE case_id = @case AND host_id IS @host AND bin >= @blo AND bin < @bhi
       GROUP BY kind, b ORDER BY kind, b`,
    )
    .safeIntegers(true);
  const groups: (HostRow | undefined)[] = [...hosts, undefined];
  for (const h of groups) {
    const off = corrected ? hostCorrectionNs(h) : 0n;
    const rows = (
      useBins
        ? binStmt.all({ off, start, width, case: caseId, host: h?.id ?? null, blo: (start + off) / BIN_NS, bhi: (end + off + BIN_NS - 1n) / BIN_NS })
        : stmt.all({ off, start, width, case: caseId, host: h?.id ?? null, lo: start + off, hi: end + off })
    ) as { kind: string; b: bigint; n: bigint; first_id: bigint; lvl: bigint }[];
    // An edge bin that starts just outside the window belongs to the nearest bucket; merge what lands together.
    const merged = new Map<string, { kind: string; b: bigint; n: number; firstId: number; lvl: number }>();
    for (const r of rows) {
      const b = r.b < 0n ? 0n : r.b >= BigInt(buckets) ? BigInt(buckets) - 1n : r.b;
      const key = `${r.kind}\u0000${b}`;
      const m = merged.get(key);
      if (m) {
        m.n += Number(r.n);
        m.firstId = Math.min(m.firstId, Number(r.first_id));
        m.lvl = Math.max(m.lvl, Number(r.lvl));
      } else merged.set(key, { kind: r.kind, b, n: Number(r.n), firstId: Number(r.first_id), lvl: Number(r.lvl) });
    }
    for (const r of merged.values()) {
      const bs = start + r.b * width;
      out.push(
        strip({
          lane: laneName(h, r.kind),
          hostId: h?.id,
          startNs: bs.toString(),
          endNs: (bs + width).toString(),
          count: r.n,
          maxLevel: r.lvl >= 0 ? RANK_LEVEL[r.lvl] : undefined,
          eventId: r.n === 1 ? r.firstId : undefined,
        }),
      );
    }
  }
  const single = out.filter((b) => b.eventId !== undefined).map((b) => b.eventId!);
  if (single.length > 0) {
    const texts = new Map<number, string>();
    const get = store.db.prepare('SELECT id, text FROM events WHERE id IN (SELECT value FROM json_each(?))');
    for (let i = 0; i < single.length; i += 5000) {
      for (const r of get.all(JSON.stringify(single.slice(i, i + 5000))) as { id: number; text: string }[]) texts.set(r.id, r.text);
    }
    for (const b of out) if (b.eventId !== undefined) b.text = texts.get(b.eventId);
  }
  return out;
}

/** Events sharing a pid, XID, file handle or lock owner with the selected one. */
export function relatedEvents(store: Store, caseId: number, eventId: number) {
  const e = store.getEvent(eventId);
  if (!e || e.caseId !== caseId) throw new ApiError(`event ${eventId} is not in case ${caseId}`, 'not-found');
  const keys: string[] = [];
  const ids = new Set<number>();
  const add = (sql: string, ...args: unknown[]) => {
    for (const r of store.db.prepare(sql).all(...args) as { id: number }[]) if (r.id !== eventId) ids.add(r.id);
  };
  if (e.pid !== undefined) {
    keys.push(`pid ${e.pid}`);
    add('SELECT id FROM events WHERE case_id = ? AND host_id IS ? AND pid = ? LIMIT 2000', caseId, e.hostId ?? null, e.pid);
  }
  const d = e.data as Record<string, unknown>;
  if (typeof d.xid === 'number' || typeof d.xid === 'string') {
    keys.push(`xid ${String(d.xid)}`);
    add("SELECT id FROM events WHERE case_id = ? AND kind = 'rpc' AND json_extract(data_json, '$.xid') = ? LIMIT 2000", caseId, d.xid);
  }
  const detail = (d.detail ?? {}) as Record<string, unknown>;
  const fh = typeof detail.fh === 'string' ? detail.fh : typeof d.fh === 'string' ? d.fh : undefined;
  if (fh) {
    keys.push(`file handle ${fh.slice(0, 16)}…`);
    add("SELECT id FROM events WHERE case_id = ? AND (json_extract(data_json, '$.detail.fh') = ? OR json_extract(data_json, '$.fh') = ?) LIMIT 2000", caseId, fh, fh);
  }
  const owner = typeof detail.owner === 'string' ? detail.owner : undefined;
  if (owner) {
    keys.push(`lock owner ${owner.slice(0, 24)}`);
    add("SELECT id FROM events WHERE case_id = ? AND json_extract(data_json, '$.detail.owner') = ? LIMIT 2000", caseId, owner);
  }
  return { eventIds: [...ids].slice(0, 5000), keys };
}

// ---- search ------------------------------------------------------------------------------------
/** Turn what a person types into a safe FTS5 query: every word is a quoted term; the last one is a prefix. */
export function ftsQuery(q: string): string | undefined {
  const words = q.match(/[\p{L}\p{N}_]+/gu);
  if (!words || words.length === 0) return undefined;
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

export function searchCase(store: Store, q: ParsedInput<'search'>) {
  const fts = ftsQuery(q.query);
  if (!fts) return [];
  const where = ['e.case_id = ?'];
  const args: unknown[] = [fts, q.caseId];
  if (q.hostIds?.length) (where.push(`e.host_id IN (${q.hostIds.map(() => '?').join(',')})`), args.push(...q.hostIds));
  if (q.kinds?.length) (where.push(`e.kind IN (${q.kinds.map(() => '?').join(',')})`), args.push(...q.kinds));
  // Unary + keeps SQLite from driving the query by the time index and testing the MATCH row by row: the
  // full-text index narrows first, the time bounds filter what it found.
  if (q.fromNs !== undefined) (where.push('+e.ts_ns >= ?'), args.push(BigInt(q.fromNs)));
  if (q.toNs !== undefined) (where.push('+e.ts_ns < ?'), args.push(BigInt(q.toNs)));
  args.push(q.limit);
  const evs = store.db
    .prepare(
      `SELECT e.id, e.artifact_id, e.host_id, e.kind, e.ts_ns, e.line, snippet(events_fts, 0, '[', ']', '…', 16) AS snip
       FROM events_fts JOIN events e ON e.id = events_fts.rowid
       WHERE events_fts MATCH ? AND ${where.join(' AND ')} ORDER BY events_fts.rowid LIMIT ?`,
    )
    .safeIntegers(true)
    .all(...args) as Record<string, unknown>[];
  // The full-text index is read in its own order and stops at the limit (a common word in 1M events is not
  // sorted whole); the hits found are then shown in time order.
  evs.sort((a, b) => (a.ts_ns === null ? 1 : b.ts_ns === null ? -1 : (a.ts_ns as bigint) < (b.ts_ns as bigint) ? -1 : (a.ts_ns as bigint) > (b.ts_ns as bigint) ? 1 : 0));
  const hits = evs.map((r) =>
    strip({ type: 'event' as 'event' | 'artifact', id: Number(r.id), artifactId: Number(r.artifact_id), hostId: r.host_id === null ? undefined : Number(r.host_id), kind: String(r.kind), tsNs: r.ts_ns === null ? undefined : String(r.ts_ns), line: r.line === null ? undefined : Number(r.line), snippet: String(r.snip) }),
  );
  if (!q.kinds?.length && q.fromNs === undefined && q.toNs === undefined) {
    const arts = store.db
      .prepare(
        `SELECT a.id, a.host_id, a.kind, snippet(artifacts_fts, 1, '[', ']', '…', 16) AS snip FROM artifacts_fts JOIN artifacts a ON a.id = artifacts_fts.rowid
         WHERE artifacts_fts MATCH ? AND a.case_id = ? ${q.hostIds?.length ? `AND a.host_id IN (${q.hostIds.map(() => '?').join(',')})` : ''} LIMIT 50`,
      )
      .all(fts, q.caseId, ...(q.hostIds ?? [])) as Record<string, unknown>[];
    for (const r of arts) hits.push(strip({ type: 'artifact' as 'event' | 'artifact', id: Number(r.id), artifactId: Number(r.id), hostId: r.host_id === null ? undefined : Number(r.host_id), kind: String(r.kind), tsNs: undefined as string | undefined, line: undefined as number | undefined, snippet: String(r.snip) }));
  }
  return hits;
}
