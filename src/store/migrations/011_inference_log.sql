-- The sampled inference log (issue 12): one row per logged request, with its inputs and outputs as
-- JSON (redacted before they get here), and the label feedback joined onto it later. Written in
-- batches by the serving replicas outside the change feed (nobody reacts to a logged request), read
-- by live quality, drift and replay, and pruned by age and row count. A request id is unique per
-- deployment; feedback finds it by id alone, hence the second index.

CREATE TABLE inference_log (
  deployment TEXT NOT NULL,
  request_id TEXT NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  at BIGINT NOT NULL,
  latency_ms DOUBLE PRECISION NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT NOT NULL,
  label TEXT,
  labelled_at BIGINT,
  PRIMARY KEY (deployment, request_id)
);

CREATE INDEX inference_log_deployment_at ON inference_log (deployment, at);

CREATE INDEX inference_log_at ON inference_log (at);

CREATE INDEX inference_log_request_id ON inference_log (request_id);
