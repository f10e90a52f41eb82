/**
 * Startup recovery of interrupted ingests (Backend.recoverInterrupted), with real SIGKILLs: an artifact whose
 * bytes were stored but whose parse never finished is parsed again at the next start; if the process dies during
 * that re-parse too (as a parser that crashes the process would make it), each attempt has been noted before it
 * ran, and after two such attempts the artifact is reported failed instead of being retried at every start (a
 * crash loop). The bytes are kept either way. The child (recover-child.ts) is what the app runs at startup.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend } from '../../electron/api/backend';
import { openDb } from '../../electron/store/db';
import { ownerOf } from '../../electron/store/owner';
import { generateSyslog } from '../bench/common';
import { exitedOwner } from './dead-owner';

const root = path.join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-recover-'));
const dbFile = path.join(dir, 'casefile.db');
const big = path.join(dir, 'big.log');
const small = path.join(dir, 'small.log');
let bigBytes: Buffer;
let smallBytes: Buffer;
/** Events of each file imported normally (reference counts). */
const reference = { big: 0, small: 0 };

interface ChildOutcome {
  readonly killed: boolean;
  readonly parsing: number[];
  readonly result?: { reingested: number[]; failed: number[]; interruptedRuns: number[]; interruptedSteps: number[] };
}

/** Start the app's recovery in a child; SIGKILL it at the first re-parse of `killAt` (if given). */
function recover(killAt?: number): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'bin', 'run-ts.mjs'), path.join(root, 'test', 'fault', 'recover-child.ts'), dbFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const parsing: number[] = [];
    let out = '';
    let err = '';
    let killed = false;
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`recover-child did not finish in 60 s: ${err}`));
    }, 60_000);
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const m of out.matchAll(/^parsing (\d+)$/gm)) {
        const id = Number(m[1]);
        if (!parsing.includes(id)) parsing.push(id);
        if (id === killAt && !killed) {
          killed = true;
          p.kill('SIGKILL');
        }
      }
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return resolve({ killed: true, parsing });
      if (code !== 0) return reject(new Error(`recover-child exited ${code}: ${err}`));
      const last = out.trim().split('\n').pop() ?? '';
      resolve({ killed: false, parsing, result: JSON.parse(last) as ChildOutcome['result'] });
    });
  });
}

function artifact(id: number): { status: string; warnings: string[]; events: number; sha: string; bytes: Buffer } {
  const db = openDb(dbFile);
  try {
    const a = db.prepare('SELECT parse_status AS status, parse_warnings AS warnings, sha256 AS sha FROM artifacts WHERE id = ?').get(id) as { status: string; warnings: string | null; sha: string };
    const events = db.prepare('SELECT count(*) FROM events WHERE artifact_id = ?').pluck().get(id) as number;
    const chunks = db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? ORDER BY seq').pluck().all(id) as Buffer[];
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return { status: a.status, warnings: JSON.parse(a.warnings ?? '[]') as string[], events, sha: a.sha, bytes: Buffer.concat(chunks) };
  } finally {
    db.close();
  }
}

/**
 * Store a file as an artifact whose parse never ran (what a kill during the first ingest leaves): stored by this
 * process, then owned by a process that has exited, as the killed importer's row would be.
 */
