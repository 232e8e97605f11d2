/**
 * How input columns feed the model: each model input takes one column (a `[batch]` or
 * `[batch, 1]` input) or k columns in order (`[batch, k]`), converted to the input's tensor type.
 * A cell that cannot be converted (text where a number is due) makes its row a bad row; the
 * good rows are packed densely, so a batch's tensors hold only rows the model can run.
 */
import { rawDoubleOf } from '../../features/raw-value.ts';
import { StratumError } from '../../errors/index.ts';
import type { WireTensor, WireValueMetadata } from '../../runtime/messages.ts';
import type { BatchSpec } from './batch-spec.ts';

type FeedType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'string';
const FEED_TYPES: readonly string[] = ['float32', 'float64', 'int32', 'int64', 'bool', 'string'];

/** One model input and the columns (indices into the read columns) that feed it. */
export interface FeedPlan {
  readonly name: string;
  readonly type: FeedType;
  readonly columns: readonly number[];
  /** `[batch]` inputs take rank 1 tensors, the others `[batch, k]`. */
  readonly rank: 1 | 2;
}

/** The columns to read and how they feed the inputs. */
export interface FeedsPlan {
  /** Column names to read, in order: the pass-through ones first, then the inputs'. */
  readonly columns: readonly string[];
  readonly passThrough: number;
  readonly feeds: readonly FeedPlan[];
}

/** Plans the feeds of `inputs` from the spec's mapping and the source's columns. */
export function planFeeds(options: {
  spec: Pick<BatchSpec, 'inputs' | 'passThrough'>;
  inputs: readonly WireValueMetadata[];
  sourceColumns: readonly string[];
}): FeedsPlan {
  const { spec, inputs, sourceColumns } = options;
  const passThrough = spec.passThrough ?? [];
  const columns: string[] = [...passThrough];
  const indexOf = (name: string): number => {
    const at = columns.indexOf(name);
    if (at !== -1) return at;
    columns.push(name);
    return columns.length - 1;
  };
  for (const name of Object.keys(spec.inputs ?? {})) {
    if (!inputs.some((input) => input.name === name)) {
      throw new StratumError(
        'BAD_REQUEST',
        `batch spec: inputs.${name}: the model has no input "${name}" (inputs: ${inputs.map((i) => i.name).join(', ')})`,
        { details: { path: ['inputs', name] } },
      );
    }
  }
  const feeds = inputs.map((input): FeedPlan => {
    const type = input.type ?? '';
    if (!FEED_TYPES.includes(type)) {
      throw new StratumError('BAD_REQUEST', `model input "${input.name}" has type ${type}, which a batch cannot feed`);
    }
    const shape = input.shape ?? [];
    const rank = shape.length <= 1 ? 1 : 2;
    if (shape.length > 2) {
      throw new StratumError(
        'BAD_REQUEST',
        `model input "${input.name}" has shape [${shape.join(', ')}]: a batch feeds [batch] or [batch, k] inputs`,
      );
    }
    const width = rank === 1 ? 1 : shape[1];
    const mapped = spec.inputs?.[input.name];
    let names: readonly string[];
    if (mapped !== undefined) names = typeof mapped === 'string' ? [mapped] : mapped;
    else if (inputs.length === 1 && width !== 1 && !sourceColumns.includes(input.name)) {
      names = sourceColumns.filter((c) => !passThrough.includes(c));
    } else names = [input.name];
    if (typeof width === 'number' && width !== names.length) {
      throw new StratumError(
        'BAD_REQUEST',
        `model input "${input.name}" takes ${width} values per row, the mapping gives ${names.length} columns (${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`,
        { details: { path: ['inputs', input.name] } },
      );
    }
    return { name: input.name, type: type as FeedType, columns: names.map(indexOf), rank };
  });
  return { columns, passThrough: passThrough.length, feeds };
}

/** The tensors of a batch's good rows, and the rows that could not be converted. */
export interface BuiltFeeds {
  readonly tensors: WireTensor[];
  /** Indices (into the batch's records) of the rows in the tensors, in order. */
  readonly kept: number[];
  /** Per rejected record index: why. */
  readonly rejected: Map<number, string>;
}

/** Converts `records` into one tensor per feed. */
export function buildFeeds(plan: FeedsPlan, records: readonly (readonly unknown[])[]): BuiltFeeds {
  const n = records.length;
  const arrays = plan.feeds.map((feed) => allocate(feed, n));
  const setters = plan.feeds.map((feed, f) => setterOf(feed.type, arrays[f] as FeedArray));
  const kept: number[] = [];
  const rejected = new Map<number, string>();
  let at = 0;
  rows: for (let r = 0; r < n; r++) {
    const record = records[r] as readonly unknown[];
    for (let f = 0; f < plan.feeds.length; f++) {
      const feed = plan.feeds[f] as FeedPlan;
      const set = setters[f] as Setter;
      const width = feed.columns.length;
      for (let c = 0; c < width; c++) {
        const column = feed.columns[c] as number;
        const reason = set(at * width + c, record[column]);
        if (reason !== undefined) {
          rejected.set(r, `column "${plan.columns[column] as string}": ${reason}`);
          continue rows;
        }
      }
    }
    kept.push(r);
    at++;
  }
  const tensors = plan.feeds.map((feed, f): WireTensor => {
    const width = feed.columns.length;
    const array = arrays[f] as FeedArray;
    const data = Array.isArray(array) ? array.slice(0, at * width) : (array as TypedFeedArray).subarray(0, at * width);
    return { name: feed.name, type: feed.type, dims: feed.rank === 1 ? [at] : [at, width], data };
  });
  return { tensors, kept, rejected };
}

type TypedFeedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
type FeedArray = TypedFeedArray | string[];

function allocate(feed: FeedPlan, rows: number): FeedArray {
  const size = rows * feed.columns.length;
  switch (feed.type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'bool':
      return new Uint8Array(size);
    case 'string':
      return new Array<string>(size);
  }
}

/** Writes a value at an index of the feed's array; returns why it cannot, or undefined. */
type Setter = (index: number, value: unknown) => string | undefined;

function setterOf(type: FeedType, array: FeedArray): Setter {
  if (type === 'string') {
    const strings = array as string[];
    return (index, value) => {
      if (typeof value === 'string') strings[index] = value;
      else if (value === null || value === undefined) strings[index] = '';
      else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
        strings[index] = String(value);
      } else return `expected a string, got ${describe(value)}`;
      return undefined;
    };
  }
  const numbers = array as Float32Array;
  const integers = type === 'int32' || type === 'int64' || type === 'bool';
  return (index, value) => {
    const number = typeof value === 'number' ? value : rawDoubleOf(value);
    if (number === undefined) return `expected a number, got ${describe(value)}`;
    if (!integers) {
      numbers[index] = number;
      return undefined;
    }
    if (!Number.isInteger(number)) return `expected an integer, got ${describe(value)}`;
    if (type === 'int64') (array as BigInt64Array)[index] = BigInt(number);
    else numbers[index] = number;
    return undefined;
  };
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
