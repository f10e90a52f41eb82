/**
 * Fault: the backend killed with SIGKILL during a large ingest, 20 times over the same store (issue 7). A child
 * process (ingest-child.ts) streams a 12k-line syslog into an artifact and ingests it, again and again; we kill
 * it at a random moment (seeded, reproducible: FAULT_SEED) and then open the store as the app would. Every time:
 * `PRAGMA integrity_check` is ok, the FTS index agrees with the events table, every artifact is either still
 * pending with no events or holds exactly the full event count of that file (one transaction per ingest),
 * and the case reopens through Backend (the API the UI uses).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend } from '../../electron/api/backend';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { generateSyslog, rng } from '../bench/common';
import { alive, killPid, waitFor } from '../lab/proc';

const TRIALS = 20;
const SEED = Number(process.env.FAULT_SEED ?? 20261121);
const root = path.resolve(__dirname, '..', '..');
let dir: string;
let input: string;
let expected: number;
const started: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-fault-crash-'));
  input = path.join(dir, 'syslog.log');
  generateSyslog(input, 12_000, 5);
  // The full event count of this file, from a clean ingest in this process.
  const db = openDb(path.join(dir, 'reference.db'));
  const store = new Store(db);
  const c = store.createCase('ref');
  const id = store.putArtifact({ caseId: c.id, name: 'syslog', kind: 'auto', source: 'import' }, readFileSync(input));
  expected = ingestArtifact(store, id).eventCount;
  db.close();
});
afterAll(() => {
  for (const p of started) if (alive(p)) killPid(p, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Ingests the children finished through the pipeline worker (a kill can land in one of those too). */
let pipelinedDone = 0;

/** Start the child, wait until it has the store open, kill it `delayMs` later; resolve with the phase it was in. */
function crashOnce(dbFile: string, delayMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'bin', 'run-ts.mjs'), path.join(root, 'test', 'fault', 'ingest-child.ts'), dbFile, input], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(p.pid!);
    let out = '';
    let err = '';
    let armed = false;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!armed && out.includes('ready\n')) {
        armed = true;
        setTimeout(() => killPid(p.pid!, 'SIGKILL'), delayMs);
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`ingest child ended by itself (code ${code}): ${err.slice(-800)}`));
      const lines = out.trim().split('\n');
      pipelinedDone += lines.filter((l) => l.endsWith(' pipelined')).length;
      resolve(lines[lines.length - 1]!.split(' ')[0]!);
    });
  });
}

function checkStore(dbFile: string): { artifacts: number; pending: number; complete: number } {
  const db = openDb(dbFile);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // FTS5 external-content check: the index holds exactly the rows of `events` (throws SQLITE_CORRUPT_VTAB otherwise).
    db.prepare("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 1)").run();
    const rows = db
      .prepare(
        `SELECT a.id, a.parse_status, a.event_count, a.complete, (SELECT count(*) FROM events e WHERE e.artifact_id = a.id) AS n,
         (SELECT count(*) FROM artifacts_fts f WHERE f.rowid = a.id) AS fts FROM artifacts a ORDER BY a.id`,
      )
      .all() as { id: number; parse_status: string; event_count: number; complete: number; n: number; fts: number }[];
    let pending = 0;
    let complete = 0;
    for (const r of rows) {
      if (r.parse_status === 'pending') {
        expect({ id: r.id, n: r.n, count: r.event_count, fts: r.fts }).toEqual({ id: r.id, n: 0, count: 0, fts: 0 });
        pending++;
      } else {
        // Parsed means all of it: every event, indexed for full text (the integrity-check above proves events_fts
        // holds exactly the events). A clean parse is searched through its events, so it has no separate body row;
        // a partial one would (same transaction).
        expect({ id: r.id, status: r.parse_status, n: r.n, count: r.event_count, complete: r.complete, fts: r.fts }).toEqual({ id: r.id, status: 'parsed', n: expected, count: expected, complete: 1, fts: 0 });
        complete++;
      }
    }
    return { artifacts: rows.length, pending, complete };
  } finally {
    db.close();
  }
}

/** Artifacts whose bytes were fully stored but whose ingest was rolled back by a kill. */
function rolledBackIngests(dbFile: string): number {
  const db = openDb(dbFile, { readonly: true });
  try {
    return db.prepare("SELECT count(*) FROM artifacts WHERE parse_status = 'pending' AND complete = 1").pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('backend killed with SIGKILL during a large ingest, 20 trials', () => {
  it('the store is intact after every kill, no artifact is half-ingested, and the case reopens', async () => {
    expect(expected).toBeGreaterThan(5000);
    const dbFile = path.join(dir, 'casefile.db');
    const r = rng(SEED);
    const phases: Record<string, number> = {};
    let last = { artifacts: 0, pending: 0, complete: 0 };
    for (let i = 0; i < TRIALS; i++) {
      const delay = 50 + Math.floor(r() * 1500);
      const phase = await crashOnce(dbFile, delay);
      phases[phase] = (phases[phase] ?? 0) + 1;
      last = checkStore(dbFile);
    }
    // The kills landed where it matters: most of the child's time is the ingest transaction.
    expect(phases.ingest ?? 0, JSON.stringify(phases)).toBeGreaterThanOrEqual(3);
    // Half the child's ingests parse in the pipeline worker; some of those finished, so kills fell among them.
    expect(pipelinedDone).toBeGreaterThanOrEqual(1);
    // Every kill after `beginArtifact` left a row (a kill before it leaves none). A kill inside the ingest
    // transaction leaves the artifact pending (rolled back); one after its commit but before the child said
    // "done" leaves it parsed. Both kinds happened, and every finished loop left a parsed artifact.
    expect(last.artifacts).toBeGreaterThanOrEqual((phases.ingest ?? 0) + (phases.done ?? 0));
    expect(last.pending + last.complete).toBe(last.artifacts);
    expect(rolledBackIngests(dbFile)).toBeGreaterThanOrEqual(1);
    expect(last.complete).toBeGreaterThanOrEqual(phases.done ?? 0);

    // The case reopens through the API the UI uses, and a pending artifact can be ingested after the crash.
    const db = openDb(dbFile);
    const backend = new Backend({ db, dbFile, playbookDir: path.join(root, 'playbooks') });
    try {
      const cases = (await backend.call('cases.list', {})) as { id: number; name: string }[];
      const c = cases.find((x) => x.name === 'crash')!;
      expect(c).toBeDefined();
      const detail = (await backend.call('cases.get', { caseId: c.id })) as { artifacts: { id: number; eventCount: number }[] };
      expect(detail.artifacts).toHaveLength(last.artifacts);
      const pending = backend.store.listArtifacts(c.id).find((a) => a.parseStatus === 'pending' && a.complete);
      if (pending) expect(ingestArtifact(backend.store, pending.id).eventCount).toBe(expected);
      const hits = (await backend.call('search', { caseId: c.id, query: 'responding' })) as unknown[];
      expect(hits.length).toBeGreaterThan(0);
    } finally {
      await backend.dispose();
      db.close();
    }
    await waitFor('children gone', () => started.every((p) => !alive(p)), 2000);
  }, 150_000);
});
