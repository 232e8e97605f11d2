-- Signature lock-in (issue 9). A version keeps its ONNX model's metadata (the class names of a
-- classifier among them); an alias move records whether it was forced past a signature check; and
-- each deployment keeps the input names its clients send and the output names they read, which is
-- what a move must keep working. Usage rows are written on first sight of a name, outside the
-- change feed (no replica has to react to them), and go with their deployment.

ALTER TABLE versions ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';

ALTER TABLE alias_events ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;

CREATE TABLE deployment_usage (
  deployment TEXT NOT NULL REFERENCES deployments (name) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('input', 'output')),
  name TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  PRIMARY KEY (deployment, kind, name)
);
