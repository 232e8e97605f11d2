-- API keys (issue 13). A key is shown once and stored as a scrypt hash of its secret (the hash
-- column holds the KDF parameters and salt with it, so they can change without a migration); its
-- id is public and part of the presented key, so a lookup is by primary key and never scans.
-- Grants and limits are JSON as TEXT, times epoch milliseconds, as in the earlier migrations. Keys
-- are written outside the change feed: replicas notice a revocation within their cache TTL.

CREATE TABLE api_keys (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  grants TEXT NOT NULL,
  limits TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT,
  revoked_by TEXT
);
CREATE INDEX api_keys_by_created ON api_keys (created_at);
