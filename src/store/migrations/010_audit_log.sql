-- The hash-chained audit log (issue 13). One row per record; `hash` covers every other column (see
-- src/audit/audit-record.ts for the exact serialisation) and `prev_hash` is the previous row's
-- hash, so an edited, deleted, inserted or moved row breaks the chain. Appends take the 'audit'
-- counter row first: on PostgreSQL its row lock serialises appenders across replicas (the chain
-- stays linear), on SQLite BEGIN IMMEDIATE does; the counter is also the log's head, so rows
-- deleted from the end are found too.

CREATE TABLE audit_log (
  seq BIGINT NOT NULL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  outcome TEXT NOT NULL,
  source TEXT,
  before_state TEXT NOT NULL,
  after_state TEXT NOT NULL,
  request_id TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at);

INSERT INTO store_counters (name, value) VALUES ('audit', 0);
