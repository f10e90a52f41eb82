import { createHash } from 'node:crypto';
import type { Db } from './db';
import type { ParsedEvent } from '../../shared/model/event';

/**
 * Typed access to the case store. Every method is synchronous (better-sqlite3); callers that
 * need to stay responsive run ingest in a worker with its own connection.
 */

const now = (): bigint => BigInt(Date.now()) * 1_000_000n;

export interface CaseRow {
  readonly id: number;
  readonly name: string;
  readonly title: string;
  readonly createdNs: bigint;
  readonly readOnly: boolean;
  readonly importedFrom?: string | undefined;
}

export interface HostRow {
  readonly id: number;
  readonly caseId: number;
  readonly name: string;
  readonly destination: string;
  readonly hostname?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  readonly jumpChain: readonly string[];
  readonly hostKeyType?: string | undefined;
  readonly hostKeyFingerprint?: string | undefined;
  readonly clockOffsetNs?: bigint | undefined;
  readonly clockUncertaintyNs?: bigint | undefined;
  readonly clockMeasuredNs?: bigint | undefined;
  readonly bootTimeNs?: bigint | undefined;
  readonly clockAdjustNs: bigint;
}

export interface RunRow {
  readonly id: number;
  readonly caseId: number;
  readonly playbookId: string;
  readonly playbookSha256?: string | undefined;
  readonly params: Readonly<Record<string, unknown>>;
  readonly hostIds: readonly number[];
  readonly status: string;
  readonly headless: boolean;
  readonly startedNs: bigint;
  readonly endedNs?: bigint | undefined;
}

export type StepStatus =
  | 'pending'
  | 'running'
  | 'ok'
  | 'failed'
  | 'timed-out'
  | 'cancelled'
  | 'needs-root'
  | 'connection-lost'
  | 'skipped';

export interface StepRow {
  readonly id: number;
  readonly runId?: number | undefined;
  readonly caseId: number;
  readonly hostId?: number | undefined;
  readonly stepKey: string;
  readonly title: string;
  readonly isRestore: boolean;
  readonly intrusive: boolean;
  readonly command: string;
  readonly display: string;
  readonly status: StepStatus;
  readonly exitCode?: number | undefined;
  readonly signal?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly startedNs?: bigint | undefined;
  readonly endedNs?: bigint | undefined;
  readonly stuck?: unknown;
  readonly error?: string | undefined;
}

export interface ArtifactRow {
  readonly id: number;
  readonly caseId: number;
  readonly hostId?: number | undefined;
  readonly stepId?: number | undefined;
  readonly name: string;
  readonly stream: string;
  readonly kind: string;
  readonly source: string;
  readonly argv?: readonly string[] | string | undefined;
  readonly exitCode?: number | undefined;
  readonly startedNs?: bigint | undefined;
  readonly endedNs?: bigint | undefined;
  readonly clockOffsetNs?: bigint | undefined;
  readonly clockUncertaintyNs?: bigint | undefined;
  readonly bootTimeNs?: bigint | undefined;
  readonly size: number;
  readonly sha256?: string | undefined;
  readonly complete: boolean;
  readonly isText: boolean;
  readonly invalidUtf8: number;
  readonly lineCount?: number | undefined;
  readonly parseStatus: string;
  readonly parseWarnings: readonly string[];
  readonly eventCount: number;
}

