/**
 * Training checkpoints on disk: one JSON document per file, written atomically (a temporary file
 * in the same folder, then a rename), so a crash mid-write leaves the previous checkpoint intact.
 * Every checkpoint carries a fingerprint of the run that wrote it (trainer, parameters, data shape
 * and a cheap data hash); resuming refuses a checkpoint whose fingerprint differs, naming the
 * first field that does.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { StratumError } from '../../errors/index.ts';

/** What identifies a run: a checkpoint resumes only a run with the same fingerprint. */
export type Fingerprint = Readonly<Record<string, string | number | boolean | null>>;

const FORMAT = 1;

/** Writes `state` with its fingerprint to `path` atomically. */
export function writeCheckpoint(args: { path: string; kind: string; fingerprint: Fingerprint; state: object }): void {
  const { path, kind, fingerprint, state } = args;
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    writeFileSync(temporary, JSON.stringify({ format: FORMAT, kind, fingerprint, state }));
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new StratumError('BAD_REQUEST', `checkpoint.path: cannot write ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Reads a checkpoint written by {@link writeCheckpoint} for the same `kind` and `fingerprint` and
 * returns its state.
 *
 * @throws StratumError BAD_REQUEST when the file is missing, unreadable, of another trainer, or
 * from a run with other parameters or data.
 */
export function readCheckpoint(args: { path: string; kind: string; fingerprint: Fingerprint }): unknown {
  const { path, kind, fingerprint } = args;
  let document: { format?: unknown; kind?: unknown; fingerprint?: Record<string, unknown>; state?: unknown };
  try {
    document = JSON.parse(readFileSync(path, 'utf8')) as typeof document;
  } catch (error) {
    throw new StratumError('BAD_REQUEST', `resumeFrom: cannot read checkpoint ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (document.format !== FORMAT || document.kind !== kind || typeof document.fingerprint !== 'object') {
    throw new StratumError(
      'BAD_REQUEST',
      `resumeFrom: ${path} is not a ${kind} checkpoint (kind ${String(document.kind)}, format ${String(document.format)})`,
    );
  }
  const saved = document.fingerprint ?? {};
  for (const key of new Set([...Object.keys(fingerprint), ...Object.keys(saved)])) {
    if (saved[key] !== fingerprint[key]) {
      throw new StratumError(
        'BAD_REQUEST',
        `resumeFrom: ${path} was written by a run with another ${key} (checkpoint ${String(saved[key])}, ` +
          `this run ${String(fingerprint[key])}); resume with the same data and parameters`,
        { details: { field: key } },
      );
    }
  }
  return document.state;
}

/** Throws BAD_REQUEST unless a checkpoint option is a non-empty path and an interval >= 1, naming the option. */
export function checkCheckpointOptions(args: { path: unknown; every: unknown; name: string }): void {
  const { path, every, name } = args;
  if (typeof path !== 'string' || path === '') {
    throw new StratumError('BAD_REQUEST', `checkpoint.path must be a non-empty file path, got ${String(path)}`);
  }
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1) {
    throw new StratumError('BAD_REQUEST', `checkpoint.${name} must be an integer >= 1, got ${String(every)}`);
  }
}

/**
 * A cheap hash of numeric data (FNV-1a over up to 65,536 evenly spaced values plus the length),
 * enough to tell one data set from another without reading every value.
 */
export function hashValues(values: ArrayLike<number>): string {
  let hash = 0x811c9dc5;
  const mix = (word: number): void => {
    hash = Math.imul(hash ^ (word & 0xff), 0x01000193);
    hash = Math.imul(hash ^ ((word >>> 8) & 0xff), 0x01000193);
    hash = Math.imul(hash ^ ((word >>> 16) & 0xff), 0x01000193);
    hash = Math.imul(hash ^ (word >>> 24), 0x01000193);
  };
  const view = new DataView(new ArrayBuffer(8));
  const step = Math.max(1, Math.floor(values.length / 65_536));
  mix(values.length);
  for (let i = 0; i < values.length; i += step) {
    view.setFloat64(0, values[i] as number);
    mix(view.getUint32(0));
    mix(view.getUint32(4));
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** A Float64Array as base64 of its bytes (exact, unlike decimal text for NaN and infinities). */
export function encodeFloat64(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** Inverse of {@link encodeFloat64}. */
export function decodeFloat64(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const values = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

/** The data part of a run's fingerprint: shape and content hashes of the training and validation sets. */
export function dataFingerprint(data: {
  numFeatures: number;
  features: ArrayLike<number>;
  labels: ArrayLike<number>;
  validation: { features: ArrayLike<number>; labels: ArrayLike<number> } | undefined;
}): Fingerprint {
  const { validation } = data;
  return {
    numFeatures: data.numFeatures,
    numRows: data.labels.length,
    features: hashValues(data.features),
    labels: hashValues(data.labels),
    validationFeatures: validation === undefined ? null : hashValues(validation.features),
    validationLabels: validation === undefined ? null : hashValues(validation.labels),
  };
}
