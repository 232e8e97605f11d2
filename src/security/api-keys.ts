/**
 * API keys: issuing (the secret is returned once and stored only as a scrypt hash), listing,
 * revoking, and authenticating a presented key. A successful verification is cached in memory
 * for `cacheTtlMs` under a digest of the key, so the KDF runs once per key per TTL, not per
 * request; revoking through this service drops the key's entries at once, while other replicas
 * notice within their TTL. A refusal is remembered too, for `failureTtlMs`, with its reason: the
 * same bad key sent again and again is refused from memory, without a store read or a scrypt.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import type { ApiKeyLimits, ApiKeyRecord, ApiKeyStore, StoredApiKey } from '../store/api-key-store.ts';
import { apiKeyId, credentialDigest, hashApiKey, newApiKey, verifyApiKey } from './api-key-secret.ts';
import type { Principal, RoleGrant } from './principal.ts';
import { RoleGrantSchema } from './role-grant.ts';
import { createVerificationCache } from './verification-cache.ts';

/** Who a valid key is, and its limits. */
export interface ApiKeyIdentity {
  readonly principal: Principal;
  readonly limits: ApiKeyLimits;
}

/** Options of {@link createApiKeyService}. */
export interface ApiKeyServiceOptions {
  readonly store: ApiKeyStore;
  /** How long a verified key is trusted without looking at its row again (ms). @default 10000 */
  readonly cacheTtlMs?: number;
  /** Verified keys cached at most (and as many refused ones). @default 10000 */
  readonly cacheMaxEntries?: number;
  /**
   * How long a refused key is refused from memory, with the same reason (ms). Short: a key
   * refused as unknown because it was presented before its row reached this replica's store works
   * once it expires. @default 2000
   */
  readonly failureTtlMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What a new key is made of. */
export interface NewApiKeyInput {
  readonly name: string;
  readonly grants: readonly RoleGrant[];
  readonly expiresAt?: number;
  readonly limits?: ApiKeyLimits;
  /** `Principal.id` of who creates it. */
  readonly by: string;
}

/** The service. */
export interface ApiKeyService {
  /** Issues a key; `key` is the only time the secret exists outside the caller's hands. */
  create(input: NewApiKeyInput): Promise<{ readonly key: string; readonly record: ApiKeyRecord }>;
  list(): Promise<ApiKeyRecord[]>;
  /** Revokes a key; effective at once on this replica. */
  revoke(options: { readonly id: string; readonly by: string }): Promise<ApiKeyRecord>;
  /**
   * Who a presented key is; synchronous when the verification is cached.
   * @throws StratumError UNAUTHENTICATED saying what is wrong (malformed, unknown, wrong secret,
   * revoked, expired), naming the key's id and never its secret.
   */
  authenticate(presented: string): ApiKeyIdentity | Promise<ApiKeyIdentity>;
}

const Grants = z.array(RoleGrantSchema);

/** Creates the service. */
export function createApiKeyService(options: ApiKeyServiceOptions): ApiKeyService {
  const { store } = options;
  const now = options.now ?? Date.now;
  const cache = createVerificationCache<ApiKeyIdentity & { readonly keyId: string }>({
    ttlMs: options.cacheTtlMs ?? 10_000,
    maxEntries: options.cacheMaxEntries ?? 10_000,
    now,
  });
  // The hash a presented key was last proven to match: when its cached identity expires, the row
  // is read again (revocation, expiry) but the KDF runs again only if the row's hash changed, so
  // a busy key's requests never all wait for a scrypt every TTL.
  const proven = createVerificationCache<string>({
    ttlMs: 3_600_000,
    maxEntries: options.cacheMaxEntries ?? 10_000,
    now,
  });
  // Refusals by digest, with their reason: a flood of one bad key costs one verification per TTL.
  const refused = createVerificationCache<string>({
    ttlMs: options.failureTtlMs ?? 2_000,
    maxEntries: options.cacheMaxEntries ?? 10_000,
    now,
  });
  // Concurrent first requests with one key share one verification instead of one scrypt each.
  const verifying = new Map<string, Promise<ApiKeyIdentity>>();

  async function verify(presented: string, digest: string): Promise<ApiKeyIdentity> {
    const id = apiKeyId(presented);
    if (id === undefined) {
      throw new StratumError(
        'UNAUTHENTICATED',
        'the API key is malformed: expected stk_<16 hex digits>_<43 characters>',
      );
    }
    const stored = await store.findApiKey(id);
    if (stored === undefined) throw new StratumError('UNAUTHENTICATED', `API key ${id} does not exist`);
    if (proven.get(digest) !== stored.secretHash) {
      if (!(await verifyApiKey(presented, stored.secretHash))) {
        throw new StratumError('UNAUTHENTICATED', `API key ${id}: the secret does not match`);
      }
      proven.set(digest, stored.secretHash);
    }
    usable(stored, now());
    const identity: ApiKeyIdentity = Object.freeze({
      principal: Object.freeze({
        id: `key:${id}`,
        kind: 'api-key',
        grants: Object.freeze(Grants.parse(stored.grants)),
      }),
      limits: Object.freeze({ ...stored.limits }),
    });
    cache.set(digest, { ...identity, keyId: id }, stored.expiresAt);
    return identity;
  }

  return {
    async create(input) {
      const { id, key } = newApiKey();
      const stored: StoredApiKey = {
        id,
        name: input.name,
        secretHash: await hashApiKey(key),
        grants: input.grants,
        limits: input.limits ?? {},
        createdAt: now(),
        createdBy: input.by,
        ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
      };
      const record = await store.createApiKey(stored);
      return { key, record };
    },

    list: () => store.listApiKeys(),

    async revoke(revocation) {
      const record = await store.revokeApiKey(revocation);
      cache.deleteWhere((entry) => entry.keyId === revocation.id);
      return record;
    },

    authenticate(presented) {
      const digest = credentialDigest(presented);
      const cached = cache.get(digest);
      if (cached !== undefined) return cached;
      const refusal = refused.get(digest);
      if (refusal !== undefined) return Promise.reject(new StratumError('UNAUTHENTICATED', refusal));
      let pending = verifying.get(digest);
      if (pending === undefined) {
        pending = verify(presented, digest)
          .catch((error: unknown) => {
            // Only refusals: a store that could not be read says nothing about the key.
            if (error instanceof StratumError && error.code === 'UNAUTHENTICATED') refused.set(digest, error.message);
            throw error;
          })
          .finally(() => verifying.delete(digest));
        verifying.set(digest, pending);
      }
      return pending;
    },
  };
}

/** Throws UNAUTHENTICATED when the key is revoked or expired at `at`. */
function usable(key: StoredApiKey, at: number): void {
  if (key.revokedAt !== undefined) {
    throw new StratumError(
      'UNAUTHENTICATED',
      `API key ${key.id} was revoked at ${new Date(key.revokedAt).toISOString()}`,
    );
  }
  if (key.expiresAt !== undefined && key.expiresAt <= at) {
    throw new StratumError('UNAUTHENTICATED', `API key ${key.id} expired at ${new Date(key.expiresAt).toISOString()}`);
  }
}
