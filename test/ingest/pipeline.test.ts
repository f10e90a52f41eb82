import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, openDb } from '../../electron/store/db';
import { MIGRATIONS } from '../../electron/store/migrations';
import { Store } from '../../electron/store/store';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { stopParseWorker } from '../../electron/ingest/pipeline';
import { searchCase } from '../../electron/api/queries';

/**
 * The two-core ingest (a worker parses while this thread inserts, in the same one transaction) must store
 * exactly what the inline parse stores, and keep the all-or-nothing guarantee when an insert fails mid-way.
 */
const logs = resolve(__dirname, '..', 'fixtures', 'logs');
const kmsg = resolve(__dirname, '..', 'fixtures', 'kmsg');
let dir: string;
let store: Store;
let caseId: number;
let hostId: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-pipeline-'));
  store = new Store(openDb(join(dir, 'c.db')));
  caseId = store.createCase('p').id;
  hostId = store.upsertHost(caseId, { name: 'web1' }).id;
});
afterAll(async () => {
  await stopParseWorker();
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const BOOT = 1_763_700_000_000_000_000n;
function put(name: string, bytes: Uint8Array, kind: string): number {
  return store.putArtifact({ caseId, hostId, name, kind, source: 'import', bootTimeNs: BOOT }, bytes);
}
function stored(id: number) {
  const events = store.listEvents(caseId, { artifactId: id, limit: 1_000_000 }).map(({ id: _id, artifactId: _a, ...rest }) => rest);
  const lanes = store.db.prepare('SELECT kind, count, timed, min_ts, max_ts FROM artifact_lanes WHERE artifact_id = ? ORDER BY kind').safeIntegers(true).all(id);
  const art = store.getArtifact(id)!;
  const body = store.db.prepare('SELECT body FROM artifacts_fts WHERE rowid = ?').pluck().get(id) as string | undefined;
  return { events, lanes, status: art.parseStatus, warnings: art.parseWarnings, count: art.eventCount, body };
}
function hits(word: string, artifactId: number): number[] {
  return searchCase(store, { caseId, query: word, limit: 100_000 } as Parameters<typeof searchCase>[1])
    .filter((h) => h.type === 'event' && h.artifactId === artifactId)
    .map((h) => h.line ?? -1);
}

describe('ingest pipeline (parse in a worker, insert here)', () => {
  const cases: [string, () => Uint8Array, string, string][] = [
    ['lnav strace -f -tt -T -yy', () => readFileSync(join(logs, 'lnav__strace_f_tt_T_yy.log')), 'strace', 'mmap'],
    ['lnav strace -f -ttt -T', () => readFileSync(join(logs, 'lnav__strace_f_ttt_T.log')), 'strace', 'read'],
    ['lnav strace -tt -T', () => readFileSync(join(logs, 'lnav__strace_tt_T.log')), 'strace', 'open'],
    ['hung tasks (linux-nfs)', () => readFileSync(join(logs, 'linux-nfs-ml__loopback_nfs_hung_task.dmesg')), 'dmesg', 'nfs'],
    ['sysrq blocked state', () => readFileSync(join(logs, 'linux-nfs-ml__nfs42_client_hang_sysrq_blocked.dmesg')), 'dmesg', 'task'],
    ['dmesg -T and syslog', () => readFileSync(join(logs, 'linux-nfs-ml__nfsd_zombie_dmesgT_and_syslog.log')), 'dmesg', 'nfsd'],
    ['kmsg dmesg -T', () => readFileSync(join(kmsg, 'dmesg-T.txt')), 'dmesg', 'nfs'],
    [
      // Real lines repeated with CRLF endings across several 1 MiB chunk boundaries (lines cut between chunks).
      'CRLF across chunk boundaries',
      () => {
        const text = readFileSync(join(logs, 'linux-nfs-ml__nfs_not_responding_then_OK.dmesg'), 'utf8').replace(/\r?\n/g, '\r\n');
        return Buffer.from(text.repeat(Math.ceil((3.5 * (1 << 20)) / text.length)));
      },
      'dmesg',
      'responding',
    ],
    [
      // A line longer than the 1 MiB cap: cut and reported, so the artifact is partial and also indexed whole.
      'an over-long line (partial)',
      () => Buffer.from(`${readFileSync(join(logs, 'lnav__strace_tt_T.log'), 'utf8')}${'x'.repeat(3 << 20)}\n08:00:00.000001 close(3) = 0 <0.000010>\n`),
      'strace',
      'close',
    ],
  ];
  for (const [name, bytes, kind, word] of cases) {
    it(`stores the same as the inline parse: ${name}`, () => {
      const b = bytes();
      const a = put(`${name}-inline`, b, kind);
      const p = put(`${name}-pipeline`, b, kind);
      const ri = ingestArtifact(store, a, { pipeline: false });
      const progress: number[] = [];
      const rp = ingestArtifact(store, p, { pipeline: true, onProgress: (d) => progress.push(d) });
      expect(ri.pipelined).toBe(false);
      expect(rp.pipelined).toBe(true);
      expect(rp).toEqual({ ...ri, artifactId: p, pipelined: true });
      expect(ri.eventCount).toBeGreaterThan(0);
      expect(stored(p)).toEqual(stored(a));
      expect(progress.at(-1)).toBe(b.length);
      const found = hits(word, a);
      expect(found.length).toBeGreaterThan(0);
      expect(hits(word, p)).toEqual(found);
    });
  }

  it('the over-long line case really went through the partial path', () => {
    const b = Buffer.from(`close(3) = 0\n${'y'.repeat(3 << 20)}\n`);
    const id = put('long', b, 'strace');
    const r = ingestArtifact(store, id, { pipeline: true });
    expect(r.status).toBe('partial');
    expect(r.warnings.join(' ')).toMatch(/longer than 1048576 bytes were cut/);
    expect(stored(id).body?.startsWith('close(3) = 0\n')).toBe(true);
  });

  it('rolls the whole artifact back when an insert fails mid-stream, and the worker serves the next ingest', () => {
    const b = Buffer.from(readFileSync(join(logs, 'lnav__strace_f_tt_T_yy.log'), 'utf8').repeat(40));
    const id = put('fails', b, 'strace');
    const before = store.getArtifact(id)!;
    // A real SQLite failure after many rows went in: a trigger aborting the insert of one late line.
    store.db.exec('CREATE TEMP TRIGGER boom BEFORE INSERT ON events WHEN new.line = 3000 BEGIN SELECT RAISE(ABORT, \'disk on fire\'); END');
    try {
      expect(() => ingestArtifact(store, id, { pipeline: true })).toThrow(/disk on fire/);
    } finally {
      store.db.exec('DROP TRIGGER boom');
    }
    expect(store.db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(id)).toBe(0);
    expect(store.db.prepare('SELECT count(*) FROM artifact_lanes WHERE artifact_id = ?').pluck().get(id)).toBe(0);
    expect(store.getArtifact(id)!.parseStatus).toBe(before.parseStatus);
    // FTS5 raises SQLITE_CORRUPT_VTAB when the index and the events table disagree.
    expect(() => store.db.prepare("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    // The same artifact again, now without the fault: complete, and equal to an inline parse.
    const r = ingestArtifact(store, id, { pipeline: true });
    const ref = put('fails-ref', b, 'strace');
    const ri = ingestArtifact(store, ref, { pipeline: false });
    expect(r.eventCount).toBe(ri.eventCount);
    expect(r.eventCount).toBeGreaterThan(3000);
    expect(stored(id)).toEqual(stored(ref));
  });
});

describe('migration 4 (events_fts without per-row sizes)', () => {
  it('rebuilds the index of an existing store: search and snippets still find old events', () => {
    const db = new Database(join(dir, 'v3.db'));
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) db.exec(m.sql);
    db.pragma('user_version = 3');
    db.exec("INSERT INTO cases (id, name, created_ns) VALUES (1, 'old', 0); INSERT INTO artifacts (id, case_id, name, kind, source) VALUES (1, 1, 'd', 'dmesg', 'import')");
    const ins = db.prepare("INSERT INTO events (case_id, artifact_id, kind, clock, line, text) VALUES (1, 1, 'kernel', 'none', ?, ?)");
    ins.run(1, 'nfs: server filer1 not responding, still trying');
    ins.run(2, 'INFO: task flock:4242 blocked in nfs4_wait_clnt_recover');
    db.exec('INSERT INTO events_fts (rowid, text) SELECT id, text FROM events');
    migrate(db);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'events_fts'").pluck().get()).toMatch(/columnsize = 0/);
    const s = new Store(db);
    const found = searchCase(s, { caseId: 1, query: 'nfs4_wait_clnt_recover', limit: 10 } as Parameters<typeof searchCase>[1]);
    expect(found.map((h) => [h.line, h.snippet])).toEqual([[2, 'INFO: task flock:4242 blocked in [nfs4_wait_clnt_recover]']]);
    // Deleting events still removes them from the index (the delete trigger survives the rebuild).
    db.exec('DELETE FROM events WHERE line = 1');
    expect(db.prepare("SELECT count(*) FROM events_fts WHERE events_fts MATCH 'filer1'").pluck().get()).toBe(0);
    expect(() => db.prepare("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    db.close();
  });
});
