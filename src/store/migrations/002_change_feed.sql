-- The change feed. Every write transaction first increments the 'change' counter: on PostgreSQL
-- the row lock this takes serialises writers (so sequence order is commit order, and the
-- read-then-write checks of the store cannot race); on SQLite BEGIN IMMEDIATE already does. The
-- write then adds one store_changes row under that number, which other stores poll.

CREATE TABLE store_counters (
  name TEXT NOT NULL PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO store_counters (name, value) VALUES ('change', 0);

CREATE TABLE store_changes (
  seq BIGINT NOT NULL PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
