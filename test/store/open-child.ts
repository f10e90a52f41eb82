/** Child for the concurrent-migration test: opens (and so migrates) the store at argv[2], prints its schema version. */
import { openDb } from '../../electron/store/db';

const db = openDb(process.argv[2]!);
process.stdout.write(`${db.pragma('user_version', { simple: true }) as number}\n`);
db.close();
