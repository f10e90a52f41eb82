import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { openDb } from '../store/db';
import type { Store } from '../store/store';
import { MIGRATIONS } from '../store/migrations';
import { Redactor } from './redact';
import { BIN_SELECT } from '../store/migrations/005_event_bins';

/**
 * A `.casefile` bundle is one SQLite file in the store's own schema holding exactly one case (its hosts,
 * runs, steps, artifacts with their bytes, events, findings, annotations) plus a `bundle_manifest` table
 * with the sha256 of every artifact. Import checks the SQLite integrity, the schema version and every
 * artifact hash before anything is copied, then copies the case in one transaction: a bad bundle changes
 * nothing.
 */

/** Tables of a case, parent before child, with the columns that point at other tables. */
const TABLES: readonly { name: string; fks: Readonly<Record<string, string>> }[] = [
  { name: 'cases', fks: {} },
  { name: 'hosts', fks: { case_id: 'cases' } },
  { name: 'runs', fks: { case_id: 'cases' } },
  { name: 'steps', fks: { case_id: 'cases', run_id: 'runs', host_id: 'hosts' } },
  { name: 'artifacts', fks: { case_id: 'cases', host_id: 'hosts', step_id: 'steps' } },
  { name: 'events', fks: { case_id: 'cases', artifact_id: 'artifacts', host_id: 'hosts' } },
  { name: 'findings', fks: { case_id: 'cases', host_id: 'hosts' } },
  { name: 'annotations', fks: { case_id: 'cases', event_id: 'events', artifact_id: 'artifacts' } },
  { name: 'saved_searches', fks: { case_id: 'cases' } },
];

/** Tables the import copies besides TABLES (rows keyed by their parent's id). */
const BUNDLE_SIDE_TABLES = ['artifact_chunks', 'artifact_lines', 'annotation_history', 'artifacts_fts'] as const;

/** Columns that describe this machine's processes, not the case: never exported, never imported. */
const LOCAL_ONLY = new Set(['owner']);

