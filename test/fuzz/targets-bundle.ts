/**
 * Fuzz target for the case bundle importer (electron/export/bundle.ts importBundle). A small real case (a dmesg and
 * a capture, ingested) is exported to a real `.casefile` SQLite file in a temp dir; every input is that bundle
 * damaged at the byte level or changed through SQL. Each one must be imported completely (every row of the
 * bundle's case is in the store under the new case) or refused with a BundleError, and a refusal changes nothing.
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BundleError, exportBundle, importBundle } from '../../electron/export/bundle';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { openDb, type Db } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { BYTE_MUTATORS, mutate, type Rng } from './mutate';
import { FIXTURES } from './check';
import type { FuzzTarget } from './targets-harness';

const CASE_TABLES = ['hosts', 'runs', 'steps', 'artifacts', 'events', 'findings', 'annotations', 'saved_searches'] as const;

export interface World {
  readonly dir: string;
  readonly db: Db;
  readonly store: Store;
  readonly good: string;
  readonly goodBytes: Uint8Array;
}

export function makeWorld(): World {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-fuzz-bundle-'));
  const db = openDb(path.join(dir, 'store.db'));
  const store = new Store(db);
  const c = store.createCase('fuzz-evidence');
  const h = store.upsertHost(c.id, { name: 'lab-c' });
  for (const [name, file] of [
    ['dmesg.txt', path.join(FIXTURES, 'kmsg', 'dmesg.txt')],
    ['statd-down.pcap', path.join(FIXTURES, 'pcaps', 'lab__statd-down.pcap')],
    ['host-info.txt', path.join(FIXTURES, 'fuzz-seeds', 'host-info', 'this-machine-epoch.txt')],
  ] as const) {
    const id = store.putArtifact({ caseId: c.id, hostId: h.id, name, kind: 'auto', source: 'import' }, readFileSync(file));
    ingestArtifact(store, id);
  }
  const good = path.join(dir, 'good.casefile');
  exportBundle(store, c.id, good);
  return { dir, db, store, good, goodBytes: new Uint8Array(readFileSync(good)) };
}

/** Every case and the row count of every table: what a refused import must leave exactly as it was. */
export function snapshot(w: World): string {
  const tables = w.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' ORDER BY name").pluck().all() as string[];
  const counts = tables.map((t) => `${t}=${w.db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number}`);
  return JSON.stringify({ cases: w.store.listCases().map((c) => [c.id, c.name]), counts });
}

/** Changes made through SQL: the bundle stays a valid SQLite file, so the importer's own checks are what is tested. */
function sqlEdits(rng: Rng): string[] {
  const n = () => rng.pick(['0', '-1', '1', '2', '3', '999', '9223372036854775807', 'NULL', "'x'", "x'00ff'"]);
  const all = [
    `UPDATE events SET text = ${n()} WHERE id IN (SELECT id FROM events ORDER BY random() LIMIT 3)`,
    `DELETE FROM events WHERE id % ${2 + rng.int(5)} = 0`,
    `UPDATE events SET artifact_id = ${n()} WHERE id = (SELECT min(id) FROM events)`,
    `UPDATE events SET host_id = ${n()}`,
    `UPDATE events SET ts_ns = ${n()} WHERE id % 3 = 0`,
    `UPDATE artifacts SET size = ${n()}`,
    `UPDATE artifacts SET case_id = ${n()} WHERE id = (SELECT max(id) FROM artifacts)`,
    `UPDATE hosts SET case_id = ${n()}`,
    `UPDATE cases SET id = ${n()}`,
    `UPDATE cases SET name = ${n()}`,
    `DELETE FROM bundle_manifest WHERE artifact_id = (SELECT min(artifact_id) FROM bundle_manifest)`,
    `UPDATE bundle_manifest SET sha256 = ${n()}`,
    `UPDATE bundle_info SET value = ${n()} WHERE key = '${rng.pick(['format', 'schema', 'redacted'])}'`,
    `DELETE FROM bundle_info WHERE key = 'schema'`,
    `UPDATE artifact_chunks SET data = zeroblob(${rng.int(64)}) WHERE seq = 0 AND artifact_id = (SELECT min(artifact_id) FROM artifact_chunks)`,
    `DELETE FROM artifact_chunks WHERE seq = 0`,
    `INSERT INTO cases (name) VALUES ('second')`,
    `PRAGMA user_version = ${n()}`,
    `DELETE FROM artifacts_fts`,
    `DROP TABLE ${rng.pick(['annotation_history', 'artifact_lines', 'saved_searches', 'artifacts_fts', 'bundle_manifest'])}`,
    `UPDATE artifact_lines SET artifact_id = ${n()}`,
  ];
  return Array.from({ length: 1 + rng.int(2) }, () => rng.pick(all));
}

