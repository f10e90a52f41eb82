import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { ingest } from '../../electron/ingest/run';
import { ingestArtifact } from '../../electron/ingest/ingest';

/** Large artifacts are parsed in a worker thread with its own connection; the result equals the inline parse. */
let dir: string;
let store: Store;
let dbFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-worker-'));
  dbFile = join(dir, 'c.db');
  store = new Store(openDb(dbFile));
});
afterAll(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ingest in a worker thread', () => {
  it('gives the same events as the inline parse, while the caller keeps running', async () => {
    const c = store.createCase('w');
    const pcap = readFileSync(resolve(__dirname, '..', 'fixtures', 'pcaps', 'lab__getattr-flood.pcap'));
    const a = store.putArtifact({ caseId: c.id, name: 'a.pcap', kind: 'auto', source: 'import' }, pcap);
    const b = store.putArtifact({ caseId: c.id, name: 'b.pcap', kind: 'auto', source: 'import' }, pcap);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const progress: number[] = [];
    const viaWorker = await ingest(store, a, { dbFile, forceWorker: true, onProgress: (d) => progress.push(d) });
    clearInterval(timer);
    const inline = ingestArtifact(store, b);
    expect(viaWorker.kind).toBe('pcap');
    expect(viaWorker.eventCount).toBe(inline.eventCount);
    expect(viaWorker.eventCount).toBeGreaterThan(2900);
    expect(progress.at(-1)).toBe(pcap.length);
    expect(ticks).toBeGreaterThan(0); // the event loop was free while the worker parsed
    const texts = (id: number) => store.listEvents(c.id, { artifactId: id, limit: 10_000 }).map((e) => [e.kind, e.tsNs, e.text]);
    expect(texts(a)).toEqual(texts(b));
    expect(store.getArtifact(a)!.parseStatus).toBe(store.getArtifact(b)!.parseStatus);
  });

  it('reports a worker failure as an error, leaving no events', async () => {
    await expect(ingest(store, 999_999, { dbFile, forceWorker: true })).rejects.toThrow(/not found/);
  });
});
