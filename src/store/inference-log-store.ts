/**
 * The inference log's contract: sampled requests with their inputs, outputs, version and latency,
 * the labels feedback joins onto them, and retention. Its own contract beside the MetadataStore
 * (the same database, a connection of its own): it is traffic, written in batches by serving
 * replicas, not metadata that anyone reacts to. Readers: live quality, drift (`readWindow`),
 * warm-up and replay.
 */
import type { NumericArray } from '../tensor/datatypes.ts';

/** One element of a logged tensor: numbers (BigInt values become numbers), strings, booleans; a hashed input holds hex strings. */
export type LoggedValue = number | string | boolean;

/** A tensor as the log reads it back: flat data in row-major order, whichever form it was stored in. */
export interface LoggedTensor {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly LoggedValue[];
  /** Set when the input's elements were replaced by hashes (the redaction rule `hash`). */
  readonly redacted?: 'hash';
}

/**
 * A numeric tensor handed to {@link InferenceLogStore.append} as its typed array: stored as its
 * raw little-endian bytes (`logged-tensor-codec.ts`), read back as a {@link LoggedTensor}.
 */
export interface PackedTensor {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly values: NumericArray;
}

/** A tensor as it is written: packed numbers, or a flat array (text, hashes, hand-built records). */
export type TensorToStore = LoggedTensor | PackedTensor;

/** A label: one value for a one-row request, or one per row. */
export type LabelValue = LoggedValue | readonly LoggedValue[];

/** What every logged request has besides its tensors. */
export interface LogRecordHead {
  /** The OIP request `id`, or the one the server generated and returned. */
  readonly requestId: string;
  /** The name the request addressed (a deployment, or a model of the folder repository). */
  readonly deployment: string;
  /** The model that answered (the registry model of a deployment). */
  readonly model: string;
  readonly version: string;
  /** When it was answered (epoch ms). */
  readonly at: number;
  readonly latencyMs: number;
}

/** A request as it is written to the log. */
export interface NewInferenceLogRecord extends LogRecordHead {
  /** By input name; inputs redacted with `drop` are absent. */
  readonly inputs: Readonly<Record<string, TensorToStore>>;
  readonly outputs: Readonly<Record<string, TensorToStore>>;
}

/** A logged request, with its label once feedback gave one. */
export interface InferenceLogRecord extends LogRecordHead {
  /** By input name; inputs redacted with `drop` are absent. */
  readonly inputs: Readonly<Record<string, LoggedTensor>>;
  readonly outputs: Readonly<Record<string, LoggedTensor>>;
  readonly label?: LabelValue;
  /** When the label was (last) given (epoch ms). */
  readonly labelledAt?: number;
}

/** What {@link InferenceLogStore.readWindow} reads. */
export interface ReadWindowOptions {
  readonly deployment: string;
  /** Only this version. @default every version */
  readonly version?: string;
  /** Only records answered at or after this time (epoch ms). @default no limit */
  readonly since?: number;
  /** The latest this many records (1–100,000). */
  readonly limit: number;
  /** Only records with (true) or without (false) a label. @default both */
  readonly labelled?: boolean;
}

/** A label to store on a logged request. */
export interface LabelWrite {
  readonly deployment: string;
  readonly requestId: string;
  readonly label: LabelValue;
}

/** What {@link InferenceLogStore.prune} removes. */
export interface PruneOptions {
  /** Remove records answered before this time (epoch ms). */
  readonly before?: number;
  /** Then keep at most this many records, removing the oldest. */
  readonly maxRows?: number;
}

/** The inference log on SQLite or PostgreSQL. */
export interface InferenceLogStore {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * Writes records in as few statements as possible, in one transaction. A request id already
   * logged for the same deployment keeps its first record. Resolves with the records written.
   */
  append(records: readonly NewInferenceLogRecord[]): Promise<number>;
  /**
   * The latest `limit` records of a deployment (optionally one version, since a time, labelled or
   * not), oldest first: the window drift statistics and live quality read.
   */
  readWindow(options: ReadWindowOptions): Promise<InferenceLogRecord[]>;
  /** The records logged under these request ids (every deployment that logged one). */
  find(requestIds: readonly string[]): Promise<InferenceLogRecord[]>;
  /** Stores labels (the last one given wins); resolves with the records updated. */
  setLabels(labels: readonly LabelWrite[]): Promise<number>;
  /** Applies the retention; resolves with the records removed. */
  prune(options: PruneOptions): Promise<number>;
  /** Records kept, of one deployment or of all. */
  count(deployment?: string): Promise<number>;
  /** Idempotent. */
  close(): Promise<void>;
}
