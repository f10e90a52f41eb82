// Migration 5: events pre-counted in 100 ms bins per artifact and kind (count, first id, highest level), written at
// ingest. The timeline aggregates these instead of every event when a bucket spans 1.6 s or more, so a whole-case
// overview of a million events needs no sort of a million rows.
export const BIN_NS = 100_000_000n;
const LEVEL_RANK = `CASE level WHEN 'emerg' THEN 7 WHEN 'alert' THEN 6 WHEN 'crit' THEN 5 WHEN 'err' THEN 4 WHEN 'warn' THEN 3 WHEN 'notice' THEN 2 WHEN 'info' THEN 1 WHEN 'debug' THEN 0 ELSE -1 END`;

/** The bins of one artifact's (or a case's) events; `WHERE` is appended by the caller. */
export const BIN_SELECT = `SELECT artifact_id, case_id, host_id, kind, ts_ns / ${BIN_NS} AS bin, count(*), min(id), max(${LEVEL_RANK})
  FROM events WHERE ts_ns IS NOT NULL AND`;

export const sql = String.raw`
CREATE TABLE event_bins (
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
  case_id     INTEGER NOT NULL,
  host_id     INTEGER,
  kind        TEXT NOT NULL,
  bin         INTEGER NOT NULL, -- ts_ns / 100 ms
  n           INTEGER NOT NULL,
  min_id      INTEGER NOT NULL,
  max_lvl     INTEGER NOT NULL,
  PRIMARY KEY (artifact_id, kind, bin)
) WITHOUT ROWID;
CREATE INDEX event_bins_case ON event_bins (case_id, host_id, bin, kind);
INSERT INTO event_bins (artifact_id, case_id, host_id, kind, bin, n, min_id, max_lvl)
  ${BIN_SELECT} 1 GROUP BY artifact_id, kind, bin;
`;
