/**
 * Successful credential verifications, kept in memory for a short time so that a KDF hash or a
 * JWT signature is not checked on every request. Keyed by a digest of the presented credential
 * (never the credential itself), bounded (the oldest entry goes first) and expiring.
 */

/** Options of {@link createVerificationCache}. */
export interface VerificationCacheOptions {
  /** How long an entry is trusted (ms). */
  readonly ttlMs: number;
  /** Entries kept at most. */
  readonly maxEntries: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The cache. */
export interface VerificationCache<V> {
  get(digest: string): V | undefined;
  /** Keeps `value` until `ttlMs` from now or `until`, whichever is sooner. */
  set(digest: string, value: V, until?: number): void;
  /** Removes every entry `value` matches (a revoked key's). */
  deleteWhere(match: (value: V) => boolean): void;
  readonly size: number;
}

/** Creates a cache. */
export function createVerificationCache<V>(options: VerificationCacheOptions): VerificationCache<V> {
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order, so its first key is the oldest entry.
  const entries = new Map<string, { value: V; expires: number }>();
  return {
    get(digest) {
      const entry = entries.get(digest);
      if (entry === undefined) return undefined;
      if (entry.expires <= now()) {
        entries.delete(digest);
        return undefined;
      }
      return entry.value;
    },
    set(digest, value, until) {
      entries.delete(digest);
      if (entries.size >= options.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(digest, { value, expires: Math.min(now() + options.ttlMs, until ?? Infinity) });
    },
    deleteWhere(match) {
      for (const [digest, entry] of entries) if (match(entry.value)) entries.delete(digest);
    },
    get size() {
      return entries.size;
    },
  };
}
