// Migration 1: the initial schema. Kept as a string so the packaged app needs no loose SQL files.
export const sql = String.raw`
-- Casefile store, schema 1. Instants are INTEGER nanoseconds since the Unix epoch (UTC).
CREATE TABLE cases (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  title       TEXT NOT NULL DEFAULT '',
  created_ns  INTEGER NOT NULL,
  imported_from TEXT,
  read_only   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE hosts (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  destination TEXT NOT NULL DEFAULT '',
  hostname    TEXT,
  port        INTEGER,
  user        TEXT,
  jump_chain  TEXT,            -- JSON array of hop names
  host_key_type TEXT,
  host_key_fp TEXT,            -- SHA256:... as ssh-keygen -l prints it
  clock_offset_ns      INTEGER, -- remote minus local, measured at the last connection
  clock_uncertainty_ns INTEGER,
  clock_measured_ns    INTEGER,
  boot_time_ns         INTEGER,
  clock_adjust_ns      INTEGER NOT NULL DEFAULT 0, -- user correction on top of the measured offset
  UNIQUE (case_id, name)
);

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  playbook_id TEXT NOT NULL,
  playbook_sha256 TEXT,
  params_json TEXT NOT NULL DEFAULT '{}',
  host_ids_json TEXT NOT NULL DEFAULT '[]',
  status      TEXT NOT NULL,   -- running | done | failed | cancelled
  headless    INTEGER NOT NULL DEFAULT 0,
  started_ns  INTEGER NOT NULL,
  ended_ns    INTEGER
);

CREATE TABLE steps (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  host_id     INTEGER REFERENCES hosts(id),
  step_key    TEXT NOT NULL,
  title       TEXT NOT NULL DEFAULT '',
  is_restore  INTEGER NOT NULL DEFAULT 0,
  intrusive   INTEGER NOT NULL DEFAULT 0,
  command     TEXT NOT NULL,   -- exactly what was sent to the host
  display     TEXT NOT NULL DEFAULT '', -- the command as shown to the user
  status      TEXT NOT NULL,   -- pending | running | ok | failed | timed-out | cancelled | needs-root | connection-lost | skipped
  exit_code   INTEGER,
  signal      TEXT,
  timeout_ms  INTEGER,
  started_ns  INTEGER,
  ended_ns    INTEGER,
  stuck_json  TEXT,
  error       TEXT
);

CREATE TABLE artifacts (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  host_id     INTEGER REFERENCES hosts(id),
  step_id     INTEGER REFERENCES steps(id),
  name        TEXT NOT NULL,
  stream      TEXT NOT NULL DEFAULT 'file', -- stdout | stderr | file
  kind        TEXT NOT NULL,   -- ArtifactKind
  source      TEXT NOT NULL,   -- ssh | import
  argv_json   TEXT,            -- exact argv / command of the producing step
  exit_code   INTEGER,
  started_ns  INTEGER,
  ended_ns    INTEGER,
  clock_offset_ns      INTEGER,
  clock_uncertainty_ns INTEGER,
  boot_time_ns         INTEGER,
  size        INTEGER NOT NULL DEFAULT 0,
  sha256      TEXT,
  complete    INTEGER NOT NULL DEFAULT 0, -- 1 once every byte is stored and the hash is final
  is_text     INTEGER NOT NULL DEFAULT 1,
  invalid_utf8 INTEGER NOT NULL DEFAULT 0, -- replacement characters needed to show it
  line_count  INTEGER,
  parse_status TEXT NOT NULL DEFAULT 'pending', -- pending | parsed | partial | failed | unparsed
  parse_warnings TEXT,
  event_count INTEGER NOT NULL DEFAULT 0
);

-- Artifact bytes, in order. Large outputs stream in here chunk by chunk, never whole in memory.
CREATE TABLE artifact_chunks (
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  data        BLOB NOT NULL,
  PRIMARY KEY (artifact_id, seq)
) WITHOUT ROWID;

-- Byte offset of every 1024th line, so a viewer can open line N of a large artifact without reading it whole.
CREATE TABLE artifact_lines (
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
  line        INTEGER NOT NULL,
  offset      INTEGER NOT NULL,
  PRIMARY KEY (artifact_id, line)
) WITHOUT ROWID;

CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
  host_id     INTEGER REFERENCES hosts(id),
  kind        TEXT NOT NULL,
  ts_ns       INTEGER,
  ts_raw      TEXT,
  clock       TEXT NOT NULL,
  duration_ns INTEGER,
  line        INTEGER,
  end_line    INTEGER,
  pid         INTEGER,
  level       TEXT,
  text        TEXT NOT NULL,
  data_json   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_case_ts ON events (case_id, ts_ns);
CREATE INDEX events_artifact ON events (artifact_id, line);

CREATE VIRTUAL TABLE events_fts USING fts5 (text, content = 'events', content_rowid = 'id', tokenize = 'unicode61');
CREATE TRIGGER events_ai AFTER INSERT ON events BEGIN
  INSERT INTO events_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER events_ad AFTER DELETE ON events BEGIN
  INSERT INTO events_fts (events_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- Text artifacts, searchable whole (one row per artifact).
CREATE VIRTUAL TABLE artifacts_fts USING fts5 (name, body, tokenize = 'unicode61');

CREATE TABLE findings (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  rule        TEXT NOT NULL,
  title       TEXT NOT NULL,
  severity    TEXT NOT NULL,
  explanation TEXT NOT NULL DEFAULT '',
  next        TEXT,
  host_id     INTEGER REFERENCES hosts(id),
  first_ns    INTEGER,
  last_ns     INTEGER,
  evidence_json TEXT NOT NULL DEFAULT '[]',
  created_ns  INTEGER NOT NULL
);

CREATE TABLE annotations (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  target      TEXT NOT NULL,   -- event | range | artifact-line | case
  event_id    INTEGER REFERENCES events(id) ON DELETE SET NULL,
  artifact_id INTEGER REFERENCES artifacts(id) ON DELETE SET NULL,
  line        INTEGER,
  start_ns    INTEGER,
  end_ns      INTEGER,
  body        TEXT NOT NULL,
  marker      TEXT,            -- detection | diagnosis | repair | key-moment
  starred     INTEGER NOT NULL DEFAULT 0,
  author      TEXT NOT NULL DEFAULT '',
  created_ns  INTEGER NOT NULL,
  updated_ns  INTEGER NOT NULL
);
CREATE TABLE annotation_history (
  id          INTEGER PRIMARY KEY,
  annotation_id INTEGER NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
  body        TEXT NOT NULL,
  marker      TEXT,
  starred     INTEGER NOT NULL,
  edited_ns   INTEGER NOT NULL
);

CREATE TABLE saved_searches (
  id          INTEGER PRIMARY KEY,
  case_id     INTEGER REFERENCES cases(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  query_json  TEXT NOT NULL,
  created_ns  INTEGER NOT NULL
);
`;
