-- Drift detection (issue 12). Each deployment may have drift settings (validated before they are
-- written); each computed drift report is kept, filed under its deployment, version and window; and
-- a model version may have a raw reference sample recorded at training (its exact tests need one;
-- without it drift is judged on the training profile's bins). None of it is a change other replicas
-- react to, so it is written outside the change feed. Settings and reports go with their
-- deployment, a sample with its version.

CREATE TABLE drift_configs (
  deployment TEXT NOT NULL PRIMARY KEY REFERENCES deployments (name) ON DELETE CASCADE,
  config TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);

CREATE TABLE drift_reports (
  id TEXT NOT NULL PRIMARY KEY,
  deployment TEXT NOT NULL REFERENCES deployments (name) ON DELETE CASCADE,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  window_key TEXT NOT NULL,
  computed_at BIGINT NOT NULL,
  report TEXT NOT NULL
);

CREATE INDEX drift_reports_latest ON drift_reports (deployment, version, window_key, computed_at);
CREATE INDEX drift_reports_by_time ON drift_reports (deployment, computed_at);

CREATE TABLE reference_samples (
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  sample TEXT NOT NULL,
  recorded_at BIGINT NOT NULL,
  PRIMARY KEY (model, version),
  FOREIGN KEY (model, version) REFERENCES versions (model, version) ON DELETE CASCADE
);