export interface BundleStats {
  imported: number;
  refused: number;
}

/** importBundle on mutated real bundles: complete import or BundleError with nothing changed. */
export function bundleImportTarget(stats: BundleStats): FuzzTarget {
  let world: World | undefined;
  let made = 0;
  const target: FuzzTarget = {
    name: 'bundle-import',
    defaultN: 60,
    make(rng, i) {
      // A fresh store now and then: in long runs the imported cases would otherwise make every snapshot slower.
      if (made++ % 200 === 0) target.dispose?.();
      world ??= makeWorld();
      const w = world;
      const file = path.join(w.dir, `in-${i % 4}.casefile`);
      const bySql = rng.chance(0.6);
      let steps: string[];
      let input: Uint8Array;
      if (bySql) {
        copyFileSync(w.good, file);
        steps = sqlEdits(rng);
        const b = new Database(file);
        // Foreign keys off for some edits: a crafted bundle need not be consistent.
        if (rng.chance(0.5)) b.pragma('foreign_keys = OFF');
        const done: string[] = [];
        for (const sql of steps) {
          try {
            b.exec(sql);
            done.push(sql);
          } catch {
            // A constraint refused the edit: the bundle stays as it was for that statement.
          }
        }
        b.close();
        steps = done.length > 0 ? done : ['(no edit applied)'];
        input = new Uint8Array(readFileSync(file));
      } else {
        const m = mutate(w.goodBytes, rng, [], BYTE_MUTATORS, 2);
        steps = [...m.steps];
        input = m.bytes;
        writeFileSync(file, input);
      }
      return {
        input,
        steps,
        run: () => {
          const before = snapshot(w);
          let r: ReturnType<typeof importBundle>;
          try {
            r = importBundle(w.store, file, `fuzz-${i}`);
          } catch (e) {
            const changed = snapshot(w) !== before ? ' and the store changed' : '';
            if (e instanceof BundleError && e.message !== '' && changed === '') {
              stats.refused++;
              return [];
            }
            return [`refused with ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}${changed}`];
          }
          stats.imported++;
          return completeness(w, file, r.caseId);
        },
      };
    },
    dispose() {
      if (!world) return;
      world.db.close();
      rmSync(world.dir, { recursive: true, force: true });
      world = undefined;
    },
  };
  return target;
}

/** Every row of the bundle's case is in the store under caseId, and the case is read-only. */
function completeness(w: World, file: string, caseId: number): string[] {
  const p: string[] = [];
  const b = new Database(file, { readonly: true });
  try {
    for (const t of CASE_TABLES) {
      const want = b.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
      const got = w.db.prepare(`SELECT count(*) FROM ${t} WHERE case_id = ?`).pluck().get(caseId) as number;
      if (want !== got) p.push(`${t}: bundle has ${want} rows, the imported case ${got}`);
    }
    const chunks = b.prepare('SELECT count(*) FROM artifact_chunks').pluck().get() as number;
    const got = w.db.prepare('SELECT count(*) FROM artifact_chunks c JOIN artifacts a ON a.id = c.artifact_id WHERE a.case_id = ?').pluck().get(caseId) as number;
    if (chunks !== got) p.push(`artifact_chunks: bundle has ${chunks}, the imported case ${got}`);
  } finally {
    b.close();
  }
  const c = w.db.prepare('SELECT read_only FROM cases WHERE id = ?').get(caseId) as { read_only: number } | undefined;
  if (c?.read_only !== 1) p.push('imported case is not read-only');
  return p;
}
