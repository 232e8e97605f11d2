/**
 * Chooses the artifact store implementation from the configured URL (`artifactsUrl`). Only
 * `file:` exists today; an object store would add its scheme here and nowhere else.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StratumError } from '../errors/index.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { createFolderArtifactStore } from './folder-artifact-store.ts';

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
}

/**
 * Opens the artifact store a URL names.
 *
 * @throws StratumError CONFIG_INVALID naming the URL when its scheme is not supported, it names
 *   no folder, or the folder cannot be created.
 * @example
 * ```ts
 * const artifacts = await openArtifactStore({ url: config.artifactsUrl })
 * ```
 */
export async function openArtifactStore(options: OpenArtifactStoreOptions): Promise<ArtifactStore> {
  const dir = folderOf(options);
  try {
    return await createFolderArtifactStore({ dir });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new StratumError(
      'CONFIG_INVALID',
      `artifact store ${JSON.stringify(redact(options.url))}: cannot open folder ${dir}: ${reason}`,
      { cause: err, details: { url: redact(options.url), dir } },
    );
  }
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
