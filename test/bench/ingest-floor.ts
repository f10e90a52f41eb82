/**
 * Where ingest time goes, step by step, on the ingest benchmark's own files (500k lines each; argument: lines):
 *   node bin/run-ts.mjs test/bench/ingest-floor.ts [LINES]
 * Prints per-line costs of: storing the evidence file (Store.putArtifact: chunks, SHA-256, line index); parsing
 * alone (nothing stored, events dropped); the whole ingest (ingestArtifact, inline and pipelined); a prototype of
 * an lnav-like block store (the parsed events laid out 512 to a row, FTS5 over each block's text, contentless);
 * and lnav's own count on the same file. It backs the "Where we are short" paragraph of the README.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LineFeeder } from '../../electron/ingest/lines';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import type { ParsedEvent } from '../../shared/model/event';
import { createTextParser } from '../../shared/parsers';
import type { ArtifactKind } from '../../shared/parsers/types';
import { benchTmp, generateStrace, generateSyslog } from './common';

const LINES = Number(process.argv[2] ?? 500_000);
const BOOT = BigInt(Date.UTC(2026, 10, 20, 8)) * 1_000_000n;
const dir = benchTmp('ingest-floor');

function fresh(name: string): { store: Store; close: () => void; caseId: number; hostId: number } {
  const f = path.join(dir, name);
  for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
  const db = openDb(f);
  const store = new Store(db);
  const c = store.createCase('floor');
  const h = store.upsertHost(c.id, { name: 'web1' });
  return { store, close: () => db.close(), caseId: c.id, hostId: h.id };
}

function best(n: number, f: () => number): number {
  let m = Infinity;
  for (let i = 0; i < n; i++) m = Math.min(m, f());
  return m;
}

function measure(label: string, file: string, kind: ArtifactKind): void {
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  const lines = text.split('\n').length - 1;
  const us = (ms: number): string => `${((ms * 1000) / lines).toFixed(2)} µs/line (${Math.round(ms)} ms)`;
  const put = best(3, () => {
    const s = fresh('put.db');
    const t = performance.now();
    s.store.putArtifact({ caseId: s.caseId, hostId: s.hostId, name: 'x', kind, source: 'import' }, bytes);
    const ms = performance.now() - t;
    s.close();
    return ms;
  });
  let events: ParsedEvent[] = [];
  const parse = best(3, () => {
    const t = performance.now();
    const parser = createTextParser(kind, { bootTimeNs: BOOT, host: 'web1' }, () => undefined)!;
    const feeder = new LineFeeder(parser);
    for (let i = 0; i < text.length; i += 1 << 20) feeder.push(text.slice(i, i + (1 << 20)));
    feeder.end('');
    return performance.now() - t;
  });
  const whole = (pipeline: boolean): number =>
    best(2, () => {
      const s = fresh('whole.db');
      const id = s.store.putArtifact({ caseId: s.caseId, hostId: s.hostId, name: 'x', kind, source: 'import', bootTimeNs: BOOT }, bytes);
      const t = performance.now();
      ingestArtifact(s.store, id, { pipeline });
      const ms = performance.now() - t;
      s.close();
      return ms;
    });
  const inline = whole(false);
  const piped = whole(true);
  // The block-store prototype: events kept in memory first (not timed), then laid out and written.
  const parser = createTextParser(kind, { bootTimeNs: BOOT, host: 'web1' }, (e) => events.push(e))!;
  const feeder = new LineFeeder(parser);
  feeder.push(text);
  feeder.end('');
  const block = best(2, () => {
    const s = fresh('block.db');
    s.store.db.exec(`CREATE TABLE eb (id INTEGER PRIMARY KEY, artifact_id INT, first_line INT, n INT, min_ts INT, max_ts INT, text TEXT, cols TEXT);
      CREATE VIRTUAL TABLE eb_fts USING fts5 (text, content = '', tokenize = 'unicode61', detail = none, columnsize = 0);`);
    const ins = s.store.db.prepare('INSERT INTO eb (artifact_id, first_line, n, min_ts, max_ts, text, cols) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const t = performance.now();
    s.store.db.transaction(() => {
      for (let i = 0; i < events.length; i += 512) {
        const part = events.slice(i, i + 512);
        const ts: (string | null)[] = [];
        let mn: bigint | undefined;
        let mx: bigint | undefined;
        for (const e of part) {
          ts.push(e.ts === undefined ? null : String(e.ts));
          if (e.ts !== undefined) {
            if (mn === undefined || e.ts < mn) mn = e.ts;
            if (mx === undefined || e.ts > mx) mx = e.ts;
          }
        }
        const cols = JSON.stringify({ ts, kind: part.map((e) => e.kind), line: part.map((e) => e.line ?? null), data: part.map((e) => (e.data ? JSON.stringify(e.data) : '')) });
        ins.run(1, part[0]!.line ?? null, part.length, mn ?? null, mx ?? null, part.map((e) => e.text).join('\n'), cols);
      }
      s.store.db.exec('INSERT INTO eb_fts (rowid, text) SELECT id, text FROM eb');
    })();
    const ms = performance.now() - t;
    s.close();
    return ms;
  });
  const nEvents = events.length;
  events = [];
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const lnav = best(3, () => {
    const t = performance.now();
    const r = spawnSync('lnav', ['-n', '-c', ';SELECT count(*) FROM all_logs', file], { env: { ...process.env, HOME: home, TERM: 'dumb' } });
    if (r.status !== 0) throw new Error(`lnav failed: ${r.stderr}`);
    return performance.now() - t;
  });
  process.stdout.write(
    [
      `${label}: ${lines} lines, ${nEvents} events, ${(bytes.length / 1e6).toFixed(1)} MB`,
      `  store the evidence file (putArtifact)       ${us(put)}`,
      `  parse only, nothing stored                  ${us(parse)}`,
      `  whole ingest, parsed inline                 ${us(inline)}  (+ putArtifact)`,
      `  whole ingest, parsed in the pipeline worker ${us(piped)}  (+ putArtifact)`,
      `  block-store prototype: lay out + write + FTS ${us(block)}  (+ putArtifact + parse)`,
      `  lnav -n -c 'SELECT count(*) FROM all_logs'  ${us(lnav)}  (everything, process start included)`,
      '',
    ].join('\n'),
  );
}

try {
  const syslog = path.join(dir, 'syslog.log');
  generateSyslog(syslog, LINES);
  measure('syslog+kernel', syslog, 'dmesg');
  const strace = path.join(dir, 'strace.txt');
  generateStrace(strace, LINES, 3, false);
  measure('strace -tt -T', strace, 'strace');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
