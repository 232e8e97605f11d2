/**
 * The artifact store contract: immutable blobs (ONNX files, datasets) addressed by the sha256 of
 * their content. It names no filesystem, connection or stream-engine type, so a folder on disk
 * and an object store can both implement it and share one conformance suite. The registry keeps
 * the references (a version row holds a digest); the store only keeps bytes.
 */

/** What the store knows about one artifact. */
export interface ArtifactInfo {
  /** sha256 of the content, 64 lowercase hex characters. */
  readonly digest: string;
  /** Content length in bytes. */
  readonly size: number;
  /**
   * When the content was last written (ms since the epoch). A `put` of content already stored
   * refreshes it, which is what lets garbage collection's grace period protect a re-upload.
   */
  readonly storedAt: number;
}

/**
 * The content of an artifact, streamed; see {@link ArtifactStore.get}. Every iteration reads the
 * content afresh, and one that starts after the artifact was deleted throws ARTIFACT_NOT_FOUND.
 */
export interface ArtifactStream extends AsyncIterable<Uint8Array> {
  /** The digest that the content is verified against. */
  readonly digest: string;
  /** Content length in bytes, known before the first chunk (for `Content-Length`). */
  readonly size: number;
}

/** Options of {@link ArtifactStore.put}. */
export interface PutArtifactOptions {
  /**
   * The digest the caller expects (e.g. from an upload header). On a mismatch the upload is
   * refused with BAD_REQUEST and nothing is kept.
   * @default no check
   */
  readonly expectedDigest?: string;
  /**
   * Largest content accepted, in bytes; enforced while streaming, so an oversized upload fails
   * as soon as it crosses the limit (BODY_TOO_LARGE) and nothing is kept.
   * @default no limit
   */
  readonly maxBytes?: number;
}

/** Options of {@link ArtifactStore.collectGarbage}. */
export interface CollectGarbageOptions {
  /** Digests still in use (every version row's artifact); these are never removed. */
  readonly referenced: ReadonlySet<string>;
  /**
   * Artifacts stored more recently than this are kept even when unreferenced, because an upload
   * is stored before the version row that references it is written.
   * @default 600_000 (10 minutes)
   */
  readonly graceMs?: number;
  /**
   * Report what would be removed without removing it.
   * @default false
   */
  readonly dryRun?: boolean;
}

/** What {@link ArtifactStore.collectGarbage} removed (or, in a dry run, would remove). */
export interface CollectGarbageResult {
  readonly removed: readonly ArtifactInfo[];
  readonly freedBytes: number;
}

/** Grace period of {@link CollectGarbageOptions.graceMs} when none is given. */
export const DEFAULT_GC_GRACE_MS = 10 * 60 * 1000;

/**
 * A content-addressed blob store. Every method that takes a digest rejects a string that is not
 * 64 lowercase hex characters with BAD_REQUEST, so a digest can never name anything but an
 * artifact (no path traversal, no key injection).
 *
 * @example
 * ```ts
 * const store = await openArtifactStore({ url: 'file:.stratum/artifacts' })
 * const { digest, size } = await store.put(request.body, { maxBytes: 512 * 1024 * 1024 })
 * const bytes = await store.read(digest)
 * await store.close()
 * ```
 */
export interface ArtifactStore {
  /**
   * Streams the content in, hashing it as it arrives. The artifact becomes visible only once it
   * is complete and durable (never half-written); a failing source, a digest mismatch or an
   * oversized upload keeps nothing. Storing content that is already there is not an error: it
   * returns the same digest (and refreshes {@link ArtifactInfo.storedAt}).
   *
   * @throws StratumError BAD_REQUEST for a malformed or mismatching `expectedDigest`, or a chunk
   *   that is not a Uint8Array; BODY_TOO_LARGE past `maxBytes`; the source's own error if it fails.
   */
  put(source: AsyncIterable<Uint8Array> | Uint8Array, options?: PutArtifactOptions): Promise<ArtifactInfo>;

  /**
   * Opens the content for streaming. The chunks are hashed as they go out and the iteration
   * throws ARTIFACT_CORRUPT after the last one if the content no longer matches the digest, so a
   * consumer that reads to the end never silently accepts bad bytes (a streamed HTTP response
   * gets aborted instead of completed). Each chunk is a fresh buffer the consumer may keep.
   *
   * @throws StratumError ARTIFACT_NOT_FOUND, BAD_REQUEST for a malformed digest.
   */
  get(digest: string): Promise<ArtifactStream>;

  /**
   * Reads the whole content into memory, verified against the digest. The bytes are the
   * caller's: backed by their own ArrayBuffer, so they can be transferred to a worker.
   * @throws StratumError ARTIFACT_NOT_FOUND, ARTIFACT_CORRUPT, BAD_REQUEST for a malformed digest.
   */
  read(digest: string): Promise<Uint8Array>;

  /** True when the artifact is stored (its content is not verified). */
  has(digest: string): Promise<boolean>;

  /**
   * Size and time of one artifact (its content is not verified).
   * @throws StratumError ARTIFACT_NOT_FOUND, BAD_REQUEST for a malformed digest.
   */
  stat(digest: string): Promise<ArtifactInfo>;

  /** Removes the artifact; false when it was not there. References are the caller's concern. */
  delete(digest: string): Promise<boolean>;

  /** Every stored artifact, in digest order. */
  list(): AsyncIterable<ArtifactInfo>;

  /**
   * Removes every artifact whose digest is not in `referenced` and that was stored at least
   * `graceMs` ago. Build `referenced` before calling: the grace period covers versions that are
   * being created meanwhile.
   */
  collectGarbage(options: CollectGarbageOptions): Promise<CollectGarbageResult>;

  /**
   * Waits for operations in flight, then refuses new ones (SHUTTING_DOWN). Idempotent.
   */
  close(): Promise<void>;
}
