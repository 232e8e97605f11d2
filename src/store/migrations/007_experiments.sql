-- Hyper-parameter tuning: experiments, their trials (one point of the search space each, with the
-- run that trained it) and the scheduler's rung results (a trial's metric when it reached a rung's
-- resource). Trials are keyed by (experiment, number): a restarted coordinator cannot add a point
-- twice. ASHA decides from experiment_rungs alone, so any worker can decide. Portable as the earlier
-- migrations: JSON as TEXT, times in epoch milliseconds.

CREATE TABLE experiments (
  id TEXT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  spec TEXT NOT NULL,
  metric TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('max', 'min')),
  job_id TEXT,
  best_trial BIGINT,
  best_value DOUBLE PRECISION,
  registered TEXT,
  error TEXT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  created_by TEXT NOT NULL
);
CREATE INDEX experiments_by_status ON experiments (status, seq);

CREATE TABLE experiment_trials (
  experiment TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
  number BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'stopped', 'failed')),
  params TEXT NOT NULL,
  run_id TEXT,
  job_id TEXT,
  resource BIGINT,
  value DOUBLE PRECISION,
  error TEXT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  PRIMARY KEY (experiment, number)
);

CREATE TABLE experiment_rungs (
  experiment TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
  rung BIGINT NOT NULL,
  trial BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (experiment, rung, trial)
);
