/**
 * The API key part of the metadata store contract: keys as rows, their secrets only as hashes.
 * The store knows nothing of roles or hashing (`src/security` does); it keeps what it is given.
 */

/** Request limits of one key; absent fields: no limit of that kind. */
export interface ApiKeyLimits {
  /** Sustained requests per second (token bucket refill rate). */
  readonly requestsPerSecond?: number;
  /** Bucket size: requests allowed in a burst. @default requestsPerSecond */
  readonly burst?: number;
  /** Requests in flight at once. */
  readonly maxConcurrent?: number;
}

/** The public fields of a key: what lists show and the audit log records (never the secret). */
export interface ApiKeyRecord {
  /** Public id, part of the presented key (`stk_<id>_<secret>`). */
  readonly id: string;
  readonly name: string;
  /** Role grants as stored (`src/security` validates them on read). */
  readonly grants: readonly { readonly role: string; readonly model?: string }[];
  readonly limits: ApiKeyLimits;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  readonly revokedBy?: string;
}

/** A key with its secret's hash, for verification. */
export interface StoredApiKey extends ApiKeyRecord {
  readonly secretHash: string;
}

/** The API key methods of the metadata store. */
export interface ApiKeyStore {
  /** Stores a new key; ALREADY_EXISTS when the id is taken. */
  createApiKey(key: StoredApiKey): Promise<ApiKeyRecord>;
  /** The key with its hash, or undefined when there is none with that id. */
  findApiKey(id: string): Promise<StoredApiKey | undefined>;
  /** Every key, newest first (revoked and expired ones included: they say when). */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /**
   * Revokes a key (NOT_FOUND when there is none); revoking a revoked key changes nothing and
   * returns it as it is.
   */
  revokeApiKey(options: { readonly id: string; readonly by: string }): Promise<ApiKeyRecord>;
}
