// Migration 3: event inserts no longer update the full-text index row by row (a trigger per insert made
// ingest four times slower). Whoever inserts events fills events_fts for them in the same transaction
// (Store.ingestEvents does, in one statement per artifact). Deletes keep their trigger.
export const sql = String.raw`
DROP TRIGGER IF EXISTS events_ai;
`;
