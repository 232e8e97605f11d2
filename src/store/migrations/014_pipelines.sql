-- Retraining pipelines (issue 12). A pipeline is a declared spec kept by name (validated before it
-- is written); each run of one is kept with its trigger, the spec it ran (a snapshot: editing the
-- pipeline never rewrites history), every step's inputs and outputs as it went, and how it ended.
-- A run's id is the id of the `pipeline` job that runs it, so a worker that takes the job after
-- another died finds the run and resumes it. Written outside the change feed: replicas read them
-- when they need them (the scheduler re-reads the pipelines on each wake-up).

CREATE TABLE pipelines (
  name TEXT NOT NULL PRIMARY KEY,
  spec TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);

CREATE TABLE pipeline_runs (
  id TEXT NOT NULL PRIMARY KEY,
  pipeline TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger_info TEXT NOT NULL,
  spec TEXT NOT NULL,
  steps TEXT NOT NULL,
  outcome TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
);

CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs (pipeline, created_at);
CREATE INDEX pipeline_runs_by_status ON pipeline_runs (status, created_at);