export interface EventRow {
  readonly id: number;
  readonly caseId: number;
  readonly artifactId: number;
  readonly hostId?: number | undefined;
  readonly kind: string;
  readonly tsNs?: bigint | undefined;
  readonly tsRaw?: string | undefined;
  readonly clock: string;
  readonly durationNs?: bigint | undefined;
  readonly line?: number | undefined;
  readonly endLine?: number | undefined;
  readonly pid?: number | undefined;
  readonly level?: string | undefined;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface FindingRow {
  readonly id: number;
  readonly caseId: number;
  readonly rule: string;
  readonly title: string;
  readonly severity: string;
  readonly explanation: string;
  readonly next?: string | undefined;
  readonly hostId?: number | undefined;
  readonly firstNs?: bigint | undefined;
  readonly lastNs?: bigint | undefined;
  readonly evidence: readonly unknown[];
  readonly createdNs: bigint;
}

export type AnnotationMarker = 'detection' | 'diagnosis' | 'repair' | 'key-moment';
export interface AnnotationRow {
  readonly id: number;
  readonly caseId: number;
  readonly target: 'event' | 'range' | 'artifact-line' | 'case';
  readonly eventId?: number | undefined;
  readonly artifactId?: number | undefined;
  readonly line?: number | undefined;
  readonly startNs?: bigint | undefined;
  readonly endNs?: bigint | undefined;
  readonly body: string;
  readonly marker?: AnnotationMarker | undefined;
  readonly starred: boolean;
  readonly author: string;
  readonly createdNs: bigint;
  readonly updatedNs: bigint;
  readonly history: readonly { body: string; marker?: string | undefined; starred: boolean; editedNs: bigint }[];
}

type Raw = Record<string, unknown>;
const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
const big = (v: unknown): bigint | undefined => (v === null || v === undefined ? undefined : BigInt(v as number | bigint));
const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const jsonOr = <T>(v: unknown, fallback: T): T => {
  if (typeof v !== 'string' || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
};

/** JSON for event data: bigints become decimal strings so nothing is lost. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

const CHUNK = 1 << 20;
const LINE_INDEX_EVERY = 1024;

export class Store {
  constructor(readonly db: Db) {}

  // ---- cases ---------------------------------------------------------------------------------
  createCase(name: string, title = ''): CaseRow {
    const trimmed = name.trim();
    if (!/^[\w.@-][\w .@-]{0,127}$/u.test(trimmed)) {
      throw new Error(`invalid case name ${JSON.stringify(name)}: use letters, digits, space, . _ - @ (max 128)`);
    }
    const r = this.db
      .prepare('INSERT INTO cases (name, title, created_ns) VALUES (?, ?, ?)')
      .run(trimmed, title, now());
    return this.getCase(Number(r.lastInsertRowid))!;
  }

  ensureCase(name: string): CaseRow {
    return this.findCase(name) ?? this.createCase(name, name);
  }

  getCase(id: number): CaseRow | undefined {
    const r = this.db.prepare('SELECT * FROM cases WHERE id = ?').safeIntegers(true).get(id) as Raw | undefined;
    return r && caseRow(r);
  }

  findCase(nameOrId: string): CaseRow | undefined {
    const r = this.db.prepare('SELECT * FROM cases WHERE name = ?').safeIntegers(true).get(nameOrId) as Raw | undefined;
    if (r) return caseRow(r);
    if (/^\d+$/.test(nameOrId)) return this.getCase(Number(nameOrId));
    return undefined;
  }

  listCases(): (CaseRow & { hostCount: number; artifactCount: number; eventCount: number; findingCount: number; lastNs?: bigint | undefined })[] {
    const rows = this.db
      .prepare(
        `SELECT c.*,
          (SELECT count(*) FROM hosts h WHERE h.case_id = c.id) AS host_count,
          (SELECT count(*) FROM artifacts a WHERE a.case_id = c.id) AS artifact_count,
          (SELECT coalesce(sum(event_count), 0) FROM artifacts a WHERE a.case_id = c.id) AS event_count,
          (SELECT count(*) FROM findings f WHERE f.case_id = c.id) AS finding_count,
          (SELECT max(coalesce(ended_ns, started_ns)) FROM runs r WHERE r.case_id = c.id) AS last_ns
         FROM cases c ORDER BY c.created_ns DESC`,
      )
      .safeIntegers(true)
      .all() as Raw[];
    return rows.map((r) => ({
      ...caseRow(r),
      hostCount: Number(r.host_count),
      artifactCount: Number(r.artifact_count),
      eventCount: Number(r.event_count),
      findingCount: Number(r.finding_count),
      lastNs: big(r.last_ns),
    }));
  }

  // ---- hosts ---------------------------------------------------------------------------------
  upsertHost(caseId: number, h: { name: string; destination?: string; hostname?: string; port?: number; user?: string; jumpChain?: readonly string[] }): HostRow {
    const existing = this.db.prepare('SELECT id FROM hosts WHERE case_id = ? AND name = ?').get(caseId, h.name) as { id: number } | undefined;
    if (existing) {
      this.db
        .prepare(
          `UPDATE hosts SET destination = coalesce(?, destination), hostname = coalesce(?, hostname), port = coalesce(?, port),
           user = coalesce(?, user), jump_chain = coalesce(?, jump_chain) WHERE id = ?`,
        )
        .run(h.destination ?? null, h.hostname ?? null, h.port ?? null, h.user ?? null, h.jumpChain ? JSON.stringify(h.jumpChain) : null, existing.id);
      return this.getHost(existing.id)!;
    }
    const r = this.db
      .prepare('INSERT INTO hosts (case_id, name, destination, hostname, port, user, jump_chain) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(caseId, h.name, h.destination ?? h.name, h.hostname ?? null, h.port ?? null, h.user ?? null, JSON.stringify(h.jumpChain ?? []));
    return this.getHost(Number(r.lastInsertRowid))!;
  }

  /** Rename a host or point it at another destination; its evidence stays attached to it. */
  updateHost(hostId: number, u: { name?: string; destination?: string; hostname?: string; port?: number; user?: string; jumpChain?: readonly string[] }): HostRow {
    const cur = this.getHost(hostId);
    if (!cur) throw new Error(`host ${hostId} not found`);
    if (u.name !== undefined && u.name !== cur.name) {
      const clash = this.db.prepare('SELECT id FROM hosts WHERE case_id = ? AND name = ?').get(cur.caseId, u.name);
      if (clash) throw new Error(`a host named ${JSON.stringify(u.name)} already exists in this case`);
    }
    this.db
      .prepare('UPDATE hosts SET name = coalesce(?, name), destination = coalesce(?, destination), hostname = coalesce(?, hostname), port = coalesce(?, port), user = coalesce(?, user), jump_chain = coalesce(?, jump_chain) WHERE id = ?')
      .run(u.name ?? null, u.destination ?? null, u.hostname ?? null, u.port ?? null, u.user ?? null, u.jumpChain ? JSON.stringify(u.jumpChain) : null, hostId);
    return this.getHost(hostId)!;
  }

  recordHostConnection(
    hostId: number,
    c: { hostKeyType?: string; hostKeyFingerprint?: string; clockOffsetNs?: bigint; clockUncertaintyNs?: bigint; clockMeasuredNs?: bigint; bootTimeNs?: bigint; hostname?: string; port?: number; user?: string; jumpChain?: readonly string[] },
  ): void {
    this.db
      .prepare(
        `UPDATE hosts SET host_key_type = coalesce(?, host_key_type), host_key_fp = coalesce(?, host_key_fp),
         clock_offset_ns = coalesce(?, clock_offset_ns), clock_uncertainty_ns = coalesce(?, clock_uncertainty_ns),
         clock_measured_ns = coalesce(?, clock_measured_ns), boot_time_ns = coalesce(?, boot_time_ns),
         hostname = coalesce(?, hostname), port = coalesce(?, port), user = coalesce(?, user), jump_chain = coalesce(?, jump_chain)
         WHERE id = ?`,
      )
      .run(
        c.hostKeyType ?? null,
        c.hostKeyFingerprint ?? null,
        c.clockOffsetNs ?? null,
        c.clockUncertaintyNs ?? null,
        c.clockMeasuredNs ?? null,
        c.bootTimeNs ?? null,
        c.hostname ?? null,
        c.port ?? null,
        c.user ?? null,
        c.jumpChain ? JSON.stringify(c.jumpChain) : null,
        hostId,
      );
  }

  setClockAdjust(hostId: number, adjustNs: bigint): void {
    this.db.prepare('UPDATE hosts SET clock_adjust_ns = ? WHERE id = ?').run(adjustNs, hostId);
  }

  getHost(id: number): HostRow | undefined {
    const r = this.db.prepare('SELECT * FROM hosts WHERE id = ?').safeIntegers(true).get(id) as Raw | undefined;
    return r && hostRow(r);
  }

  listHosts(caseId: number): HostRow[] {
    return (this.db.prepare('SELECT * FROM hosts WHERE case_id = ? ORDER BY id').safeIntegers(true).all(caseId) as Raw[]).map(hostRow);
  }

  // ---- runs and steps ------------------------------------------------------------------------
  createRun(r: { caseId: number; playbookId: string; playbookSha256?: string; params: Record<string, unknown>; hostIds: readonly number[]; headless: boolean }): RunRow {
    const res = this.db
      .prepare('INSERT INTO runs (case_id, playbook_id, playbook_sha256, params_json, host_ids_json, status, headless, started_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.caseId, r.playbookId, r.playbookSha256 ?? null, JSON.stringify(r.params), JSON.stringify(r.hostIds), 'running', r.headless ? 1 : 0, now());
    return this.getRun(Number(res.lastInsertRowid))!;
  }

  finishRun(id: number, status: 'done' | 'failed' | 'cancelled'): void {
    this.db.prepare('UPDATE runs SET status = ?, ended_ns = ? WHERE id = ? AND ended_ns IS NULL').run(status, now(), id);
  }

  getRun(id: number): RunRow | undefined {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').safeIntegers(true).get(id) as Raw | undefined;
    return r && runRow(r);
  }

  listRuns(caseId: number): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs WHERE case_id = ? ORDER BY id').safeIntegers(true).all(caseId) as Raw[]).map(runRow);
  }

  createStep(s: { runId?: number; caseId: number; hostId?: number; stepKey: string; title: string; isRestore?: boolean; intrusive?: boolean; command: string; display?: string; timeoutMs?: number; status?: StepStatus }): StepRow {
    const res = this.db
      .prepare(
        `INSERT INTO steps (run_id, case_id, host_id, step_key, title, is_restore, intrusive, command, display, status, timeout_ms, started_ns)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.runId ?? null,
        s.caseId,
        s.hostId ?? null,
        s.stepKey,
        s.title,
        s.isRestore ? 1 : 0,
        s.intrusive ? 1 : 0,
        s.command,
        s.display ?? s.command,
        s.status ?? 'running',
        s.timeoutMs ?? null,
        now(),
      );
    return this.getStep(Number(res.lastInsertRowid))!;
  }

  finishStep(id: number, r: { status: StepStatus; exitCode?: number; signal?: string; startedNs?: bigint; endedNs?: bigint; stuck?: unknown; error?: string; command?: string }): void {
    this.db
      .prepare(
        `UPDATE steps SET status = ?, exit_code = ?, signal = ?, started_ns = coalesce(?, started_ns), ended_ns = ?, stuck_json = ?, error = ?,
         command = coalesce(?, command) WHERE id = ?`,
      )
      .run(
        r.status,
        r.exitCode ?? null,
        r.signal ?? null,
        r.startedNs ?? null,
        r.endedNs ?? now(),
        r.stuck === undefined ? null : toJson(r.stuck),
        r.error ?? null,
        r.command ?? null,
        id,
      );
  }

  getStep(id: number): StepRow | undefined {
    const r = this.db.prepare('SELECT * FROM steps WHERE id = ?').safeIntegers(true).get(id) as Raw | undefined;
    return r && stepRow(r);
  }

  listSteps(caseId: number, runId?: number): StepRow[] {
    const rows = (runId === undefined
      ? this.db.prepare('SELECT * FROM steps WHERE case_id = ? ORDER BY id').safeIntegers(true).all(caseId)
      : this.db.prepare('SELECT * FROM steps WHERE case_id = ? AND run_id = ? ORDER BY id').safeIntegers(true).all(caseId, runId)) as Raw[];
    return rows.map(stepRow);
  }

  // ---- artifacts -----------------------------------------------------------------------------
  /**
   * Start an artifact whose bytes arrive in pieces (a command's stdout, a capture, an import).
   * Bytes are written in 1 MiB chunks as they come; the hash and line index are built on the way.
   */
  beginArtifact(meta: {
    caseId: number;
    hostId?: number;
    stepId?: number;
    name: string;
    stream?: 'stdout' | 'stderr' | 'file';
    kind: string;
    source: 'ssh' | 'import';
    argv?: readonly string[] | string;
    startedNs?: bigint;
    clockOffsetNs?: bigint;
    clockUncertaintyNs?: bigint;
    bootTimeNs?: bigint;
  }): ArtifactWriter {
    const res = this.db
      .prepare(
        `INSERT INTO artifacts (case_id, host_id, step_id, name, stream, kind, source, argv_json, started_ns, clock_offset_ns, clock_uncertainty_ns, boot_time_ns)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        meta.caseId,
        meta.hostId ?? null,
        meta.stepId ?? null,
        meta.name,
        meta.stream ?? 'file',
        meta.kind,
        meta.source,
        meta.argv === undefined ? null : JSON.stringify(meta.argv),
        meta.startedNs ?? now(),
        meta.clockOffsetNs ?? null,
        meta.clockUncertaintyNs ?? null,
        meta.bootTimeNs ?? null,
      );
    return new ArtifactWriter(this.db, Number(res.lastInsertRowid));
  }

  /** Convenience: store a whole buffer as one artifact. */
  putArtifact(meta: Parameters<Store['beginArtifact']>[0], bytes: Uint8Array, fin: { exitCode?: number; endedNs?: bigint } = {}): number {
    const w = this.beginArtifact(meta);
    w.write(bytes);
    return w.finish(fin);
  }

  setArtifactKind(id: number, kind: string): void {
    this.db.prepare('UPDATE artifacts SET kind = ? WHERE id = ?').run(kind, id);
  }

  getArtifact(id: number): ArtifactRow | undefined {
    const r = this.db.prepare('SELECT * FROM artifacts WHERE id = ?').safeIntegers(true).get(id) as Raw | undefined;
    return r && artifactRow(r);
  }

  listArtifacts(caseId: number): ArtifactRow[] {
    return (this.db.prepare('SELECT * FROM artifacts WHERE case_id = ? ORDER BY id').safeIntegers(true).all(caseId) as Raw[]).map(artifactRow);
  }

  /** Iterate an artifact's bytes chunk by chunk (never the whole thing at once). */
  *artifactChunks(id: number): Generator<Buffer> {
    const stmt = this.db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? AND seq = ?').pluck();
    for (let seq = 0; ; seq++) {
      const b = stmt.get(id, seq) as Buffer | undefined;
      if (!b) return;
      yield b;
    }
  }

  readArtifact(id: number, maxBytes = Number.MAX_SAFE_INTEGER): Buffer {
    const parts: Buffer[] = [];
    let n = 0;
    for (const c of this.artifactChunks(id)) {
      parts.push(c);
      n += c.length;
      if (n >= maxBytes) break;
    }
    const all = Buffer.concat(parts);
    return all.length > maxBytes ? all.subarray(0, maxBytes) : all;
  }

  /** Read a byte range (for viewers that page through large artifacts). */
  readArtifactRange(id: number, offset: number, length: number): Buffer {
    const first = Math.floor(offset / CHUNK);
    const last = Math.floor((offset + Math.max(0, length - 1)) / CHUNK);
    const stmt = this.db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? AND seq = ?').pluck();
    const parts: Buffer[] = [];
    for (let s = first; s <= last; s++) {
      const b = stmt.get(id, s) as Buffer | undefined;
      if (!b) break;
      parts.push(b);
    }
    const joined = Buffer.concat(parts);
    const start = offset - first * CHUNK;
    return joined.subarray(start, start + length);
  }

  /** Byte offset where 1-based `line` starts, using the sparse line index. */
  lineOffset(id: number, line: number): { line: number; offset: number } {
    const r = this.db
      .prepare('SELECT line, offset FROM artifact_lines WHERE artifact_id = ? AND line <= ? ORDER BY line DESC LIMIT 1')
      .get(id, line) as { line: number; offset: number } | undefined;
    return r ?? { line: 1, offset: 0 };
  }

  // ---- events (one transaction per artifact ingest) ------------------------------------------
  /**
   * Replace an artifact's events in ONE transaction: either all of them are stored with the new
   * parse status, or none (a crash rolls back; the artifact keeps its previous state).
   */
  ingestEvents(
    artifactId: number,
    produce: (insert: (e: ParsedEvent) => void) => { warnings: readonly string[]; failed?: boolean },
    opts: { ftsBody?: string } = {},
  ): { eventCount: number; warnings: readonly string[] } {
    const art = this.getArtifact(artifactId);
    if (!art) throw new Error(`artifact ${artifactId} not found`);
    const ins = this.db.prepare(
      `INSERT INTO events (case_id, artifact_id, host_id, kind, ts_ns, ts_raw, clock, duration_ns, line, end_line, pid, level, text, data_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const run = this.db.transaction(() => {
      this.db.prepare('DELETE FROM events WHERE artifact_id = ?').run(artifactId);
      this.db.prepare('DELETE FROM artifact_lanes WHERE artifact_id = ?').run(artifactId);
      let count = 0;
      const lanes = new Map<string, { count: number; timed: number; min?: bigint; max?: bigint }>();
      const out = produce((e) => {
        let l = lanes.get(e.kind);
        if (!l) lanes.set(e.kind, (l = { count: 0, timed: 0 }));
        l.count++;
        if (e.ts !== undefined) {
          l.timed++;
          if (l.min === undefined || e.ts < l.min) l.min = e.ts;
          if (l.max === undefined || e.ts > l.max) l.max = e.ts;
        }
        ins.run(
          art.caseId,
          artifactId,
          art.hostId ?? null,
          e.kind,
          e.ts ?? null,
          e.tsRaw ?? null,
          e.clock,
          e.durationNs ?? null,
          e.line ?? null,
          e.endLine ?? null,
          e.pid ?? null,
          e.level ?? null,
          e.text,
          toJson(e.data),
        );
        count++;
      });
      const insLane = this.db.prepare('INSERT INTO artifact_lanes (artifact_id, kind, count, timed, min_ts, max_ts) VALUES (?, ?, ?, ?, ?, ?)');
      for (const [kind, l] of lanes) insLane.run(artifactId, kind, l.count, l.timed, l.min ?? null, l.max ?? null);
      const status = out.failed ? 'failed' : out.warnings.length > 0 ? 'partial' : 'parsed';
      this.db
        .prepare('UPDATE artifacts SET parse_status = ?, parse_warnings = ?, event_count = ? WHERE id = ?')
        .run(status, JSON.stringify(out.warnings.slice(0, 200)), count, artifactId);
      this.db.prepare('DELETE FROM artifacts_fts WHERE rowid = ?').run(artifactId);
      if (opts.ftsBody !== undefined) {
        this.db.prepare('INSERT INTO artifacts_fts (rowid, name, body) VALUES (?, ?, ?)').run(artifactId, art.name, opts.ftsBody);
      }
      return { eventCount: count, warnings: out.warnings };
    });
    return run();
  }

  markUnparsed(artifactId: number, status: 'unparsed' | 'failed', warning?: string): void {
    this.db
      .prepare('UPDATE artifacts SET parse_status = ?, parse_warnings = ? WHERE id = ?')
      .run(status, JSON.stringify(warning ? [warning] : []), artifactId);
  }

  listEvents(
    caseId: number,
    f: {
      artifactId?: number;
      hostIds?: readonly number[];
      kinds?: readonly string[];
      fromNs?: bigint;
      toNs?: bigint;
      /** Per-host clock correction: fromNs/toNs are then corrected instants (ts_ns − offset of the event's host). */
      offsets?: ReadonlyMap<number | undefined, bigint>;
      limit?: number;
      offset?: number;
      ids?: readonly number[];
    } = {},
  ): EventRow[] {
    const where = ['case_id = ?'];
    const args: unknown[] = [caseId];
    if (f.artifactId !== undefined) (where.push('artifact_id = ?'), args.push(f.artifactId));
    if (f.hostIds?.length) (where.push(`host_id IN (${f.hostIds.map(() => '?').join(',')})`), args.push(...f.hostIds));
    if (f.kinds?.length) (where.push(`kind IN (${f.kinds.map(() => '?').join(',')})`), args.push(...f.kinds));
    if (f.ids?.length) (where.push(`id IN (${f.ids.map(() => '?').join(',')})`), args.push(...f.ids));
    if ((f.fromNs !== undefined || f.toNs !== undefined) && f.offsets && f.offsets.size > 0) {
      // A window in corrected time is a different raw window on each host.
      const parts: string[] = [];
      for (const [hostId, off] of f.offsets) {
        const conds = [hostId === undefined ? 'host_id IS NULL' : 'host_id = ?'];
        if (hostId !== undefined) args.push(hostId);
        if (f.fromNs !== undefined) (conds.push('ts_ns >= ?'), args.push(f.fromNs + off));
        if (f.toNs !== undefined) (conds.push('ts_ns < ?'), args.push(f.toNs + off));
        parts.push(`(${conds.join(' AND ')})`);
      }
      where.push(`(${parts.join(' OR ')})`);
    } else {
      if (f.fromNs !== undefined) (where.push('ts_ns >= ?'), args.push(f.fromNs));
      if (f.toNs !== undefined) (where.push('ts_ns < ?'), args.push(f.toNs));
    }
    const sql = `SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY ts_ns IS NULL, ts_ns, id LIMIT ? OFFSET ?`;
    args.push(f.limit ?? 1000, f.offset ?? 0);
    return (this.db.prepare(sql).safeIntegers(true).all(...args) as Raw[]).map(eventRow);
  }

  getEvent(id: number): EventRow | undefined {
    const r = this.db.prepare('SELECT * FROM events WHERE id = ?').safeIntegers(true).get(id) as Raw | undefined;
    return r && eventRow(r);
  }

  // ---- findings ------------------------------------------------------------------------------
  replaceFindings(caseId: number, findings: readonly Omit<FindingRow, 'id' | 'caseId' | 'createdNs'>[]): void {
    const ins = this.db.prepare(
      `INSERT INTO findings (case_id, rule, title, severity, explanation, next, host_id, first_ns, last_ns, evidence_json, created_ns)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM findings WHERE case_id = ?').run(caseId);
      const t = now();
      for (const f of findings) {
        ins.run(caseId, f.rule, f.title, f.severity, f.explanation, f.next ?? null, f.hostId ?? null, f.firstNs ?? null, f.lastNs ?? null, toJson(f.evidence), t);
      }
    })();
  }

