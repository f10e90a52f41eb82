import { readFileSync } from 'node:fs';
import { generateStrace } from './common';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { ingestArtifact } from '../../electron/ingest/ingest';
export async function main() {
  const f = `/tmp/cfb/strace.txt`; generateStrace(f, 200000);
  for (const cache of [0, 1]) {
    const db = openDb(`/tmp/cfb/s${cache}.db`); if (cache) db.pragma('cache_size=-131072'); const s = new Store(db); const c = s.createCase('x');
    const id = s.putArtifact({ caseId: c.id, name: 'k', kind: 'strace', source: 'import' }, readFileSync(f));
    const t = performance.now(); const r = ingestArtifact(s, id); console.log('cache', cache, 'ingestArtifact ms', Math.round(performance.now() - t), r.eventCount);
    db.close();
  }
}
