-- Job payloads in a table of their own (issue 11). SQLite rewrites a whole row, overflow pages
-- included, whenever one of its columns changes, and a job's row changes at every step of its life
-- (claimed, lock renewed, finished): with an `infer-async` payload of tens of kilobytes in the row,
-- each step wrote it again to the WAL, and the checkpoints that follow stalled the event loop.
-- A payload never changes after submission, so it is written once, here, and the `jobs` row that
-- keeps changing stays small. Reads that want the payload fetch it by id.

CREATE TABLE job_payloads (
  id TEXT NOT NULL PRIMARY KEY,
  payload TEXT NOT NULL
);
INSERT INTO job_payloads (id, payload) SELECT id, payload FROM jobs;
ALTER TABLE jobs DROP COLUMN payload;
