-- The inference log's tensors as bytes (`store/logged-tensor-codec.ts`): a JSON header and the
-- numeric tensors' raw little-endian bytes, where the JSON text with base64 inside took a third
-- more bytes and a pass through the JSON escaper. PostgreSQL's TEXT takes no arbitrary bytes, so
-- the columns become BYTEA; rows written before keep their JSON text as its UTF-8 bytes, which the
-- reader still understands. This rewrites the table once (a log at its row cap takes a while, on
-- the first start after the upgrade). SQLite needs no migration: a TEXT column stores a BLOB as it
-- is. A replica older than this migration cannot read rows written after it.

ALTER TABLE inference_log
  ALTER COLUMN inputs TYPE BYTEA USING convert_to(inputs, 'UTF8'),
  ALTER COLUMN outputs TYPE BYTEA USING convert_to(outputs, 'UTF8');
