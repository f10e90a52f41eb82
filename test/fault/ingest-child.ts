/**
 * Child process for the SIGKILL fault test: imports the same text file again and again into DB through the path
 * the app takes (Backend.importArtifact: the bytes stored as an artifact, then parsed inline when small or in
 * the ingest worker thread when large — with the pipeline parse worker from 8 MiB — events + FTS in one
 * transaction, then the findings rules) until it is killed. It prints its phase as it goes so the parent knows
 * where the kill landed: `store I` before the bytes are stored, `ingest I` at the first progress of the parse,
 * `done I` once the import returned. Run: node bin/run-ts.mjs test/fault/ingest-child.ts DB FILE LABEL
 */
import { readFileSync } from 'node:fs';
import { Backend } from '../../electron/api/backend';
import { openDb } from '../../electron/store/db';

export async function main(args: string[]): Promise<number> {
  const [dbFile, file, label] = args;
  if (!dbFile || !file || !label) {
    process.stderr.write('usage: ingest-child.ts DB FILE LABEL\n');
    return 2;
  }
  const bytes = readFileSync(file);
  const db = openDb(dbFile);
  const backend = new Backend({ db, dbFile });
  const c = backend.store.ensureCase('crash');
  // Pipes are written synchronously on Linux: a phase line is out before the step it announces starts.
  const say = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  let phase = '';
  backend.onEvent((event) => {
    if (event === 'ingest.progress' && phase.startsWith('store ')) {
      phase = `ingest ${phase.slice(6)}`;
      say(phase);
    }
  });
  say('ready');
  for (let i = 0; ; i++) {
    phase = `store ${i}`;
    say(phase);
    const a = await backend.importArtifact(c.id, `syslog-${label}-${process.pid}-${i}`, bytes, { hostName: 'web1' });
    phase = `done ${i}`;
    say(`${phase} ${a.eventCount}`);
  }
}
