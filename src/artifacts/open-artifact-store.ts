/**
 * Chooses the artifact store implementation from the configured URL (`artifactsUrl`). Only
 * `file:` exists today; an object store would add its scheme here and nowhere else.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StratumError } from '../errors/index.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { createFolderArtifactStore } from './folder-artifact-store.ts';
import { loadMasterKeyring, type MasterKeySettings } from './master-keys.ts';
import { rotateArtifactKeys, type RotateArtifactKeysResult } from './rotate-artifact-keys.ts';

/** Options of {@link openArtifactStore}. */
export interface OpenArtifactStoreOptions {
  /**
   * Where the artifacts live: `file:<folder>` (relative to `cwd`, e.g. `file:.stratum/artifacts`)
   * or `file:///absolute/folder`.
   */
  readonly url: string;
  /**
   * Folder a relative `file:` path is resolved against.
   * @default process.cwd()
   */
  readonly cwd?: string;
  /**
   * The master keys (the `artifactEncryption` settings): with one, new artifacts are encrypted at
   * rest and the store checks that the key is the one it was encrypted with.
   * @default none (plaintext; an encrypted folder is refused)
   */
  readonly encryption?: MasterKeySettings | undefined;
}

/**
 * Opens the artifact store a URL names.
 *
 * @throws StratumError CONFIG_INVALID naming the URL when its scheme is not supported, it names
 *   no folder, or the folder cannot be created; MASTER_KEY_INVALID when a master key is malformed,
 *   missing for an encrypted folder, or not the folder's key.
 * @example
 * ```ts
 * const artifacts = await openArtifactStore({ url: config.artifactsUrl })
 * ```
 */
export async function openArtifactStore(options: OpenArtifactStoreOptions): Promise<ArtifactStore> {
  const dir = folderOf(options);
  const keyring = await loadMasterKeyring(options.encryption, options.cwd === undefined ? {} : { cwd: options.cwd });
  try {
    return await createFolderArtifactStore({ dir, keyring });
  } catch (err) {
    if (err instanceof StratumError && err.code === 'MASTER_KEY_INVALID') throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new StratumError(
      'CONFIG_INVALID',
      `artifact store ${JSON.stringify(redact(options.url))}: cannot open folder ${dir}: ${reason}`,
      { cause: err, details: { url: redact(options.url), dir } },
    );
  }
}

/**
 * Re-wraps every data key of the store a URL names with the current master key (see
 * `rotate-artifact-keys.ts`); the artifacts' bodies are not touched.
 *
 * @throws StratumError MASTER_KEY_INVALID when no master key is configured, or a data key is
 *   wrapped by a key that is neither the current one nor among the previous ones.
 * @example
 * ```ts
 * await rotateArtifactStoreKeys({ url: config.artifactsUrl, encryption: config.artifactEncryption })
 * ```
 */
export async function rotateArtifactStoreKeys(
  options: OpenArtifactStoreOptions & { onKey?: (done: number) => void; encryptPlaintext?: boolean },
): Promise<RotateArtifactKeysResult> {
  const dir = folderOf(options);
  const keyring = await loadMasterKeyring(options.encryption, options.cwd === undefined ? {} : { cwd: options.cwd });
  if (keyring === undefined) {
    throw new StratumError(
      'MASTER_KEY_INVALID',
      'no master key to rotate to: set STRATUM_MASTER_KEY (or STRATUM_MASTER_KEY_FILE) to the new key and STRATUM_MASTER_KEY_PREVIOUS to the current one',
    );
  }
  return rotateArtifactKeys({
    dir,
    keyring,
    ...(options.onKey !== undefined && { onKey: options.onKey }),
    ...(options.encryptPlaintext !== undefined && { encryptPlaintext: options.encryptPlaintext }),
  });
}

function folderOf(options: OpenArtifactStoreOptions): string {
  const { url } = options;
  const invalid = (why: string): StratumError =>
    new StratumError('CONFIG_INVALID', `artifact store URL ${JSON.stringify(redact(url))} ${why}`, {
      details: { url: redact(url) },
    });
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch (err) {
      throw invalid(`is not a valid file URL (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length);
    if (path === '') throw invalid('names no folder: use file:<folder> or file:///absolute/folder');
    return resolve(options.cwd ?? process.cwd(), path);
  }
  throw invalid('is not supported: use file:<folder> or file:///absolute/folder');
}

// A future object-store URL may carry credentials; never echo a password into a log or error.
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
