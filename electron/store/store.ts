import type { Db } from './db';
import type { ParsedEvent } from '../../shared/model/event';

/**
 * Typed access to the case store. Every method is synchronous (better-sqlite3); callers that
 * need to stay responsive run ingest in a worker with its own connection.
 */


import { ArtifactWriter, CHUNK } from './artifact-writer';
import { BIN_SELECT } from './migrations/005_event_bins';
import { currentOwner } from './owner';
import {
  annotationRow,
  artifactRow,
  big,
  caseRow,
  eventRow,
  findingRow,
  hostRow,
  runRow,
  stepRow,
  toJson,
  type AnnotationMarker,
  type AnnotationRow,
  type ArtifactRow,
  type CaseRow,
  type EventRow,
  type FindingRow,
  type HostRow,
  type Raw,
  type RunRow,
  type StepRow,
  type StepStatus,
} from './rows';

export * from './rows';
export { ArtifactWriter } from './artifact-writer';

const now = (): bigint => BigInt(Date.now()) * 1_000_000n;

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
  createRun(r: { caseId: number; playbookId: string; playbookSha256?: string; playbookYaml?: string; params: Record<string, unknown>; hostIds: readonly number[]; headless: boolean }): RunRow {
    const res = this.db
      .prepare('INSERT INTO runs (case_id, playbook_id, playbook_sha256, playbook_yaml, params_json, host_ids_json, status, headless, started_ns, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.caseId, r.playbookId, r.playbookSha256 ?? null, r.playbookYaml ?? null, JSON.stringify(r.params), JSON.stringify(r.hostIds), 'running', r.headless ? 1 : 0, now(), currentOwner());
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

  createStep(s: { runId?: number; caseId: number; hostId?: number; stepKey: string; title: string; isRestore?: boolean; intrusive?: boolean; command: string; display?: string; timeoutMs?: number; status?: StepStatus; restore?: string }): StepRow {
    const res = this.db
      .prepare(
        `INSERT INTO steps (run_id, case_id, host_id, step_key, title, is_restore, intrusive, command, display, status, timeout_ms, started_ns, restore, owner)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        s.restore ?? null,
        currentOwner(),
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
        `INSERT INTO artifacts (case_id, host_id, step_id, name, stream, kind, source, argv_json, started_ns, clock_offset_ns, clock_uncertainty_ns, boot_time_ns, owner)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        currentOwner(),
      );
    // Output streaming from a host is made durable every second, so a crash mid-step keeps what had arrived.
    return new ArtifactWriter(this.db, Number(res.lastInsertRowid), meta.source === 'ssh' ? { flushEveryMs: 1000 } : {});
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
   * `produce` hands events one by one to `insert`, or (a parser running in another thread) rows already laid
   * out by `eventRowParams` to `bulk.rows`, with their lane summary to `bulk.lanes`.
   */
  ingestEvents(
    artifactId: number,
    produce: (insert: (e: ParsedEvent) => void, bulk: EventBulkSink) => { warnings: readonly string[]; failed?: boolean },
    opts: { ftsBody?: string } = {},
  ): { eventCount: number; warnings: readonly string[] } {
    const art = this.getArtifact(artifactId);
    if (!art) throw new Error(`artifact ${artifactId} not found`);
    // Rows go in batches of EVENT_BATCH per statement (far fewer round trips into SQLite), bound from one reused
    // array (no spread of ~900 arguments per call); the full-text index is filled once for the whole artifact
    // at the end, in the same transaction.
    const ONE = `(${EVENT_COLUMNS.map(() => '?').join(', ')})`;
    const COLS = `(${EVENT_COLUMNS.join(', ')})`;
    const insMany = this.db.prepare(`INSERT INTO events ${COLS} VALUES ${Array(EVENT_BATCH).fill(ONE).join(', ')}`);
    const insOne = this.db.prepare(`INSERT INTO events ${COLS} VALUES ${ONE}`);
    const W = EVENT_COLUMNS.length;
    const run = this.db.transaction(() => {
      this.db.prepare('DELETE FROM events WHERE artifact_id = ?').run(artifactId);
      this.db.prepare('DELETE FROM artifact_lanes WHERE artifact_id = ?').run(artifactId);
      let count = 0;
      const buf: unknown[] = new Array(EVENT_BATCH * W);
      let k = 0;
      const lanes = new LaneTally();
      const hostId = art.hostId ?? null;
      const out = produce(
        (e) => {
          lanes.add(e.kind, e.ts);
          k = eventRowParams(buf, k, art.caseId, artifactId, hostId, e);
          count++;
          if (k === buf.length) {
            insMany.run(buf);
            k = 0;
          }
        },
        {
          rows(rows) {
            if (rows.length % W !== 0) throw new Error(`ingest: a row batch of ${rows.length} values is not a multiple of ${W}`);
            count += rows.length / W;
            if (rows.length === buf.length && k === 0) {
              insMany.run(rows);
              return;
            }
            // A short batch (the end of a stream): through the same buffer, so statement shapes stay two.
            for (let i = 0; i < rows.length; i++) {
              buf[k++] = rows[i];
              if (k === buf.length) {
                insMany.run(buf);
                k = 0;
              }
            }
          },
          lanes(summary) {
            lanes.merge(summary);
          },
        },
      );
      for (let i = 0; i < k; i += W) insOne.run(buf.slice(i, i + W));
      this.db.prepare('INSERT INTO events_fts (rowid, text) SELECT id, text FROM events WHERE artifact_id = ?').run(artifactId);
      this.db.prepare('DELETE FROM event_bins WHERE artifact_id = ?').run(artifactId);
      this.db.prepare(`INSERT INTO event_bins (artifact_id, case_id, host_id, kind, bin, n, min_id, max_lvl) ${BIN_SELECT} artifact_id = ? GROUP BY kind, bin`).run(artifactId);
      const insLane = this.db.prepare('INSERT INTO artifact_lanes (artifact_id, kind, count, timed, min_ts, max_ts) VALUES (?, ?, ?, ?, ?, ?)');
      for (const l of lanes.summary()) insLane.run(artifactId, l.kind, l.count, l.timed, l.min ?? null, l.max ?? null);
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

// ---- event rows (Store.ingestEvents) -------------------------------------------------------------
/** The events columns an ingest writes, in bind order (eventRowParams lays values out in this order). */
export const EVENT_COLUMNS = ['case_id', 'artifact_id', 'host_id', 'kind', 'ts_ns', 'ts_raw', 'clock', 'duration_ns', 'line', 'end_line', 'pid', 'level', 'text', 'data_json'] as const;
/** Rows per INSERT statement; a producer sending EVENT_BATCH rows at a time lets them go in without a copy. */
export const EVENT_BATCH = 64;

/**
 * Write one event's bind values into `out` from index `k`; returns the next index. Pure (no database), so a
 * parser in another thread can lay rows out and the owning thread only binds them.
 */
export function eventRowParams(out: unknown[], k: number, caseId: number, artifactId: number, hostId: number | null, e: ParsedEvent): number {
  out[k] = caseId;
  out[k + 1] = artifactId;
  out[k + 2] = hostId;
  out[k + 3] = e.kind;
  out[k + 4] = e.ts ?? null;
  out[k + 5] = e.tsRaw ?? null;
  out[k + 6] = e.clock;
  out[k + 7] = e.durationNs ?? null;
  out[k + 8] = e.line ?? null;
  out[k + 9] = e.endLine ?? null;
  out[k + 10] = e.pid ?? null;
  out[k + 11] = e.level ?? null;
  out[k + 12] = e.text;
  out[k + 13] = toJson(e.data);
  return k + 14;
}

/** Per-kind count, timed count and time extent of an artifact's events (the artifact_lanes rows). */
export interface LaneSummary {
  readonly kind: string;
  readonly count: number;
  readonly timed: number;
  readonly min?: bigint | undefined;
  readonly max?: bigint | undefined;
}

/** Event rows handed to Store.ingestEvents already laid out (see eventRowParams), with their lane summary. */
export interface EventBulkSink {
  /** A flat run of rows, EVENT_COLUMNS.length values each. */
  rows(params: readonly unknown[]): void;
  lanes(summary: readonly LaneSummary[]): void;
}

/** Accumulates LaneSummary rows event by event (or merges summaries made elsewhere). */
export class LaneTally {
  private readonly m = new Map<string, { count: number; timed: number; min?: bigint | undefined; max?: bigint | undefined }>();

  add(kind: string, ts: bigint | undefined): void {
    let l = this.m.get(kind);
    if (!l) this.m.set(kind, (l = { count: 0, timed: 0 }));
    l.count++;
    if (ts !== undefined) {
      l.timed++;
      if (l.min === undefined || ts < l.min) l.min = ts;
      if (l.max === undefined || ts > l.max) l.max = ts;
    }
  }

  merge(summary: readonly LaneSummary[]): void {
    for (const s of summary) {
      let l = this.m.get(s.kind);
      if (!l) this.m.set(s.kind, (l = { count: 0, timed: 0 }));
      l.count += s.count;
      l.timed += s.timed;
      if (s.min !== undefined && (l.min === undefined || s.min < l.min)) l.min = s.min;
      if (s.max !== undefined && (l.max === undefined || s.max > l.max)) l.max = s.max;
    }
  }

  summary(): LaneSummary[] {
    return [...this.m].map(([kind, l]) => ({ kind, count: l.count, timed: l.timed, min: l.min, max: l.max }));
  }
}
