/**
 * Child process for the startup-recovery fault test: opens DB as the app does at startup and runs
 * Backend.recoverInterrupted. It prints `parsing ID` at the first progress of each re-parse (so the parent can
 * kill it there, as a parser bringing the process down would) and the result as JSON once recovery returned.
 * Run: node bin/run-ts.mjs test/fault/recover-child.ts DB
 */
import { Backend } from '../../electron/api/backend';
import { openDb } from '../../electron/store/db';

const dbFile = process.argv[2];
if (!dbFile) {
  process.stderr.write('usage: recover-child.ts DB\n');
  process.exit(2);
}
const backend = new Backend({ db: openDb(dbFile), dbFile });
const announced = new Set<number>();
backend.onEvent((event, payload) => {
  const id = (payload as { artifactId?: number }).artifactId;
  if (event === 'ingest.progress' && id !== undefined && !announced.has(id)) {
    announced.add(id);
    process.stdout.write(`parsing ${id}\n`);
  }
});
const result = await backend.recoverInterrupted();
process.stdout.write(`${JSON.stringify(result)}\n`);
backend.store.db.close();