function columns(db: Database.Database, table: string, schema = 'main'): string[] {
  return (db.prepare(`PRAGMA ${schema}.table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
}

export function exportBundle(store: Store, caseId: number, dest: string, opts: { redact?: boolean } = {}): { bytes: number; sha256: string } {
  const tmp = `${dest}.partial-${process.pid}`;
  rmSync(tmp, { force: true });
  const out = openDb(tmp);
  out.close();
  const db = store.db;
  db.prepare('ATTACH DATABASE ? AS b').run(tmp);
  try {
    db.transaction(() => {
      const where: Record<string, string> = {
        cases: 'id = ?',
        hosts: 'case_id = ?',
        runs: 'case_id = ?',
        steps: 'case_id = ?',
        artifacts: 'case_id = ?',
        events: 'case_id = ?',
        findings: 'case_id = ?',
        annotations: 'case_id = ?',
        saved_searches: 'case_id = ?',
      };
      for (const t of TABLES) {
        const cols = columns(db, t.name);
        // Which local process was working on a row is meaningless elsewhere (and names this machine's boot).
        const sel = cols.map((c) => (LOCAL_ONLY.has(c) ? 'NULL' : c));
        db.prepare(`INSERT INTO b.${t.name} (${cols.join(', ')}) SELECT ${sel.join(', ')} FROM main.${t.name} WHERE ${where[t.name]}`).run(caseId);
      }
      db.prepare('INSERT INTO b.artifact_chunks SELECT c.* FROM main.artifact_chunks c JOIN main.artifacts a ON a.id = c.artifact_id WHERE a.case_id = ?').run(caseId);
      db.prepare('INSERT INTO b.artifact_lines SELECT l.* FROM main.artifact_lines l JOIN main.artifacts a ON a.id = l.artifact_id WHERE a.case_id = ?').run(caseId);
      db.prepare('INSERT INTO b.annotation_history SELECT h.* FROM main.annotation_history h JOIN main.annotations a ON a.id = h.annotation_id WHERE a.case_id = ?').run(caseId);
      db.prepare("INSERT INTO b.artifacts_fts (rowid, name, body) SELECT f.rowid, f.name, f.body FROM main.artifacts_fts f JOIN main.artifacts a ON a.id = f.rowid WHERE a.case_id = ?").run(caseId);
    })();
  } finally {
    db.prepare('DETACH DATABASE b').run();
  }
  const b = new Database(tmp);
  try {
    if (opts.redact) new Redactor().apply(b);
    b.exec('CREATE TABLE bundle_manifest (artifact_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL)');
    b.exec(`CREATE TABLE bundle_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    const ins = b.prepare('INSERT INTO bundle_manifest VALUES (?, ?, ?)');
    for (const a of b.prepare('SELECT id, sha256, size FROM artifacts').all() as { id: number; sha256: string | null; size: number }[]) {
      ins.run(a.id, a.sha256 ?? hashArtifact(b, a.id), a.size);
    }
    const info = b.prepare('INSERT INTO bundle_info VALUES (?, ?)');
    info.run('format', 'casefile-bundle/1');
    info.run('schema', String(MIGRATIONS[MIGRATIONS.length - 1]!.version));
    info.run('exported', new Date().toISOString());
    info.run('redacted', opts.redact ? 'yes' : 'no');
    b.pragma('journal_mode = DELETE');
  } finally {
    b.close();
  }
  rmSync(`${tmp}-wal`, { force: true });
  rmSync(`${tmp}-shm`, { force: true });
  renameSync(tmp, dest);
  const bytes = readFileSync(dest);
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function hashArtifact(db: Database.Database, id: number): string {
  const h = createHash('sha256');
  for (const c of db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? ORDER BY seq').pluck().iterate(id) as IterableIterator<Buffer>) h.update(c);
  return h.digest('hex');
}

export class BundleError extends Error {}

/** Check a bundle without changing anything; throws BundleError with the reason. */
export function verifyBundle(file: string): { caseName: string; artifacts: number } {
  if (!existsSync(file)) throw new BundleError(`${file}: no such file`);
  if (statSync(file).size < 512) throw new BundleError(`${file}: too small to be a Casefile bundle (truncated?)`);
  const head = readFileSync(file).subarray(0, 16).toString('latin1');
  if (head !== 'SQLite format 3\u0000') throw new BundleError(`${file}: not a Casefile bundle (not an SQLite file)`);
  let b: Database.Database;
  try {
    b = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new BundleError(`${file}: cannot open: ${(e as Error).message}`);
  }
  try {
    let check: string[];
    try {
      check = b.pragma('integrity_check', { simple: false }) as unknown as string[];
    } catch (e) {
      throw new BundleError(`${file}: corrupt SQLite file: ${(e as Error).message}`);
    }
    const rows = (check as unknown as { integrity_check: string }[]).map((r) => r.integrity_check);
    if (rows.length !== 1 || rows[0] !== 'ok') throw new BundleError(`${file}: SQLite integrity check failed: ${rows.slice(0, 3).join('; ')}`);
    const tables = new Set((b.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]));
    if (!tables.has('bundle_info') || !tables.has('bundle_manifest')) throw new BundleError(`${file}: not a Casefile bundle (no manifest)`);
    // Every table the import copies from must be there: a missing one used to surface as a bare SqliteError
    // ("no such table: b.annotation_history") from inside the copy (found by fuzzing).
    const missing = [...TABLES.map((t) => t.name), ...BUNDLE_SIDE_TABLES].filter((t) => !tables.has(t));
    if (missing.length > 0) throw new BundleError(`${file}: not a complete Casefile bundle (missing table${missing.length > 1 ? 's' : ''} ${missing.join(', ')})`);
    const info = Object.fromEntries((b.prepare('SELECT key, value FROM bundle_info').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    if (info.format !== 'casefile-bundle/1') throw new BundleError(`${file}: unknown bundle format ${JSON.stringify(info.format)}`);
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    const schema = /^\d{1,6}$/.test(info.schema ?? '') ? Number(info.schema) : NaN;
    if (!Number.isInteger(schema) || schema < 1) throw new BundleError(`${file}: not a valid Casefile bundle (schema version ${JSON.stringify(info.schema)})`);
    if (schema > latest) throw new BundleError(`${file}: written by a newer Casefile (schema ${schema}; this build knows ${latest})`);
    const version = b.pragma('user_version', { simple: true }) as number;
    if (version !== schema) throw new BundleError(`${file}: bundle says schema ${schema} but its tables are schema ${version}`);
    const cases = b.prepare('SELECT name FROM cases').pluck().all() as string[];
    if (cases.length !== 1) throw new BundleError(`${file}: a bundle holds exactly one case (found ${cases.length})`);
    // Rows must belong to that case and point at rows of the bundle: ids are shifted on import, so a case_id of
    // another value, or a dangling reference, would land on some other case of the store (found by fuzzing).
    const caseId = b.prepare('SELECT id FROM cases').pluck().get() as unknown;
    for (const t of TABLES) {
      if (t.fks.case_id === undefined) continue;
      const stray = b.prepare(`SELECT count(*) FROM ${t.name} WHERE case_id IS NOT ?`).pluck().get(caseId) as number;
      if (stray > 0) throw new BundleError(`${file}: ${stray} ${t.name} row(s) belong to another case than the bundle's`);
    }
    const broken = b.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
    if (broken.length > 0) {
      const f = broken[0]!;
      throw new BundleError(`${file}: ${broken.length} broken reference(s), e.g. ${f.table} row ${f.rowid} -> ${f.parent}`);
    }
    const manifest = b.prepare('SELECT artifact_id, sha256, size FROM bundle_manifest').all() as { artifact_id: number; sha256: string; size: number }[];
    const arts = b.prepare('SELECT count(*) FROM artifacts').pluck().get() as number;
    if (manifest.length !== arts) throw new BundleError(`${file}: manifest lists ${manifest.length} artifacts, the bundle holds ${arts}`);
    for (const m of manifest) {
      const got = hashArtifact(b, m.artifact_id);
      if (got !== m.sha256) throw new BundleError(`${file}: artifact ${m.artifact_id} is damaged (sha256 ${got.slice(0, 12)}… ≠ manifest ${m.sha256.slice(0, 12)}…)`);
    }
    return { caseName: cases[0]!, artifacts: arts };
  } finally {
    b.close();
  }
}

/** Import a verified bundle as a new, read-only case (library cases are evidence: opened, not edited). */
export function importBundle(store: Store, file: string, asName?: string): { name: string; caseId: number; artifacts: number; events: number } {
  const v = verifyBundle(file);
  const name = asName ?? v.caseName;
  if (store.findCase(name)) throw new BundleError(`a case named ${JSON.stringify(name)} already exists: choose another name`);
  const db = store.db;
  db.prepare('ATTACH DATABASE ? AS b').run(file);
  try {
    return db.transaction(() => {
      const offsets: Record<string, number> = {};
      for (const t of TABLES) offsets[t.name] = (db.prepare(`SELECT coalesce(max(id), 0) FROM main.${t.name}`).pluck().get() as number) ?? 0;
      for (const t of TABLES) {
        // A bundle written by an older Casefile lacks the columns added since (they stay NULL here).
        const theirs = new Set(columns(db, t.name, 'b'));
        const cols = columns(db, t.name).filter((c) => theirs.has(c) && !LOCAL_ONLY.has(c));
        const sel = cols.map((c) =>
          c === 'id' ? `id + ${offsets[t.name]}` : t.name === 'cases' && c === 'name' ? '@name' : t.fks[c] ? `CASE WHEN ${c} IS NULL THEN NULL ELSE ${c} + ${offsets[t.fks[c]!]} END` : c,
        );
        const stmt = db.prepare(`INSERT INTO main.${t.name} (${cols.join(', ')}) SELECT ${sel.join(', ')} FROM b.${t.name}`);
        if (t.name === 'cases') stmt.run({ name });
        else stmt.run();
      }
      const caseId = offsets.cases! + (db.prepare('SELECT id FROM b.cases').pluck().get() as number);
      db.prepare('UPDATE main.cases SET read_only = 1, imported_from = ? WHERE id = ?').run(file, caseId);
      db.prepare(`INSERT INTO main.artifact_chunks SELECT artifact_id + ${offsets.artifacts}, seq, data FROM b.artifact_chunks`).run();
      db.prepare(`INSERT INTO main.artifact_lines SELECT artifact_id + ${offsets.artifacts}, line, offset FROM b.artifact_lines`).run();
      const ah = db.prepare('SELECT coalesce(max(id), 0) FROM main.annotation_history').pluck().get() as number;
      db.prepare(`INSERT INTO main.annotation_history SELECT id + ${ah}, annotation_id + ${offsets.annotations}, body, marker, starred, edited_ns FROM b.annotation_history`).run();
      db.prepare(`INSERT INTO main.artifacts_fts (rowid, name, body) SELECT rowid + ${offsets.artifacts}, name, body FROM b.artifacts_fts`).run();
      db.prepare('INSERT INTO main.events_fts (rowid, text) SELECT id, text FROM main.events WHERE case_id = ?').run(caseId);
      db.prepare(`INSERT INTO main.event_bins (artifact_id, case_id, host_id, kind, bin, n, min_id, max_lvl) ${BIN_SELECT.replace('FROM events', 'FROM main.events')} case_id = ? GROUP BY artifact_id, kind, bin`).run(caseId);
      // Timeline lane summaries, computed from the copied events (also for bundles written before they existed).
      db.prepare(
        `INSERT INTO main.artifact_lanes (artifact_id, kind, count, timed, min_ts, max_ts)
         SELECT artifact_id, kind, count(*), count(ts_ns), min(ts_ns), max(ts_ns) FROM main.events WHERE case_id = ? GROUP BY artifact_id, kind`,
      ).run(caseId);
      const events = db.prepare('SELECT count(*) FROM b.events').pluck().get() as number;
      return { name, caseId, artifacts: v.artifacts, events };
    })();
  } finally {
    db.prepare('DETACH DATABASE b').run();
  }
}
