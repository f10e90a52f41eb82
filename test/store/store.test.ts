import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { openDb, migrate } from '../../electron/store/db';
import { MIGRATIONS } from '../../electron/store/migrations';
import { CHUNK } from '../../electron/store/artifact-writer';
import { Store } from '../../electron/store/store';
import { readLines, ftsQuery, searchCase } from '../../electron/api/queries';

const ROOT = resolve(__dirname, '..', '..');
let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-store-'));
  store = new Store(openDb(join(dir, 'casefile.db')));
});
afterEach(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('store', () => {
  it('creates the schema with WAL and records the migration version', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(6);
    // Migrating again is a no-op.
    migrate(store.db);
    expect(store.db.pragma('user_version', { simple: true })).toBe(6);
  });

  it('four processes opening a store of the previous schema at once migrate it exactly once', async () => {
    const file = join(dir, 'old.db');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    for (const m of MIGRATIONS.slice(0, -1)) old.exec(m.sql);
    old.pragma(`user_version = ${MIGRATIONS.at(-2)!.version}`);
    old.prepare("INSERT INTO cases (name, title, created_ns) VALUES ('before', 'before', 1)").run();
    old.close();
    const children = [0, 1, 2, 3].map(
      () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const p = spawn(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), join(ROOT, 'test', 'store', 'open-child.ts'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.stderr.on('data', (d: Buffer) => (out += d.toString()));
          p.on('close', (code) => resolve({ code, out }));
        }),
    );
    for (const r of await Promise.all(children)) expect(r, r.out).toEqual({ code: 0, out: `${MIGRATIONS.at(-1)!.version}\n` });
    const db = openDb(file);
    expect(db.prepare('SELECT name FROM cases').pluck().all()).toEqual(['before']);
    expect(db.prepare("SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'owner'").pluck().get()).toBe(1);
    db.close();
  }, 60_000);

  it('output streaming from a host is stored while it arrives, in whole chunks plus one growing tail', async () => {
    const c = store.createCase('stream');
    const w = store.beginArtifact({ caseId: c.id, name: 'out', kind: 'text', source: 'ssh' });
    const chunks = () => store.db.prepare('SELECT seq, length(data) AS n FROM artifact_chunks WHERE artifact_id = ? ORDER BY seq').all(w.id) as { seq: number; n: number }[];
    const sent: Buffer[] = [];
    const send = (b: Buffer): void => {
      sent.push(b);
      w.write(b);
    };
    send(Buffer.from('first line\n'));
    expect(chunks()).toEqual([]); // not yet: flushed at most once a second, not per write
    await new Promise((r) => setTimeout(r, 1300));
    expect(chunks()).toEqual([{ seq: 0, n: 11 }]);
    expect(store.readArtifact(w.id).toString()).toBe('first line\n');
    expect(store.getArtifact(w.id)!.size).toBe(11);
    // Past a chunk boundary: the stored tail is replaced by a whole chunk, and the rest becomes the new tail.
    send(Buffer.alloc(CHUNK, 0x61));
    expect(chunks()).toEqual([{ seq: 0, n: CHUNK }]);
    await new Promise((r) => setTimeout(r, 1300));
    expect(chunks()).toEqual([{ seq: 0, n: CHUNK }, { seq: 1, n: 11 }]);
    send(Buffer.from('last\n'));
    w.finish({ exitCode: 0 });
    expect(chunks()).toEqual([{ seq: 0, n: CHUNK }, { seq: 1, n: 16 }]);
    const all = Buffer.concat(sent);
    expect(store.readArtifact(w.id).equals(all)).toBe(true);
    expect(store.readArtifactRange(w.id, CHUNK - 3, 10).equals(all.subarray(CHUNK - 3, CHUNK + 7))).toBe(true);
    expect(store.getArtifact(w.id)!.sha256).toBe(createHash('sha256').update(all).digest('hex'));
    // Imports are written in one go: no timer, nothing written before the chunk fills or the import finishes.
    const imp = store.beginArtifact({ caseId: c.id, name: 'imp', kind: 'text', source: 'import' });
    imp.write(Buffer.from('x\n'));
    await new Promise((r) => setTimeout(r, 1300));
    expect(store.db.prepare('SELECT count(*) FROM artifact_chunks WHERE artifact_id = ?').pluck().get(imp.id)).toBe(0);
    imp.finish();
  });

  it('refuses a store written by a newer Casefile', () => {
    store.db.pragma('user_version = 99');
    expect(() => migrate(store.db)).toThrow(/newer Casefile/);
  });

  it('streams artifact bytes in chunks with a sha256 equal to the bytes, and pages by line', () => {
    const c = store.createCase('demo');
    const w = store.beginArtifact({ caseId: c.id, name: 'big.txt', kind: 'text', source: 'import' });
    const lines: string[] = [];
    for (let i = 1; i <= 12000; i++) lines.push(`line ${i} ${'x'.repeat(i % 400)}`);
    const all = Buffer.from(lines.join('\n') + '\n');
    for (let off = 0; off < all.length; off += 77_777) w.write(all.subarray(off, off + 77_777));
    const id = w.finish({ exitCode: 0 });
    const a = store.getArtifact(id)!;
    expect(a.size).toBe(all.length);
    expect(a.sha256).toBe(createHash('sha256').update(all).digest('hex'));
    expect(a.lineCount).toBe(12000);
    expect(store.readArtifact(id).equals(all)).toBe(true);
    const chunks = store.db.prepare('SELECT count(*) FROM artifact_chunks WHERE artifact_id = ?').pluck().get(id) as number;
    expect(chunks).toBeGreaterThan(1);
    const page = readLines(store, a, 4321, 3);
    expect(page.lines).toEqual([lines[4320], lines[4321], lines[4322]]);
    expect(page.truncated).toBe(true);
  });

  it('keeps output that is not UTF-8 as bytes and counts what it will show as replacement characters', () => {
    const c = store.createCase('bytes');
    const bytes = Buffer.from([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x0a]);
    const id = store.putArtifact({ caseId: c.id, name: 'raw', kind: 'text', source: 'import' }, bytes);
    const a = store.getArtifact(id)!;
    expect(store.readArtifact(id).equals(bytes)).toBe(true);
    expect(a.invalidUtf8).toBeGreaterThanOrEqual(2);
    expect(readLines(store, a, 1, 10).lines[0]).toBe('ok \uFFFD\uFFFD');
  });

  it('ingests an artifact in one transaction: a failure leaves no half-written events', () => {
    const c = store.createCase('atomic');
    const id = store.putArtifact({ caseId: c.id, name: 'x', kind: 'text', source: 'import' }, Buffer.from('a\nb\n'));
    expect(() =>
      store.ingestEvents(id, (insert) => {
        for (let i = 0; i < 100; i++) insert({ kind: 'log', clock: 'none', text: `event ${i}`, data: {} });
        throw new Error('parser crashed half way');
      }),
    ).toThrow(/half way/);
    expect(store.db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(id)).toBe(0);
    expect(store.getArtifact(id)!.parseStatus).toBe('pending');
    const r = store.ingestEvents(id, (insert) => {
      insert({ kind: 'log', clock: 'host-wall', ts: 1_700_000_000_123_456_789n, text: 'server lab-c not responding', data: { n: 1n } });
      return { warnings: [] };
    });
    expect(r.eventCount).toBe(1);
    const ev = store.listEvents(c.id)[0]!;
    expect(ev.tsNs).toBe(1_700_000_000_123_456_789n); // nanoseconds survive the round trip exactly
    expect(ev.data).toEqual({ n: '1' });
  });

  it('a process killed in the middle of an ingest leaves the database consistent (real crash, real file)', async () => {
    const c = store.createCase('crash');
    const id = store.putArtifact({ caseId: c.id, name: 'x', kind: 'text', source: 'import' }, Buffer.from('a\n'));
    store.db.close();
    const { spawn } = await import('node:child_process');
    const dbFile = join(dir, 'casefile.db');
    // The child inserts events inside one transaction and is killed with SIGKILL before it commits.
    const code = `
      const D = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      const db = new D(${JSON.stringify(dbFile)}); db.pragma('journal_mode = WAL');
      db.exec('BEGIN');
      const ins = db.prepare("INSERT INTO events (case_id, artifact_id, kind, clock, text) VALUES (?, ?, 'log', 'none', 'x')");
      for (let i = 0; i < 50000; i++) ins.run(${c.id}, ${id});
      process.stdout.write('inserted\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ok) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('inserted') && ok()));
    child.kill('SIGKILL');
    await new Promise((ok) => child.on('exit', ok));
    const db = new Database(dbFile);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(0);
    db.close();
    store = new Store(openDb(dbFile));
  });

  it('indexes events for full-text search and turns what people type into a safe query', () => {
    const c = store.createCase('search');
    const id = store.putArtifact({ caseId: c.id, name: 'dmesg', kind: 'text', source: 'import' }, Buffer.from('x'));
    store.ingestEvents(id, (insert) => {
      insert({ kind: 'kernel', clock: 'boot', ts: 1n, text: 'lockd: server 10.0.0.5 not responding, still trying', data: {} });
      insert({ kind: 'kernel', clock: 'boot', ts: 2n, text: 'lockd: server 10.0.0.5 OK', data: {} });
      insert({ kind: 'kernel', clock: 'boot', ts: 3n, text: 'EXT4-fs mounted', data: {} });
      return { warnings: [] };
    });
    expect(ftsQuery('not respond')).toBe('"not" "respond"*');
    expect(ftsQuery('"; DROP TABLE events; --')).toBe('"DROP" "TABLE" "events"*');
    expect(ftsQuery('***')).toBeUndefined();
    const hits = searchCase(store, { caseId: c.id, query: 'lockd not respond', limit: 10 });
    expect(hits.map((h) => h.snippet)).toEqual(['[lockd]: server 10.0.0.5 [not] [responding], still trying']);
    expect(searchCase(store, { caseId: c.id, query: 'NEAR( AND OR "', limit: 10 })).toEqual([]);
  });

  it('keeps the edit history of annotations and refuses events of another case', () => {
    const c = store.createCase('notes');
    const other = store.createCase('other');
    const id = store.putArtifact({ caseId: other.id, name: 'x', kind: 'text', source: 'import' }, Buffer.from('x'));
    store.ingestEvents(id, (insert) => (insert({ kind: 'log', clock: 'none', text: 'x', data: {} }), { warnings: [] }));
    const evId = store.listEvents(other.id)[0]!.id;
    expect(() => store.addAnnotation({ caseId: c.id, target: 'event', eventId: evId, body: 'x' })).toThrow(/not in case/);
    const a = store.addAnnotation({ caseId: other.id, target: 'event', eventId: evId, body: 'first', marker: 'detection' });
    const b = store.updateAnnotation(a.id, { body: 'second', starred: true, marker: 'diagnosis' });
    expect(b.body).toBe('second');
    expect(b.starred).toBe(true);
    expect(b.history.map((h) => [h.body, h.marker])).toEqual([['first', 'detection']]);
  });

  it('validates case names', () => {
    expect(() => store.createCase('../../etc')).toThrow(/invalid case name/);
    expect(() => store.createCase('a\nb')).toThrow(/invalid case name/);
    expect(store.createCase('incident 2026-11-21').name).toBe('incident 2026-11-21');
  });
});
