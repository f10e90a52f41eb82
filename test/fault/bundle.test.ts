/**
 * Fault: corrupt or truncated `.casefile` bundles on import (issue 7). test/integration/case-flow.test.ts covers
 * a bundle cut in half, a flipped byte inside an artifact and a file of junk; here every other way a bundle
 * can be wrong: cut at several points, a newer or nonsensical schema version, an unknown format, a manifest
 * that disagrees with the artifacts (missing row, extra row, wrong hash), two cases in one bundle, no manifest,
 * a file that is not SQLite at all (text, gzip, empty), and a path that does not exist. Each is refused with
 * its reason, both by importBundle and through the API the UI calls (`cases.importBundle` with the file's bytes,
 * the reason reaching the caller), and nothing changes: every table of the store (the full-text indexes and
 * their shadow tables included) holds exactly the same rows, the data folder holds the same files, and no
 * temporary file is left behind.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, Backend } from '../../electron/api/backend';
import { BundleError, exportBundle, importBundle } from '../../electron/export/bundle';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { openDb, type Db } from '../../electron/store/db';
import { Store } from '../../electron/store/store';

const fx = path.resolve(__dirname, '..', 'fixtures');
let root: string;
/** Where the bundles are written (kept apart from the data folder, whose listing must not change). */
let dir: string;
/** The data folder: the store's database and nothing else. */
let data: string;
/** TMPDIR while these tests run: the API path stages the uploaded bytes there and must clean up. */
let tmp: string;
let db: Db;
let store: Store;
let backend: Backend;
let good: string;
const savedTmp = process.env.TMPDIR;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'casefile-fault-bundle-'));
  dir = path.join(root, 'bundles');
  data = path.join(root, 'data');
  tmp = path.join(root, 'tmp');
  for (const d of [dir, data, tmp]) mkdirSync(d);
  process.env.TMPDIR = tmp; // os.tmpdir() reads it on every call
  db = openDb(path.join(data, 'casefile.db'));
  store = new Store(db);
  backend = new Backend({ db, dbFile: path.join(data, 'casefile.db') });
  const c = store.createCase('evidence');
  const h = store.upsertHost(c.id, { name: 'lab-c' });
  for (const [name, file] of [
    ['nlm-conflict.pcap', path.join(fx, 'pcaps', 'lab__nlm-conflict.pcap')],
    ['dmesg.txt', path.join(fx, 'kmsg', 'dmesg.txt')],
  ] as const) {
    const id = store.putArtifact({ caseId: c.id, hostId: h.id, name, kind: 'auto', source: 'import' }, readFileSync(file));
    ingestArtifact(store, id);
  }
  good = path.join(dir, 'good.casefile');
  exportBundle(store, c.id, good);
});
afterAll(async () => {
  await backend?.dispose();
  db?.close();
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  rmSync(root, { recursive: true, force: true });
});

/**
 * What the store holds: a hash of every row of every table, ordered by all its columns — the FTS5 tables and
 * their shadow tables (`*_data`, `*_idx`, `*_content`, `*_docsize`, `*_config`) included — plus the
 * schema itself. A refused import must change none of it.
 */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  const schema = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').raw().all();
  out['(schema)'] = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  for (const t of tables) {
    const n = (db.prepare(`SELECT count(*) FROM pragma_table_info(?)`).pluck().get(t) as number) || 1;
    const order = Array.from({ length: n }, (_, i) => i + 1).join(', ');
    const h = createHash('sha256');
    let rows = 0;
    for (const row of db.prepare(`SELECT * FROM "${t}" ORDER BY ${order}`).raw().safeIntegers(true).iterate() as IterableIterator<unknown[]>) {
      rows++;
      for (const v of row) {
        // Type-tagged, so NULL, '' and 0 (or a blob and its hex text) never hash alike.
        if (v === null) h.update('N;');
        else if (Buffer.isBuffer(v)) h.update(`B${v.length}:`).update(v).update(';');
        else h.update(`${typeof v}${String(v).length}:${String(v)};`);
      }
      h.update('\n');
    }
    out[t] = `${rows}:${h.digest('hex')}`;
  }
  return out;
}

/** The files of a folder with their sizes (the data folder must look the same after a refused import). */
function listing(d: string): string[] {
  return readdirSync(d)
    .sort()
    .map((f) => `${f}${f.endsWith('-wal') || f.endsWith('-shm') ? '' : `:${statSync(path.join(d, f)).size}`}`);
}

/** A copy of the good bundle changed through SQL. */
function variant(name: string, sql: string): string {
  const f = path.join(dir, `${name}.casefile`);
  copyFileSync(good, f);
  const b = new Database(f);
  try {
    b.exec(sql);
  } finally {
    b.close();
  }
  return f;
}

/** No journal, WAL or partial file next to a bundle we tried to import (it is opened read-only). */
function bundleFolderClean(): void {
  expect(readdirSync(dir).filter((f) => /-(journal|wal|shm)$|partial/.test(f))).toEqual([]);
}

/**
 * Refused by importBundle and by the API the UI calls (`cases.importBundle` with the file's bytes and no name,
 * as CaseList.tsx sends it), each time with the reason, and with nothing changed in the store, the data
 * folder or the temporary folder.
 */
