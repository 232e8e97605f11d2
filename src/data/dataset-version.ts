/**
 * Content versions of data files, in the manner of DVC: a SHA-256 of the bytes (streamed, so any
 * size), with the size. The same bytes give the same version whatever the path or mtime.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StratumError } from '../errors/index.ts';

/** The version of one file. */
export interface FileVersion {
  /** The path as given. */
  readonly path: string;
  /** `sha256:` and the hex digest of the file's bytes. */
  readonly digest: string;
  /** Bytes. */
  readonly size: number;
}

/** The version of a dataset made of one or more files. */
export interface DatasetVersion {
  /**
   * For one file, its digest (so it equals `sha256sum`). For several, the SHA-256 of the lines
   * `<hex digest> <size>\n` in the order given: order matters, paths do not.
   */
  readonly digest: string;
  /** Total bytes. */
  readonly size: number;
  /** Each file's version, in the order given. */
  readonly files: readonly FileVersion[];
}

async function fileVersion(path: string): Promise<FileVersion> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new StratumError('NOT_FOUND', `${path}: no such file`, { cause: error });
  }
  if (!info.isFile()) throw new StratumError('BAD_REQUEST', `${path}: not a regular file (pass the files themselves)`);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    hash.update(bytes);
  }
  return { path, digest: `sha256:${hash.digest('hex')}`, size };
}

/**
 * The content version of the file(s) at `paths`.
 *
 * @example
 * ```ts
 * const { digest } = await datasetVersion(['train.csv', 'test.csv']);
 * ```
 */
export async function datasetVersion(paths: string | readonly string[]): Promise<DatasetVersion> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) throw new StratumError('BAD_REQUEST', 'datasetVersion: expected at least one file');
  const files: FileVersion[] = [];
  for (const path of list) files.push(await fileVersion(path));
  const size = files.reduce((total, file) => total + file.size, 0);
  if (files.length === 1) return { digest: (files[0] as FileVersion).digest, size, files };
  const combined = createHash('sha256');
  for (const file of files) combined.update(`${file.digest.slice('sha256:'.length)} ${file.size}\n`);
  return { digest: `sha256:${combined.digest('hex')}`, size, files };
}
