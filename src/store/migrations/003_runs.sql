-- Tracked runs and their metrics by step. Portable as the earlier migrations: JSON as TEXT, times
-- in epoch milliseconds. `seq` is the change number of the write that created the run: unique and
-- in commit order, it orders the list newest first and is its cursor. Metric values are floating
-- point (DOUBLE PRECISION: REAL affinity on SQLite, float8 on PostgreSQL).

CREATE TABLE runs (
  id TEXT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  params TEXT NOT NULL,
  dataset_version TEXT,
  code_version TEXT,
  artifacts TEXT NOT NULL,
  error TEXT,
  metrics TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  created_by TEXT NOT NULL
);
CREATE INDEX runs_by_name ON runs (name, seq);
CREATE INDEX runs_by_status ON runs (status, seq);

CREATE TABLE run_metrics (
  run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  metric_key TEXT NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (run, metric_key, step)
);
