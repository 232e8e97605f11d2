/**
 * What a valid artifact digest looks like. Every artifact store checks digests here before using
 * one as a file name or object key, so a caller-supplied string cannot reach outside the store.
 */
import { StratumError } from '../errors/index.ts';

const DIGEST = /^[0-9a-f]{64}$/;

/** True for a sha256 digest in the store's canonical form: 64 lowercase hex characters. */
export function isArtifactDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

/**
 * Returns `value` when it is a valid digest.
 *
 * @param label what the value is, for the message (e.g. `'expectedDigest'`).
 * @throws StratumError BAD_REQUEST naming what was received.
 */
export function assertArtifactDigest(value: unknown, label = 'digest'): string {
  if (isArtifactDigest(value)) return value;
  const shown =
    typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : typeof value;
  throw new StratumError(
    'BAD_REQUEST',
    `${label}: expected a sha256 digest (64 lowercase hex characters), got ${shown}`,
    {
      details: { field: label },
    },
  );
}
