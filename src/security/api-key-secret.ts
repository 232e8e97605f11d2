/**
 * The presented form of an API key and its stored hash. A key reads `stk_<id>_<secret>`: the id
 * (16 hex characters, public) finds the row by primary key, the secret (32 random bytes,
 * base64url) is checked against its scrypt hash. The hash string carries its parameters and salt
 * (`scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`), so they can be raised later and old keys still verify.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const PREFIX = 'stk_';
const KEY_PATTERN = /^stk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/**
 * scrypt cost N = 2^15, r = 8, p = 1: 32 MiB and tens of milliseconds per hash on one core (the
 * parameters RFC 7914 and OWASP name for interactive logins). The secret is 256 random bits, so
 * the KDF is not what stops guessing; it makes a leaked table useless to test candidates against
 * at speed, and the verification cache keeps its cost off the request path.
 */
const PARAMS = Object.freeze({ logN: 15, r: 8, p: 1 });
const HASH_BYTES = 32;

/** A new key: its public id and the string shown (once) to the user. */
export function newApiKey(): { readonly id: string; readonly key: string } {
  const id = randomBytes(8).toString('hex');
  return { id, key: `${PREFIX}${id}_${randomBytes(32).toString('base64url')}` };
}

/** The id of a presented key, or undefined when it is not shaped like one. */
export function apiKeyId(presented: string): string | undefined {
  return KEY_PATTERN.exec(presented)?.[1];
}

/** Whether a bearer credential is meant as an API key (rather than a JWT). */
export function looksLikeApiKey(presented: string): boolean {
  return presented.startsWith(PREFIX);
}

function derive(secret: string, salt: Buffer, params: { logN: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    // maxmem above 128·N·r (Node's default of 32 MiB is exactly that for these parameters).
    scrypt(secret, salt, HASH_BYTES, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (error, hash) =>
      error ? reject(error) : resolve(hash),
    );
  });
}

/** The stored hash of a presented key (salted scrypt, runs on libuv's thread pool). */
export async function hashApiKey(presented: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(presented, salt, PARAMS);
  return ['scrypt', PARAMS.logN, PARAMS.r, PARAMS.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Whether a presented key matches a stored hash (constant-time comparison). */
export async function verifyApiKey(presented: string, stored: string): Promise<boolean> {
  const [kind, logN, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(presented, Buffer.from(salt, 'base64url'), {
    logN: Number(logN),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A fast, non-reversible name of a presented credential for in-memory caches (never stored). */
export function credentialDigest(presented: string): string {
  return createHash('sha256').update(presented).digest('base64url');
}
