import { generateCase } from './search';
export async function main() {
  const g = generateCase('/tmp/cfb/s.db', 100000);
  const db = g.store.db;
  const from = g.startNs + 1000000000000n, to = from + 180000000000n;
  for (const w of ['"flock"', '"nlmclnt_lock"', '"apparmor"']) {
    const base = `SELECT e.id FROM events_fts JOIN events e ON e.id = events_fts.rowid WHERE events_fts MATCH ? AND e.case_id = ? AND e.ts_ns >= ? AND e.ts_ns < ? ORDER BY e.ts_ns LIMIT 200`;
    const alt = `SELECT e.id FROM events_fts JOIN events e ON e.id = events_fts.rowid WHERE events_fts MATCH ? AND e.case_id = ? AND +e.ts_ns >= ? AND +e.ts_ns < ? ORDER BY e.ts_ns LIMIT 200`;
    for (const [name, sql] of [['current', base], ['unary+', alt]]) {
      const t = performance.now(); const n = db.prepare(sql).all(w, g.caseId, from, to).length; console.log(w, name, n, Math.round(performance.now() - t), 'ms');
      if (w === '"flock"') console.log(db.prepare('EXPLAIN QUERY PLAN ' + sql).all(w, g.caseId, from, to).map((r: any) => r.detail).join(' | '));
    }
  }
}