  listFindings(caseId: number): FindingRow[] {
    return (this.db.prepare('SELECT * FROM findings WHERE case_id = ? ORDER BY id').safeIntegers(true).all(caseId) as Raw[]).map(findingRow);
  }

  // ---- annotations ---------------------------------------------------------------------------
  addAnnotation(a: {
    caseId: number;
    target: AnnotationRow['target'];
    eventId?: number;
    artifactId?: number;
    line?: number;
    startNs?: bigint;
    endNs?: bigint;
    body: string;
    marker?: AnnotationMarker;
    starred?: boolean;
    author?: string;
  }): AnnotationRow {
    let startNs = a.startNs;
    if (a.target === 'event' && a.eventId !== undefined && startNs === undefined) {
      const ev = this.getEvent(a.eventId);
      if (!ev || ev.caseId !== a.caseId) throw new Error(`event ${a.eventId} is not in case ${a.caseId}`);
      startNs = ev.tsNs;
    }
    const t = now();
    const r = this.db
      .prepare(
        `INSERT INTO annotations (case_id, target, event_id, artifact_id, line, start_ns, end_ns, body, marker, starred, author, created_ns, updated_ns)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.caseId, a.target, a.eventId ?? null, a.artifactId ?? null, a.line ?? null, startNs ?? null, a.endNs ?? null, a.body, a.marker ?? null, a.starred ? 1 : 0, a.author ?? '', t, t);
    return this.getAnnotation(Number(r.lastInsertRowid))!;
  }

  /** Edit keeps the previous version in the history. */
  updateAnnotation(id: number, u: { body?: string; marker?: AnnotationMarker | null; starred?: boolean }): AnnotationRow {
    const cur = this.getAnnotation(id);
    if (!cur) throw new Error(`annotation ${id} not found`);
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO annotation_history (annotation_id, body, marker, starred, edited_ns) VALUES (?, ?, ?, ?, ?)')
        .run(id, cur.body, cur.marker ?? null, cur.starred ? 1 : 0, cur.updatedNs);
      this.db
        .prepare('UPDATE annotations SET body = ?, marker = ?, starred = ?, updated_ns = ? WHERE id = ?')
        .run(u.body ?? cur.body, u.marker === undefined ? (cur.marker ?? null) : u.marker, (u.starred ?? cur.starred) ? 1 : 0, now(), id);
    })();
    return this.getAnnotation(id)!;
  }

  getAnnotation(id: number): AnnotationRow | undefined {
    const r = this.db.prepare('SELECT * FROM annotations WHERE id = ?').safeIntegers(true).get(id) as Raw | undefined;
    if (!r) return undefined;
    const hist = this.db
      .prepare('SELECT * FROM annotation_history WHERE annotation_id = ? ORDER BY id')
      .safeIntegers(true)
      .all(id) as Raw[];
    return annotationRow(r, hist);
  }

  listAnnotations(caseId: number): AnnotationRow[] {
    const ids = this.db.prepare('SELECT id FROM annotations WHERE case_id = ? ORDER BY coalesce(start_ns, created_ns), id').pluck().all(caseId) as number[];
    return ids.map((id) => this.getAnnotation(id)!);
  }
}

/** Streams one artifact's bytes into the store: chunked, hashed, line-indexed. */
export class ArtifactWriter {
  private readonly hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private seq = 0;
  private size = 0;
  private lines = 0; // newlines seen
  private lastByte = -1;
  private invalidUtf8Possible = false;
  private binary = false;
  private done = false;
  private readonly insChunk;
  private readonly insLine;

  constructor(
    private readonly db: Db,
    readonly id: number,
  ) {
    this.insChunk = db.prepare('INSERT INTO artifact_chunks (artifact_id, seq, data) VALUES (?, ?, ?)');
    this.insLine = db.prepare('INSERT OR IGNORE INTO artifact_lines (artifact_id, line, offset) VALUES (?, ?, ?)');
    this.insLine.run(id, 1, 0);
  }

  get bytesWritten(): number {
    return this.size;
  }

  write(chunk: Uint8Array): void {
    if (this.done) throw new Error('artifact already finished');
    if (chunk.length === 0) return;
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.hash.update(b);
    // Line index: record the start offset of every LINE_INDEX_EVERY-th line.
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) {
      this.lines++;
      const lineNo = this.lines + 1;
      if (lineNo % LINE_INDEX_EVERY === 1) this.insLine.run(this.id, lineNo, this.size + i + 1);
    }
    if (!this.binary && b.includes(0)) this.binary = true;
    if (!this.invalidUtf8Possible) {
      for (let i = 0; i < b.length; i++) {
        if (b[i]! >= 0x80) {
          this.invalidUtf8Possible = true;
          break;
        }
      }
    }
    this.lastByte = b[b.length - 1]!;
    this.size += b.length;
    this.pending.push(Buffer.from(b)); // copy: callers may reuse their buffer
    this.pendingLen += b.length;
    while (this.pendingLen >= CHUNK) this.flushChunk(CHUNK);
  }

  private flushChunk(n: number): void {
    const all = Buffer.concat(this.pending, this.pendingLen);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.insChunk.run(this.id, this.seq++, out);
    this.pending = rest.length ? [Buffer.from(rest)] : [];
    this.pendingLen = rest.length;
  }

  finish(fin: { exitCode?: number; endedNs?: bigint; kind?: string } = {}): number {
    if (this.done) return this.id;
    if (this.pendingLen > 0) this.flushChunk(this.pendingLen);
    this.done = true;
    const lineCount = this.size === 0 ? 0 : this.lines + (this.lastByte === 10 ? 0 : 1);
    this.db
      .prepare(
        `UPDATE artifacts SET size = ?, sha256 = ?, complete = 1, exit_code = ?, ended_ns = ?, is_text = ?, line_count = ?, kind = coalesce(?, kind)
         WHERE id = ?`,
      )
      .run(this.size, this.hash.digest('hex'), fin.exitCode ?? null, fin.endedNs ?? now(), this.binary ? 0 : 1, lineCount, fin.kind ?? null, this.id);
    if (this.invalidUtf8Possible && !this.binary) this.checkUtf8();
    return this.id;
  }

  private checkUtf8(): void {
    // Decode chunk by chunk (streaming) and count replacement characters the viewer will show.
    const dec = new TextDecoder('utf-8', { fatal: false });
    let bad = 0;
    const stmt = this.db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? ORDER BY seq').pluck();
    for (const c of stmt.iterate(this.id) as IterableIterator<Buffer>) {
      const s = dec.decode(c, { stream: true });
      for (let i = s.indexOf('\uFFFD'); i !== -1; i = s.indexOf('\uFFFD', i + 1)) bad++;
    }
    const tail = dec.decode();
    if (tail.includes('\uFFFD')) bad++;
    this.db.prepare('UPDATE artifacts SET invalid_utf8 = ? WHERE id = ?').run(bad, this.id);
  }
}

// ---- row mapping (checked at runtime; unknown columns are ignored) -----------------------------
function caseRow(r: Raw): CaseRow {
  return { id: Number(r.id), name: String(r.name), title: String(r.title ?? ''), createdNs: BigInt(r.created_ns as bigint), readOnly: Number(r.read_only) === 1, importedFrom: opt<string>(r.imported_from) };
}
function hostRow(r: Raw): HostRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    name: String(r.name),
    destination: String(r.destination ?? ''),
    hostname: opt<string>(r.hostname),
    port: num(r.port),
    user: opt<string>(r.user),
    jumpChain: jsonOr<string[]>(r.jump_chain, []),
    hostKeyType: opt<string>(r.host_key_type),
    hostKeyFingerprint: opt<string>(r.host_key_fp),
    clockOffsetNs: big(r.clock_offset_ns),
    clockUncertaintyNs: big(r.clock_uncertainty_ns),
    clockMeasuredNs: big(r.clock_measured_ns),
    bootTimeNs: big(r.boot_time_ns),
    clockAdjustNs: big(r.clock_adjust_ns) ?? 0n,
  };
}
function runRow(r: Raw): RunRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    playbookId: String(r.playbook_id),
    playbookSha256: opt<string>(r.playbook_sha256),
    params: jsonOr<Record<string, unknown>>(r.params_json, {}),
    hostIds: jsonOr<number[]>(r.host_ids_json, []),
    status: String(r.status),
    headless: Number(r.headless) === 1,
    startedNs: BigInt(r.started_ns as bigint),
    endedNs: big(r.ended_ns),
  };
}
function stepRow(r: Raw): StepRow {
  return {
    id: Number(r.id),
    runId: num(r.run_id),
    caseId: Number(r.case_id),
    hostId: num(r.host_id),
    stepKey: String(r.step_key),
    title: String(r.title ?? ''),
    isRestore: Number(r.is_restore) === 1,
    intrusive: Number(r.intrusive) === 1,
    command: String(r.command),
    display: String(r.display ?? ''),
    status: String(r.status) as StepStatus,
    exitCode: num(r.exit_code),
    signal: opt<string>(r.signal),
    timeoutMs: num(r.timeout_ms),
    startedNs: big(r.started_ns),
    endedNs: big(r.ended_ns),
    stuck: jsonOr<unknown>(r.stuck_json, undefined),
    error: opt<string>(r.error),
  };
}
function artifactRow(r: Raw): ArtifactRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    hostId: num(r.host_id),
    stepId: num(r.step_id),
    name: String(r.name),
    stream: String(r.stream),
    kind: String(r.kind),
    source: String(r.source),
    argv: jsonOr<string[] | string | undefined>(r.argv_json, undefined),
    exitCode: num(r.exit_code),
    startedNs: big(r.started_ns),
    endedNs: big(r.ended_ns),
    clockOffsetNs: big(r.clock_offset_ns),
    clockUncertaintyNs: big(r.clock_uncertainty_ns),
    bootTimeNs: big(r.boot_time_ns),
    size: Number(r.size),
    sha256: opt<string>(r.sha256),
    complete: Number(r.complete) === 1,
    isText: Number(r.is_text) === 1,
    invalidUtf8: Number(r.invalid_utf8),
    lineCount: num(r.line_count),
    parseStatus: String(r.parse_status),
    parseWarnings: jsonOr<string[]>(r.parse_warnings, []),
    eventCount: Number(r.event_count),
  };
}
export function eventRow(r: Raw): EventRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    artifactId: Number(r.artifact_id),
    hostId: num(r.host_id),
    kind: String(r.kind),
    tsNs: big(r.ts_ns),
    tsRaw: opt<string>(r.ts_raw),
    clock: String(r.clock),
    durationNs: big(r.duration_ns),
    line: num(r.line),
    endLine: num(r.end_line),
    pid: num(r.pid),
    level: opt<string>(r.level),
    text: String(r.text),
    data: jsonOr<Record<string, unknown>>(r.data_json, {}),
  };
}
function findingRow(r: Raw): FindingRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    rule: String(r.rule),
    title: String(r.title),
    severity: String(r.severity),
    explanation: String(r.explanation ?? ''),
    next: opt<string>(r.next),
    hostId: num(r.host_id),
    firstNs: big(r.first_ns),
    lastNs: big(r.last_ns),
    evidence: jsonOr<unknown[]>(r.evidence_json, []),
    createdNs: BigInt(r.created_ns as bigint),
  };
}
function annotationRow(r: Raw, hist: Raw[]): AnnotationRow {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    target: String(r.target) as AnnotationRow['target'],
    eventId: num(r.event_id),
    artifactId: num(r.artifact_id),
    line: num(r.line),
    startNs: big(r.start_ns),
    endNs: big(r.end_ns),
    body: String(r.body),
    marker: opt<AnnotationMarker>(r.marker),
    starred: Number(r.starred) === 1,
    author: String(r.author ?? ''),
    createdNs: BigInt(r.created_ns as bigint),
    updatedNs: BigInt(r.updated_ns as bigint),
    history: hist.map((h) => ({ body: String(h.body), marker: opt<string>(h.marker), starred: Number(h.starred) === 1, editedNs: BigInt(h.edited_ns as bigint) })),
  };
}