async function refused(file: string, reason: RegExp, opts: { api?: boolean } = {}): Promise<void> {
  const before = snapshot();
  const files = listing(data);
  const tables = Object.keys(before);
  expect(tables).toEqual(expect.arrayContaining(['events', 'events_fts_data', 'events_fts_idx', 'artifacts_fts_data', 'artifacts_fts_content', 'artifact_chunks', 'event_bins']));
  let err: unknown;
  try {
    importBundle(store, file, `import-${path.basename(file)}`);
  } catch (e) {
    err = e;
  }
  expect(err, `${path.basename(file)} must be refused`).toBeInstanceOf(BundleError);
  expect((err as Error).message).toMatch(reason);
  expect(snapshot()).toEqual(before);
  expect(listing(data)).toEqual(files);
  bundleFolderClean();

  if (opts.api === false) return;
  let apiErr: unknown;
  try {
    await backend.call('cases.importBundle', { base64: readFileSync(file).toString('base64') });
  } catch (e) {
    apiErr = e;
  }
  expect(apiErr, `${path.basename(file)} must be refused through the API`).toBeInstanceOf(ApiError);
  expect((apiErr as ApiError).code).toBe('bad-bundle');
  expect((apiErr as Error).message).toMatch(reason);
  // The server-side staging path is not the user's business: it is replaced by "the bundle".
  expect((apiErr as Error).message).not.toContain(tmp);
  expect(snapshot()).toEqual(before);
  expect(listing(data)).toEqual(files);
  expect(readdirSync(tmp)).toEqual([]);
}

describe('corrupt or truncated bundles are refused with the reason, nothing changes', () => {
  it('the untouched bundle imports (the corruptions below are what makes the difference), also through the API', async () => {
    const copy = path.join(dir, 'copy.casefile');
    copyFileSync(good, copy);
    const before = snapshot();
    const r = importBundle(store, copy, 'evidence-copy');
    expect(r.artifacts).toBe(2);
    expect(r.events).toBeGreaterThan(10);
    // The snapshot sees an import: the rows, the event index and its shadow tables all changed.
    const after = snapshot();
    for (const t of ['cases', 'events', 'events_fts_data', 'event_bins', 'artifact_chunks']) expect(after[t], t).not.toBe(before[t]);
    const c = (await backend.call('cases.importBundle', { base64: readFileSync(good).toString('base64'), name: 'evidence-api' })) as { name: string; artifactCount: number };
    expect(c).toMatchObject({ name: 'evidence-api', artifactCount: 2 });
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('truncated at several points', async () => {
    const bytes = readFileSync(good);
    for (const frac of [0.05, 0.3, 0.75, 0.95]) {
      const f = path.join(dir, `cut-${frac}.casefile`);
      writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * frac)));
      await refused(f, /truncated|integrity|corrupt|malformed|damaged|cannot open|not a Casefile bundle/i);
    }
    const tiny = path.join(dir, 'header-only.casefile');
    writeFileSync(tiny, bytes.subarray(0, 100));
    await refused(tiny, /too small .*truncated/);
  });

  it('a schema version from a newer Casefile, or one that is not a version at all', async () => {
    await refused(variant('schema-newer', "UPDATE bundle_info SET value = '999' WHERE key = 'schema'"), /newer Casefile \(schema 999/);
    await refused(variant('schema-garbage', "UPDATE bundle_info SET value = 'two' WHERE key = 'schema'"), /schema/i);
    await refused(variant('format-unknown', "UPDATE bundle_info SET value = 'casefile-bundle/9' WHERE key = 'format'"), /unknown bundle format "casefile-bundle\/9"/);
  });

  it('a manifest that disagrees with the artifacts', async () => {
    await refused(variant('manifest-missing-row', 'DELETE FROM bundle_manifest WHERE artifact_id = (SELECT min(artifact_id) FROM bundle_manifest)'), /manifest lists 1 artifacts, the bundle holds 2/);
    await refused(variant('manifest-wrong-hash', "UPDATE bundle_manifest SET sha256 = replace(sha256, substr(sha256, 1, 1), CASE substr(sha256, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE artifact_id = (SELECT max(artifact_id) FROM bundle_manifest)"), /is damaged \(sha256/);
    await refused(variant('chunk-replaced', "UPDATE artifact_chunks SET data = zeroblob(length(data)) WHERE seq = 0 AND artifact_id = (SELECT min(id) FROM artifacts)"), /is damaged/);
    await refused(variant('no-manifest', 'DROP TABLE bundle_manifest'), /no manifest/);
  });

  it('more than one case in the bundle', async () => {
    await refused(variant('two-cases', "INSERT INTO cases (name, title, created_ns) VALUES ('smuggled', '', 0)"), /exactly one case \(found 2\)/);
    await refused(variant('no-case', 'PRAGMA foreign_keys = OFF; DELETE FROM cases'), /exactly one case \(found 0\)/);
  });

  it('files that are not SQLite at all, and a missing file', async () => {
    const text = path.join(dir, 'text.casefile');
    writeFileSync(text, '# Casefile report\n\n'.repeat(100));
    await refused(text, /not an SQLite file/);
    const gz = path.join(dir, 'gz.casefile');
    writeFileSync(gz, gzipSync(readFileSync(good)));
    await refused(gz, /not an SQLite file/);
    const empty = path.join(dir, 'empty.casefile');
    writeFileSync(empty, '');
    await refused(empty, /too small/);
    await refused(path.join(dir, 'does-not-exist.casefile'), /no such file/, { api: false }); // no bytes to upload
    // An SQLite file that is some other application's database.
    const other = path.join(dir, 'other.casefile');
    const o = new Database(other);
    o.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('not a case');");
    o.exec(`INSERT INTO notes (body) SELECT hex(randomblob(64)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i FROM n)`);
    o.close();
    await refused(other, /not a Casefile bundle \(no manifest\)/);
  });
});
