-- Models, their immutable versions, aliases with their history, deployments with their events.
-- Portable between SQLite and PostgreSQL: TEXT, INTEGER and BIGINT only, JSON kept as TEXT, times
-- in epoch milliseconds, ids assigned by the store. Tags and deployment refs are stored twice: as
-- JSON on the row (what reads return, in the caller's order, in one statement) and in side tables
-- (what tag filters and the IN_USE checks query); both are written in the same transaction.

CREATE TABLE models (
  name TEXT NOT NULL PRIMARY KEY,
  description TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- The highest version number ever assigned, so that a deleted number is never reused.
  last_version INTEGER NOT NULL
);

CREATE TABLE model_tags (
  model TEXT NOT NULL REFERENCES models (name) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (model, tag)
);
CREATE INDEX model_tags_by_tag ON model_tags (tag, model);

CREATE TABLE versions (
  model TEXT NOT NULL REFERENCES models (name),
  version INTEGER NOT NULL,
  artifact_digest TEXT NOT NULL,
  artifact_size BIGINT NOT NULL,
  signature TEXT NOT NULL,
  metrics TEXT NOT NULL,
  tags TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ready', 'archived')),
  lineage TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (model, version)
);
CREATE INDEX versions_by_digest ON versions (artifact_digest);

CREATE TABLE version_tags (
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (model, version, tag),
  FOREIGN KEY (model, version) REFERENCES versions (model, version) ON DELETE CASCADE
);
CREATE INDEX version_tags_by_tag ON version_tags (model, tag, version);

CREATE TABLE aliases (
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES versions (model, version)
);
CREATE INDEX aliases_by_version ON aliases (model, version);

CREATE TABLE alias_events (
  id BIGINT NOT NULL PRIMARY KEY,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version INTEGER,
  to_version INTEGER,
  actor TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX alias_events_by_model ON alias_events (model, id);
CREATE INDEX alias_events_by_alias ON alias_events (model, alias, id);

CREATE TABLE deployments (
  name TEXT NOT NULL PRIMARY KEY,
  model TEXT NOT NULL REFERENCES models (name),
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  version_refs TEXT NOT NULL,
  alias_refs TEXT NOT NULL,
  revision INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE INDEX deployments_by_model ON deployments (model, name);

CREATE TABLE deployment_version_refs (
  deployment TEXT NOT NULL REFERENCES deployments (name) ON DELETE CASCADE,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (deployment, version),
  FOREIGN KEY (model, version) REFERENCES versions (model, version)
);
CREATE INDEX deployment_version_refs_by_version ON deployment_version_refs (model, version);

CREATE TABLE deployment_alias_refs (
  deployment TEXT NOT NULL REFERENCES deployments (name) ON DELETE CASCADE,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  PRIMARY KEY (deployment, alias),
  FOREIGN KEY (model, alias) REFERENCES aliases (model, alias)
);
CREATE INDEX deployment_alias_refs_by_alias ON deployment_alias_refs (model, alias);

CREATE TABLE deployment_events (
  id BIGINT NOT NULL PRIMARY KEY,
  deployment TEXT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  detail TEXT NOT NULL,
  actor TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX deployment_events_by_deployment ON deployment_events (deployment, id);
