/**
 * Fault: corrupt or truncated `.casefile` bundles on import (issue 7). test/integration/case-flow.test.ts covers
 * a bundle cut in half, a flipped byte inside an artifact and a file of junk; here every other way a bundle
 * can be wrong: cut at several points, a newer or nonsensical schema version, an unknown format, a manifest
 * that disagrees with the artifacts (missing row, extra row, wrong hash), two cases in one bundle, no manifest,
 * a file that is not SQLite at all (text, gzip, empty), and a path that does not exist. Each is refused with
 * its reason, and the store is byte-for-byte unchanged in content (same cases, same row counts).
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError, exportBundle, importBundle } from '../../electron/export/bundle';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { openDb, type Db } from '../../electron/store/db';
import { Store } from '../../electron/store/store';

const fx = path.resolve(__dirname, '..', 'fixtures');
let dir: string;
let db: Db;
let store: Store;
let good: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-fault-bundle-'));
  db = openDb(path.join(dir, 'store.db'));
  store = new Store(db);
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
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What the store holds: every case and the row count of every table (a refused import must change none). */
function snapshot(): string {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' ORDER BY name").pluck().all() as string[];
  const counts = tables.map((t) => `${t}=${db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number}`);
  return JSON.stringify({ cases: store.listCases().map((c) => [c.id, c.name]), counts });
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

function refused(file: string, reason: RegExp): void {
  const before = snapshot();
  let err: unknown;
  try {
    importBundle(store, file, `import-${path.basename(file)}`);
  } catch (e) {
    err = e;
  }
  expect(err, `${path.basename(file)} must be refused`).toBeInstanceOf(BundleError);
  expect((err as Error).message).toMatch(reason);
  expect(snapshot()).toBe(before);
}

describe('corrupt or truncated bundles are refused with the reason, nothing changes', () => {
  it('the untouched bundle imports (the corruptions below are what makes the difference)', () => {
    const copy = path.join(dir, 'copy.casefile');
    copyFileSync(good, copy);
    const r = importBundle(store, copy, 'evidence-copy');
    expect(r.artifacts).toBe(2);
    expect(r.events).toBeGreaterThan(10);
  });

  it('truncated at several points', () => {
    const bytes = readFileSync(good);
    for (const frac of [0.05, 0.3, 0.75, 0.95]) {
      const f = path.join(dir, `cut-${frac}.casefile`);
      writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * frac)));
      refused(f, /truncated|integrity|corrupt|malformed|damaged|cannot open|not a Casefile bundle/i);
    }
    const tiny = path.join(dir, 'header-only.casefile');
    writeFileSync(tiny, bytes.subarray(0, 100));
    refused(tiny, /too small .*truncated/);
  });

  it('a schema version from a newer Casefile, or one that is not a version at all', () => {
    refused(variant('schema-newer', "UPDATE bundle_info SET value = '999' WHERE key = 'schema'"), /newer Casefile \(schema 999/);
    refused(variant('schema-garbage', "UPDATE bundle_info SET value = 'two' WHERE key = 'schema'"), /schema/i);
    refused(variant('format-unknown', "UPDATE bundle_info SET value = 'casefile-bundle/9' WHERE key = 'format'"), /unknown bundle format "casefile-bundle\/9"/);
  });

  it('a manifest that disagrees with the artifacts', () => {
    refused(variant('manifest-missing-row', 'DELETE FROM bundle_manifest WHERE artifact_id = (SELECT min(artifact_id) FROM bundle_manifest)'), /manifest lists 1 artifacts, the bundle holds 2/);
    refused(variant('manifest-wrong-hash', "UPDATE bundle_manifest SET sha256 = replace(sha256, substr(sha256, 1, 1), CASE substr(sha256, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE artifact_id = (SELECT max(artifact_id) FROM bundle_manifest)"), /is damaged \(sha256/);
    refused(variant('chunk-replaced', "UPDATE artifact_chunks SET data = zeroblob(length(data)) WHERE seq = 0 AND artifact_id = (SELECT min(id) FROM artifacts)"), /is damaged/);
    refused(variant('no-manifest', 'DROP TABLE bundle_manifest'), /no manifest/);
  });

  it('more than one case in the bundle', () => {
    refused(variant('two-cases', "INSERT INTO cases (name, title, created_ns) VALUES ('smuggled', '', 0)"), /exactly one case \(found 2\)/);
    refused(variant('no-case', 'PRAGMA foreign_keys = OFF; DELETE FROM cases'), /exactly one case \(found 0\)/);
  });

  it('files that are not SQLite at all, and a missing file', () => {
    const text = path.join(dir, 'text.casefile');
    writeFileSync(text, '# Casefile report\n\n'.repeat(100));
    refused(text, /not an SQLite file/);
    const gz = path.join(dir, 'gz.casefile');
    writeFileSync(gz, gzipSync(readFileSync(good)));
    refused(gz, /not an SQLite file/);
    const empty = path.join(dir, 'empty.casefile');
    writeFileSync(empty, '');
    refused(empty, /too small/);
    refused(path.join(dir, 'does-not-exist.casefile'), /no such file/);
    // An SQLite file that is some other application's database.
    const other = path.join(dir, 'other.casefile');
    const o = new Database(other);
    o.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('not a case');");
    o.exec(`INSERT INTO notes (body) SELECT hex(randomblob(64)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i FROM n)`);
    o.close();
    refused(other, /not a Casefile bundle \(no manifest\)/);
  });
});
