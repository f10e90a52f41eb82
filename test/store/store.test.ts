import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { openDb, migrate } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { readLines, ftsQuery, searchCase } from '../../electron/api/queries';

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
    expect(store.db.pragma('user_version', { simple: true })).toBe(5);
    // Migrating again is a no-op.
    migrate(store.db);
    expect(store.db.pragma('user_version', { simple: true })).toBe(5);
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
