/**
 * Fault: the disk fills up during an ingest (issue 7). The data directory (CASEFILE_HOME) is a 2 MiB tmpfs that
 * this test mounts and unmounts itself. Files are imported through the API the UI calls (`artifacts.import`,
 * i.e. Backend.importArtifact). (1) an artifact larger than the disk cannot be stored; (2) an artifact that fits
 * but whose events and index do not: the ingest transaction fails as a whole. Each time the caller gets an error
 * that says the disk is full and what to do (not only SQLITE_FULL), the artifact is marked failed with that
 * reason (no events, never left 'pending'), and the store, closed and reopened, passes `PRAGMA integrity_check`.
 * Once there is room, the same file imports completely: exactly as many events as on a roomy disk.
 * Requires root (mount), as CI runs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, Backend } from '../../electron/api/backend';
import { dataDir, openDb, openStoreDir, type Db } from '../../electron/store/db';
import { generateSyslog } from '../bench/common';
import { run } from '../lab/proc';

let dir: string;
let home: string;
let home2: string;
const mounts: string[] = [];
const open: { db: Db; backend: Backend }[] = [];
const savedHome = process.env.CASEFILE_HOME;
let big: string;
let mid: string;
/** Events of mid.log imported through the same API on a roomy disk. */
let reference = 0;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('disk-full fault test: must run as root (mounts a tmpfs); CI runs as root');
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-fault-disk-'));
  home = path.join(dir, 'home');
  home2 = path.join(dir, 'home2');
  for (const m of [home, home2]) {
    mkdirSync(m);
    run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', `casefile-fault-disk-${path.basename(dir)}`, m]);
    mounts.push(m);
  }
  process.env.CASEFILE_HOME = home;
  big = path.join(dir, 'big.log');
  generateSyslog(big, 40_000, 9); // ~4 MB
  mid = path.join(dir, 'mid.log');
  generateSyslog(mid, 5_000, 10); // ~500 KB of text → several MB of events + FTS
  const roomy = path.join(dir, 'roomy');
  mkdirSync(roomy);
  const { db, backend } = start(roomy);
  const c = backend.store.createCase('roomy');
  reference = ((await importFile(backend, c.id, mid)) as { eventCount: number }).eventCount;
  await stop();
});
afterAll(async () => {
  await stop();
  if (savedHome === undefined) delete process.env.CASEFILE_HOME;
  else process.env.CASEFILE_HOME = savedHome;
  for (const m of mounts) run('umount', [m], { allowFail: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Open the store in a data folder and a Backend on it, as the app does. */
function start(folder: string): { db: Db; backend: Backend } {
  const db = openStoreDir(folder);
  const backend = new Backend({ db, dbFile: path.join(folder, 'casefile.db') });
  open.push({ db, backend });
  return { db, backend };
}
async function stop(): Promise<void> {
  for (const o of open.splice(0)) {
    await o.backend.dispose();
    o.db.close();
  }
}

function importFile(backend: Backend, caseId: number, file: string): Promise<unknown> {
  return backend.call('artifacts.import', { caseId, name: path.basename(file), base64: readFileSync(file).toString('base64') });
}

/** The error the caller of the API gets. */
async function refusal(p: Promise<unknown>): Promise<ApiError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'the import must fail').toBeInstanceOf(ApiError);
  return err as ApiError;
}

/** Integrity checked on a connection of its own, after the app's connection was closed. */
function sound(folder: string): void {
  const db = openDb(path.join(folder, 'casefile.db'));
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.prepare("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 1)").run();
  } finally {
    db.close();
  }
}

const FULL = /^(big|mid)\.log could not be imported: the disk holding the Casefile data is full \(SQLITE_FULL\)\. Free some space and import it again\.$/;

describe('disk full during ingest', () => {
  it('an artifact bigger than the disk: a clear error, the store stays sound, the half-stored artifact is failed with no events', async () => {
    expect(dataDir()).toBe(home);
    const { db, backend } = start(home);
    const c = backend.store.createCase('full');
    const err = await refusal(importFile(backend, c.id, big));
    expect(err.code).toBe('disk-full');
    expect(err.message).toMatch(FULL);
    const arts = backend.store.listArtifacts(c.id);
    expect(arts).toHaveLength(1);
    expect(arts[0]!).toMatchObject({ complete: false, parseStatus: 'failed', eventCount: 0 });
    expect(arts[0]!.parseWarnings.join(' ')).toMatch(FULL);
    expect(db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(arts[0]!.id)).toBe(0);
    await stop();

    // Closed and reopened, as after a restart: sound, and the artifact still says why (nothing for recovery to redo).
    sound(home);
    const again = start(home);
    expect(await again.backend.recoverInterrupted()).toEqual({ reingested: [], failed: [], interruptedRuns: [], interruptedSteps: [] });
    const detail = (await again.backend.call('cases.get', { caseId: c.id })) as { artifacts: { parseStatus: string; parseWarnings: string[]; eventCount: number }[] };
    expect(detail.artifacts).toHaveLength(1);
    expect(detail.artifacts[0]).toMatchObject({ parseStatus: 'failed', eventCount: 0 });
    await stop();
  }, 60_000);

  it('an ingest whose events do not fit fails as a whole, and the same file imports completely once there is room', async () => {
    const { db, backend } = start(home2);
    const c = backend.store.createCase('full2');
    const err = await refusal(importFile(backend, c.id, mid));
    expect(err.code).toBe('disk-full');
    expect(err.message).toMatch(FULL);
    const arts = backend.store.listArtifacts(c.id);
    expect(arts).toHaveLength(1);
    const id = arts[0]!.id;
    // The bytes were stored whole; the ingest transaction rolled back whole.
    expect(arts[0]!).toMatchObject({ complete: true, parseStatus: 'failed', eventCount: 0 });
    expect(db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(id)).toBe(0);
    expect(db.prepare('SELECT count(*) FROM artifact_lanes WHERE artifact_id = ?').pluck().get(id)).toBe(0);
    await stop();
    sound(home2);

    // Room again (the tmpfs grows): the same file imports completely, exactly as many events as on a roomy disk.
    run('mount', ['-o', 'remount,size=64m', home2]);
    const again = start(home2);
    const a = (await importFile(again.backend, c.id, mid)) as { id: number; eventCount: number; parseStatus: string };
    expect(reference).toBeGreaterThan(3000);
    expect(a).toMatchObject({ parseStatus: 'parsed', eventCount: reference });
    expect(again.db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(a.id)).toBe(reference);
    // The failed attempt stays as it was, saying why.
    expect(again.backend.store.getArtifact(id)).toMatchObject({ parseStatus: 'failed', eventCount: 0 });
    await stop();
    sound(home2);
  }, 60_000);
});
