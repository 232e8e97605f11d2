-- Dataset versions: a content hash of the data a run read, with the profile taken when it was
-- first read (the drift reference for monitoring). The hash names the content, so a version is
-- written once and never changes; `seq` orders the list newest first and is its cursor. The profile
-- is opaque JSON to the store (src/data/profile owns its format).

CREATE TABLE dataset_versions (
  version TEXT NOT NULL PRIMARY KEY,
  seq BIGINT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  num_rows BIGINT NOT NULL,
  profile TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX dataset_versions_by_name ON dataset_versions (name, seq);
