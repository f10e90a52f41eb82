// Migration 2: timeline speed. A covering index for the bucket query (case, host, time, kind, level), and a
// per-artifact summary of its events by kind (count, first, last), written in the same transaction as the
// events, so the timeline's extent and lanes come from a few rows instead of a scan of every event.
export const sql = String.raw`
CREATE INDEX events_timeline ON events (case_id, host_id, ts_ns, kind, level);
CREATE TABLE artifact_lanes (
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,
  count       INTEGER NOT NULL,
  timed       INTEGER NOT NULL,
  min_ts      INTEGER,
  max_ts      INTEGER,
  PRIMARY KEY (artifact_id, kind)
) WITHOUT ROWID;
INSERT INTO artifact_lanes (artifact_id, kind, count, timed, min_ts, max_ts)
  SELECT artifact_id, kind, count(*), count(ts_ns), min(ts_ns), max(ts_ns) FROM events GROUP BY artifact_id, kind;
`;
