-- The embedded job queue (issue 11). One row per job; `queue` names the queue so that several
-- share a database (and tests stay apart). Workers claim the most urgent waiting job in one write
-- transaction: `urgency` is 0 for jobs without a priority and the priority otherwise, and `seq`
-- (from the 'job' counter) is submission order. An active job's lock expires unless its worker
-- renews it; an expired lock is how a dead worker's job is found. Other processes learn of changes
-- by polling `job_events`, which is pruned as it grows. The tables exist on PostgreSQL too (every
-- migration runs on both engines) but only the SQLite engine uses them.

INSERT INTO store_counters (name, value) VALUES ('job', 0);

CREATE TABLE jobs (
  id TEXT NOT NULL PRIMARY KEY,
  queue TEXT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled')),
  priority INTEGER,
  urgency INTEGER NOT NULL,
  attempts_made INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  timeout_ms BIGINT,
  run_at BIGINT NOT NULL,
  idempotency_key TEXT,
  parent_id TEXT,
  created_by TEXT NOT NULL,
  progress TEXT,
  result TEXT,
  error TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  worker_id TEXT,
  lock_token TEXT,
  lock_expires_at BIGINT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT
);
-- NULL keys are distinct on both engines, so jobs without a key never collide.
CREATE UNIQUE INDEX jobs_idempotency ON jobs (queue, idempotency_key);
CREATE INDEX jobs_claim ON jobs (queue, state, urgency, seq);
CREATE INDEX jobs_due ON jobs (queue, state, run_at);
CREATE INDEX jobs_lock ON jobs (queue, state, lock_expires_at);
CREATE INDEX jobs_list ON jobs (queue, seq);
CREATE INDEX jobs_parent ON jobs (parent_id, seq);

CREATE TABLE job_events (
  seq BIGINT NOT NULL PRIMARY KEY,
  queue TEXT NOT NULL,
  origin TEXT NOT NULL,
  event TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX job_events_queue ON job_events (queue, seq);
