/**
 * Child process for the SIGKILL fault test: ingests the same text file again and again into DB through the
 * real path (bytes streamed into an artifact in 256 KiB writes, then ingestArtifact: parse + events + FTS in
 * one transaction) until it is killed. It prints its phase before each step so the parent knows where the
 * kill landed. Run: node bin/run-ts.mjs test/fault/ingest-child.ts DB FILE
 */
import { readFileSync } from 'node:fs';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { ingestArtifact } from '../../electron/ingest/ingest';

export async function main(args: string[]): Promise<number> {
  const [dbFile, file] = args;
  if (!dbFile || !file) {
    process.stderr.write('usage: ingest-child.ts DB FILE\n');
    return 2;
  }
  const bytes = readFileSync(file);
  const db = openDb(dbFile);
  const store = new Store(db);
  const c = store.ensureCase('crash');
  const h = store.upsertHost(c.id, { name: 'web1' });
  const say = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  say('ready');
  for (let i = 0; ; i++) {
    say(`store ${i}`);
    const w = store.beginArtifact({ caseId: c.id, hostId: h.id, name: `syslog-${process.pid}-${i}`, kind: 'auto', source: 'import' });
    for (let off = 0; off < bytes.length; off += 256 * 1024) w.write(bytes.subarray(off, off + 256 * 1024));
    w.finish({ exitCode: 0 });
    say(`ingest ${i}`);
    // Every other ingest parses in the pipeline worker (the default for large artifacts), so kills land in both.
    const r = ingestArtifact(store, w.id, { pipeline: i % 2 === 1 });
    say(`done ${i}${r.pipelined ? ' pipelined' : ''}`);
  }
}