async function storeUnparsed(name: string, bytes: Buffer): Promise<number> {
  const owner = await exitedOwner();
  const db = openDb(dbFile);
  try {
    const b = new Backend({ db, dbFile });
    const c = b.store.ensureCase('recover');
    const id = b.store.putArtifact({ caseId: c.id, name, kind: 'auto', source: 'import' }, bytes);
    db.prepare('UPDATE artifacts SET owner = ? WHERE id = ?').run(owner, id);
    return id;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  generateSyslog(big, 120_000, 7); // ~11 MB: parsed in the ingest worker, long enough to be killed mid-parse
  generateSyslog(small, 3_000, 8);
  bigBytes = readFileSync(big);
  smallBytes = readFileSync(small);
  const refFile = path.join(dir, 'reference.db');
  const db = openDb(refFile);
  const b = new Backend({ db, dbFile: refFile });
  const c = b.store.ensureCase('reference');
  reference.big = (await b.importArtifact(c.id, 'big.log', bigBytes)).eventCount;
  reference.small = (await b.importArtifact(c.id, 'small.log', smallBytes)).eventCount;
  db.close();
  expect(reference.big).toBeGreaterThan(50_000);
  expect(reference.small).toBeGreaterThan(1_000);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startup recovery of interrupted ingests', () => {
  it('a stored, unparsed artifact is parsed again at startup, to the same events as a normal import', async () => {
    const id = await storeUnparsed('small.log', smallBytes);
    expect(artifact(id).status).toBe('pending');
    const r = await recover();
    expect(r.result).toEqual({ reingested: [id], failed: [], interruptedRuns: [], interruptedSteps: [] });
    const a = artifact(id);
    expect(a.status).toBe('parsed');
    expect(a.events).toBe(reference.small);
    expect(a.warnings.filter((w) => w.startsWith('Casefile stopped'))).toEqual([]);
    // Nothing pending any more: the next start has nothing to do.
    expect((await recover()).result).toEqual({ reingested: [], failed: [], interruptedRuns: [], interruptedSteps: [] });
  }, 60_000);

  it('a re-parse killed twice is reported failed, not retried at every start; the bytes are kept', async () => {
    const id = await storeUnparsed('big.log', bigBytes);
    const sha = artifact(id).sha;
    for (const attempt of [1, 2]) {
      const r = await recover(id);
      expect(r.killed, `attempt ${attempt} was killed mid-parse`).toBe(true);
      const a = artifact(id);
      expect(a.status).toBe('pending');
      expect(a.events).toBe(0); // the killed parse rolled back whole
      expect(a.warnings.filter((w) => w.startsWith('Casefile stopped while parsing'))).toHaveLength(attempt);
    }
    const r = await recover(id);
    expect(r.killed).toBe(false);
    expect(r.parsing).not.toContain(id); // not parsed a third time
    expect(r.result).toEqual({ reingested: [], failed: [id], interruptedRuns: [], interruptedSteps: [] });
    const a = artifact(id);
    expect(a.status).toBe('failed');
    expect(a.events).toBe(0);
    expect(a.warnings.join(' ')).toMatch(/stopped 2 times while parsing it again at startup, so it is no longer retried/);
    expect(createHash('sha256').update(a.bytes).digest('hex')).toBe(sha);
    expect(a.bytes.equals(bigBytes)).toBe(true);
  }, 120_000);

  it('an artifact another live process is still storing is left to it; once that process is gone, it is recovered', async () => {
    // The owner is a real running process (as a `casefile run` in another terminal sharing the data directory).
    const live = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => live.on('exit', () => resolve()));
    try {
      const id = await storeUnparsed('small-live.log', smallBytes);
      const db = openDb(dbFile);
      db.prepare('UPDATE artifacts SET owner = ? WHERE id = ?').run(ownerOf(live.pid!), id);
      db.close();
      const r = await recover();
      expect(r.result).toEqual({ reingested: [], failed: [], interruptedRuns: [], interruptedSteps: [] });
      expect(artifact(id).status).toBe('pending');
      live.kill('SIGKILL');
      await exited;
      expect((await recover()).result?.reingested).toEqual([id]);
      expect(artifact(id).events).toBe(reference.small);
    } finally {
      if (live.exitCode === null && live.signalCode === null) live.kill('SIGKILL');
    }
  }, 60_000);

  it('one interrupted re-parse is retried and then completes, leaving no recovery note', async () => {
    const id = await storeUnparsed('big-2.log', bigBytes);
    expect((await recover(id)).killed).toBe(true);
    expect(artifact(id).warnings).toHaveLength(1);
    const r = await recover();
    expect(r.result?.reingested).toContain(id);
    const a = artifact(id);
    expect(a.status).toBe('parsed');
    expect(a.events).toBe(reference.big);
    expect(a.warnings.filter((w) => w.startsWith('Casefile stopped'))).toEqual([]);
  }, 120_000);
});
