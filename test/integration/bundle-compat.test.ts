/**
 * Bundles across schema versions and processes: a bundle written before migration 6 (no owner/restore columns)
 * still imports, with its runs, steps and artifacts; a bundle never carries which local process was working on a
 * row (owner tokens name this machine's boot and PIDs); and a run exported while it was live, once imported as a
 * read-only library case, is left exactly as exported by the startup recovery.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend } from '../../electron/api/backend';
import { exportBundle, importBundle } from '../../electron/export/bundle';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { openDb, type Db } from '../../electron/store/db';
import { MIGRATIONS } from '../../electron/store/migrations';

const fx = path.resolve(__dirname, '..', 'fixtures');
let dir: string;
let db: Db;
let backend: Backend;
let caseId: number;
let runId: number;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-bundle-compat-'));
  const dbFile = path.join(dir, 'casefile.db');
  db = openDb(dbFile);
  backend = new Backend({ db, dbFile });
  const store = backend.store;
  caseId = store.createCase('live-run').id;
  const h = store.upsertHost(caseId, { name: 'nfs-client' });
  // A run still in progress in this process: owner set on the run, the step and the artifact.
  // The YAML as the run used it: a local edit of the shipped playbook (another first-step title), so a plan read
  // from the stored YAML is told apart from one read from the file on disk.
  const yaml = readFileSync(path.resolve(__dirname, '..', '..', 'playbooks', 'stuck-process.yaml'), 'utf8').replace(/^(  - id: \S+\n    title: ).*$/m, '$1Edited first step');
  runId = store.createRun({ caseId, playbookId: 'stuck-process', playbookYaml: yaml, params: {}, hostIds: [h.id], headless: true }).id;
  const step = store.createStep({ runId, caseId, hostId: h.id, stepKey: 'strace', title: 'strace', intrusive: true, command: 'strace -p 1', restore: 'kill -0 1' });
  const a = store.putArtifact({ caseId, hostId: h.id, stepId: step.id, name: 'dmesg.txt', kind: 'auto', source: 'ssh' }, readFileSync(path.join(fx, 'kmsg', 'dmesg.txt')));
  ingestArtifact(store, a);
});
afterAll(async () => {
  await backend?.dispose();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bundles and owners', () => {
  it('exports no owner token, and keeps the restore command', () => {
    const f = path.join(dir, 'live.casefile');
    exportBundle(backend.store, caseId, f);
    const b = new Database(f, { readonly: true });
    try {
      for (const t of ['runs', 'steps', 'artifacts']) expect(b.prepare(`SELECT count(*) FROM ${t} WHERE owner IS NOT NULL`).pluck().get(), t).toBe(0);
      expect(b.prepare('SELECT restore FROM steps').pluck().all()).toEqual(['kill -0 1']);
    } finally {
      b.close();
    }
    // The live case itself still has its owners.
    expect(db.prepare('SELECT count(*) FROM runs WHERE owner IS NOT NULL').pluck().get()).toBe(1);
  });

  it('a run opened from a bundle shows its plan from the playbook it stored, not from the file on disk', async () => {
    const f = path.join(dir, 'plan.casefile');
    exportBundle(backend.store, caseId, f);
    const r = importBundle(backend.store, f, 'with-plan');
    const run = backend.store.listRuns(r.caseId)[0]!;
    const state = (await backend.call('runs.state', { runId: run.id })) as { plan: { stepKey: string; title: string; why: string; display: string }[] };
    expect(state.plan.length).toBeGreaterThan(5);
    expect(state.plan[0]!.title).toBe('Edited first step');
    expect(state.plan.every((p) => p.why.length > 20)).toBe(true);
    // Where a step ran, its command as run.
    expect(state.plan.find((p) => p.stepKey === 'strace')?.display).toBe('strace -p 1');
  });

  it('a redacted bundle names the host nowhere: not in run parameters, the stored playbook or restore commands', () => {
    const store = backend.store;
    const c = store.createCase('to-redact');
    const h = store.upsertHost(c.id, { name: 'filer-prod-7' });
    const run = store.createRun({ caseId: c.id, playbookId: 'nlm-lock-recovery', playbookYaml: 'id: nlm-lock-recovery\n# server filer-prod-7\n', params: { server: 'filer-prod-7', path: '/export/filer-prod-7' }, hostIds: [h.id], headless: true });
    store.createStep({ runId: run.id, caseId: c.id, hostId: h.id, stepKey: 'debug', title: 'rpcdebug on filer-prod-7', intrusive: true, command: 'rpcdebug -m nlm -s all', restore: 'ssh filer-prod-7 rpcdebug -m nlm -c all' });
    const f = path.join(dir, 'redacted.casefile');
    exportBundle(store, c.id, f, { redact: true });
    const b = new Database(f, { readonly: true });
    try {
      const leaks: string[] = [];
      for (const t of b.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%'").pluck().all() as string[]) {
        const cols = (b.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((x) => x.name);
        for (const row of b.prepare(`SELECT * FROM ${t}`).all() as Record<string, unknown>[]) {
          for (const col of cols) {
            const v = row[col];
            const text = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('latin1') : '';
            if (text.includes('filer-prod-7')) leaks.push(`${t}.${col}`);
          }
        }
      }
      expect(leaks).toEqual([]);
      // Still readable JSON after redaction.
      expect(Object.keys(JSON.parse(b.prepare('SELECT params_json FROM runs').pluck().get() as string) as object)).toEqual(['server', 'path']);
    } finally {
      b.close();
    }
  });

  it('imports a bundle written before owners and restores were recorded (schema 5)', async () => {
    const f = path.join(dir, 'v5.casefile');
    exportBundle(backend.store, caseId, f);
    const b = new Database(f);
    const prev = MIGRATIONS.at(-2)!.version;
    b.exec('ALTER TABLE runs DROP COLUMN owner; ALTER TABLE runs DROP COLUMN playbook_yaml; ALTER TABLE steps DROP COLUMN owner; ALTER TABLE steps DROP COLUMN restore; ALTER TABLE artifacts DROP COLUMN owner;');
    b.pragma(`user_version = ${prev}`);
    b.prepare("UPDATE bundle_info SET value = ? WHERE key = 'schema'").run(String(prev));
    b.close();
    const r = importBundle(backend.store, f, 'from-v5');
    expect(r.artifacts).toBe(1);
    expect(r.events).toBeGreaterThan(0);
    const steps = backend.store.listSteps(r.caseId);
    expect(steps.map((s) => [s.stepKey, s.status, s.restore])).toEqual([['strace', 'running', undefined]]);
    expect(backend.store.listRuns(r.caseId).map((x) => x.status)).toEqual(['running']);

    // The library copy is read-only evidence: the recovery at the next start leaves its live-looking run alone,
    // and does not touch the run of this (live) process either.
    const rec = await backend.recoverInterrupted();
    expect(rec.interruptedRuns).toEqual([]);
    expect(rec.interruptedSteps).toEqual([]);
    expect(backend.store.listRuns(r.caseId).map((x) => x.status)).toEqual(['running']);
    expect(backend.store.getRun(runId)!.status).toBe('running');
  });
});
