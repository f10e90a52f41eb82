/**
 * Fault: the disk fills up during an ingest (issue 7). The data directory (CASEFILE_HOME) is a 2 MiB tmpfs that
 * this test mounts and unmounts itself. (1) an artifact larger than the disk cannot be stored: a clear
 * "disk is full" error, the store stays sound, and the half-stored artifact has no events; (2) an artifact that
 * fits but whose events and index do not: the ingest transaction fails as a whole (0 events, still pending),
 * the store passes `PRAGMA integrity_check`, and once there is room the same artifact ingests completely.
 * Requires root (mount), as CI runs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { dataDir, openStoreDir, type Db } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { generateSyslog } from '../bench/common';
import { run } from '../lab/proc';

let dir: string;
let home: string;
let home2: string;
const mounts: string[] = [];
let db: Db | undefined;
const savedHome = process.env.CASEFILE_HOME;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('disk-full fault test: must run as root (mounts a tmpfs); CI runs as root');
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-fault-disk-'));
  home = path.join(dir, 'home');
  home2 = path.join(dir, 'home2');
  for (const m of [home, home2]) {
    mkdirSync(m);
    run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'casefile-fault', m]);
    mounts.push(m);
  }
  process.env.CASEFILE_HOME = home;
});
afterAll(() => {
  db?.close();
  if (savedHome === undefined) delete process.env.CASEFILE_HOME;
  else process.env.CASEFILE_HOME = savedHome;
  for (const m of mounts) run('umount', [m], { allowFail: true });
  rmSync(dir, { recursive: true, force: true });
});

function sound(d: Db): void {
  expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
  d.prepare("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 1)").run();
}

describe('disk full during ingest', () => {
  it('an artifact bigger than the disk: a clear error, the store stays sound, the half-stored artifact has no events', () => {
    expect(dataDir()).toBe(home);
    db = openStoreDir();
    const store = new Store(db);
    const c = store.createCase('full');

    // (1) bigger than the whole disk: storing the bytes fails.
    const big = path.join(dir, 'big.log');
    generateSyslog(big, 40_000, 9); // ~4 MB
    let err: unknown;
    try {
      store.putArtifact({ caseId: c.id, name: 'big.log', kind: 'auto', source: 'import' }, readFileSync(big));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error & { code?: string }).code).toBe('SQLITE_FULL');
    expect((err as Error).message).toMatch(/database or disk is full/);
    sound(db);
    for (const a of store.listArtifacts(c.id)) {
      expect(a.complete).toBe(false);
      expect(a.parseStatus).toBe('pending');
      expect(db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(a.id)).toBe(0);
    }
    db.close();
    db = undefined;
  }, 60_000);

  it('an ingest whose events do not fit fails as a whole, and succeeds once there is room', () => {
    // (2) the bytes fit, their events and full-text index do not: the ingest transaction fails whole.
    db = openStoreDir(home2);
    const store = new Store(db);
    const c = store.createCase('full2');
    const mid = path.join(dir, 'mid.log');
    generateSyslog(mid, 5_000, 10); // ~500 KB of text → several MB of events + FTS
    const id = store.putArtifact({ caseId: c.id, name: 'mid.log', kind: 'auto', source: 'import' }, readFileSync(mid));
    expect(store.getArtifact(id)!.complete).toBe(true);
    let err2: unknown;
    try {
      ingestArtifact(store, id);
    } catch (e) {
      err2 = e;
    }
    expect((err2 as Error & { code?: string })?.code).toBe('SQLITE_FULL');
    expect((err2 as Error).message).toMatch(/database or disk is full/);
    sound(db);
    const after = store.getArtifact(id)!;
    expect(after.parseStatus).toBe('pending');
    expect(after.eventCount).toBe(0);
    expect(db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(id)).toBe(0);

    // Room again (the tmpfs grows): the same artifact ingests completely, same count as on a roomy disk.
    run('mount', ['-o', 'remount,size=64m', home2]);
    const r = ingestArtifact(store, id);
    expect(r.eventCount).toBeGreaterThan(3000);
    expect(db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(id)).toBe(r.eventCount);
    expect(store.getArtifact(id)!.parseStatus).toBe('parsed');
    sound(db);
    db.close();
    db = undefined;
  }, 60_000);
});
