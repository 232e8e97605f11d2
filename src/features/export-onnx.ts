/**
 * Exports a fitted pipeline into an ONNX graph, so a served model takes raw columns (FLOAT, DOUBLE
 * and STRING [N,1]) and computes its own features: no second implementation at serving time, no skew.
 * Numeric and categorical transforms use standard ops plus ai.onnx.ml `LabelEncoder`; text adds
 * StringNormalizer (with an explicit C.UTF-8 locale) and com.microsoft `Tokenizer` and `MurmurHash3`;
 * hash uses `MurmurHash3` too; dateparts runs Hinnant's civil-from-days with Div/Floor on DOUBLE
 * (and Gathers cyclical sin/cos from a table). A missing value (NaN) is filled as the trainer
 * filled it; in a column no transform fills (`missing: error`) it makes the row's features NaN.
 */
import { StratumError } from '../errors/index.ts';
import { attr } from '../onnx/attribute.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { DATA_TYPE } from '../onnx/onnx-proto.ts';
import {
  CIVIL_EPOCH_SHIFT,
  CYCLICAL_PERIODS,
  cyclicalTable,
  DAYS_PER_ERA,
  MS_PER_DAY,
  MS_PER_HOUR,
  MS_PER_MINUTE,
  type DatePart,
} from './date-parts.ts';
import { type FittedFeatures, type FittedTransform, type RawInput, unfilledColumns } from './fitted-features.ts';
import { L2_NORM_FLOOR, NGRAM_HASH_MODULUS, NGRAM_HASH_MULTIPLIER, TOKEN_PATTERN } from './text-hash.ts';

/** Locale of the lowercasing StringNormalizer; unlike the default (en_US.UTF-8) it exists on clean Debian. */
export const TEXT_LOCALE = 'C.UTF-8';

/** Pads the token matrix; never a token, since {@link TOKEN_PATTERN} matches letters and digits only. */
const TOKEN_PAD = '#';

/** Opsets of {@link exportFeaturesModel}; a builder that receives text or hash transforms needs `com.microsoft`. */
export const FEATURE_OPSETS = Object.freeze({ '': 17, 'ai.onnx.ml': 3, 'com.microsoft': 1 });

/** Symbolic batch dimension of the raw inputs and the feature matrix. */
export const FEATURE_BATCH_DIM = 'batch';

/**
 * Adds one graph input per raw column of `fitted` (named after the column; FLOAT, DOUBLE or STRING,
 * shape `[batch, 1]`; NaN / `''` mean missing) and the nodes that compute the features: a row
 * missing a value no transform fills gets NaN for every feature. Text and hash transforms need the
 * builder to import `com.microsoft` (see {@link FEATURE_OPSETS}).
 *
 * @returns the name of the FLOAT `[batch, F]` feature tensor (`fitted.output`).
 * @example
 * ```ts
 * const g = new GraphBuilder({ name: 'model' })
 * const features = addFeatureGraph(g, fitted)
 * g.addNode({ op: 'Gemm', inputs: [features, 'w', 'b'], outputs: ['y'] })
 * ```
 */
export function addFeatureGraph(builder: GraphBuilder, fitted: FittedFeatures): string {
  const ops = new FeatureOps(builder, fitted.inputs);
  for (const input of fitted.inputs) {
    builder.addInput({ name: input.column, type: input.type, shape: [FEATURE_BATCH_DIM, 1] });
  }
  const pieces = fitted.transforms.flatMap((transform) => ops.transform(transform));
  const unfilled = addUnfilledRows(builder, fitted);
  if (unfilled === undefined) {
    return builder.addNode({
      op: 'Concat',
      inputs: pieces,
      outputs: [fitted.output],
      attributes: { axis: attr.int(1) },
    });
  }
  const features = builder.addNode({ op: 'Concat', inputs: pieces, attributes: { axis: attr.int(1) } });
  const nan = builder.addInitializer({ name: builder.freshName('feature_nan'), dims: [], data: Float32Array.of(NaN) });
  // Where, not Add(features, NaN or 0): adding 0 would turn a -0 feature into +0.
  return builder.addNode({ op: 'Where', inputs: [unfilled, nan, features], outputs: [fitted.output] });
}

/**
 * Adds the BOOL `[batch, 1]` value that is true where a row misses (NaN) a value of a column no
 * transform fills (`missing: error`, see `unfilledColumns`); undefined when every missing value is
 * filled. The raw inputs must be declared already (as {@link addFeatureGraph} does).
 *
 * @example
 * ```ts
 * const unfilled = addUnfilledRows(g, fitted) // e.g. to give such rows NaN outputs after the model
 * ```
 */
export function addUnfilledRows(builder: GraphBuilder, fitted: FittedFeatures): string | undefined {
  let any: string | undefined;
  for (const column of unfilledColumns(fitted)) {
    const missing = builder.addNode({ op: 'IsNaN', inputs: [column] });
    any = any === undefined ? missing : builder.addNode({ op: 'Or', inputs: [any, missing] });
  }
  return any;
}

/**
 * A standalone model whose only output is the feature matrix (`fitted.output`, FLOAT `[batch, F]`).
 *
 * @returns the `.onnx` bytes.
 */
export function exportFeaturesModel(fitted: FittedFeatures): Uint8Array {
  const builder = new GraphBuilder({
    name: 'features',
    opsets: FEATURE_OPSETS,
    docString: `features: ${fitted.featureNames.join(', ')}`,
  });
  const output = addFeatureGraph(builder, fitted);
  builder.addOutput({ name: output, type: 'FLOAT', shape: [FEATURE_BATCH_DIM, fitted.featureNames.length] });
  return builder.toBytes();
}

/** Node-building helpers over one builder; caches IsNaN and DOUBLE → FLOAT casts per column. */
class FeatureOps {
  readonly #g: GraphBuilder;
  readonly #types: ReadonlyMap<string, RawInput['type']>;
  readonly #isNaN = new Map<string, string>();
  readonly #asFloat = new Map<string, string>();
  readonly #doubles = new Map<number, string>();

  constructor(builder: GraphBuilder, inputs: readonly RawInput[]) {
    this.#g = builder;
    this.#types = new Map(inputs.map((input) => [input.column, input.type]));
  }

  /** The names of the `[batch, k]` FLOAT tensors the transform contributes, in feature order. */
  transform(t: FittedTransform): string[] {
    if (t.transform === 'onehot') return [this.#oneHot(t.column, t.vocabulary)];
    if (t.transform === 'text') return [this.#text(t)];
    if (t.transform === 'hash') return [this.#hash(t.column, t.buckets)];
    if (t.transform === 'dateparts') return this.#dateParts(t);
    const x = this.#imputed(t.column, t.fill);
    switch (t.transform) {
      case 'standardize':
        return [this.#op('Div', [this.#op('Sub', [x, this.#float([t.mean])]), this.#float([t.std])])];
      case 'minmax': {
        const scaled = this.#op('Div', [this.#op('Sub', [x, this.#float([t.min])]), this.#float([t.scale])]);
        if (!t.clip) return [scaled];
        return [this.#op('Clip', [scaled, this.#float([0], []), this.#float([1], [])])];
      }
      case 'impute':
        return t.indicator ? [x, this.#toFloat(this.#isNaNOf(t.column))] : [x];
      case 'bucketize': {
        const n = t.boundaries.length;
        // bucket = number of boundaries b with x >= b, i.e. boundaries[i-1] <= x < boundaries[i]
        const above = this.#toFloat(this.#op('GreaterOrEqual', [x, this.#float(t.boundaries, [1, n])]));
        const bucket = this.#g.addNode({
          op: 'ReduceSum',
          inputs: [above, this.#int64([1], [1])],
          attributes: { keepdims: attr.int(1) },
        });
        if (t.encoding === 'ordinal') return [bucket];
        const ids = this.#float(
          Array.from({ length: n + 1 }, (_, i) => i),
          [1, n + 1],
        );
        return [this.#toFloat(this.#op('Equal', [bucket, ids]))];
      }
    }
  }

  #oneHot(column: string, vocabulary: readonly string[]): string {
    const k = vocabulary.length;
    const index = this.#g.addNode({
      op: 'LabelEncoder',
      domain: 'ai.onnx.ml',
      inputs: [column],
      attributes: {
        keys_strings: attr.strings(vocabulary),
        values_int64s: attr.ints(vocabulary.map((_, i) => i)),
        // unseen and missing ('') categories land in the last, out-of-vocabulary column
        default_int64: attr.int(k),
      },
    });
    const ids = this.#int64(
      Array.from({ length: k + 1 }, (_, i) => i),
      [1, k + 1],
    );
    return this.#toFloat(this.#op('Equal', [index, ids]));
  }

  /** lowercase → tokenize → MurmurHash3 → fold n-grams → bucket counts → × IDF → L2; see text-hash.ts. */
  #text(t: Extract<FittedTransform, { transform: 'text' }>): string {
    const g = this.#g;
    let text = this.#op('Reshape', [t.column, this.#int64([-1], [1])]);
    if (t.lowercase) {
      text = g.addNode({
        op: 'StringNormalizer',
        inputs: [text],
        // the default locale, en_US.UTF-8, is missing on minimal machines; C.UTF-8 is built into glibc >= 2.35
        attributes: { case_change_action: attr.string('LOWER'), locale: attr.string(TEXT_LOCALE) },
      });
    }
    const tokens = g.addNode({
      op: 'Tokenizer',
      domain: 'com.microsoft',
      inputs: [text],
      attributes: {
        tokenexp: attr.string(TOKEN_PATTERN),
        mark: attr.int(0),
        pad_value: attr.string(TOKEN_PAD),
        mincharnum: attr.int(1),
      },
    });
    const present = g.addNode({
      op: 'LabelEncoder',
      domain: 'ai.onnx.ml',
      inputs: [tokens],
      attributes: {
        keys_strings: attr.strings([TOKEN_PAD]),
        values_int64s: attr.ints([0]),
        default_int64: attr.int(1),
      },
    });
    const mask = this.#toFloat(present);
    const hashes = g.addNode({
      op: 'Cast',
      inputs: [
        g.addNode({
          op: 'MurmurHash3',
          domain: 'com.microsoft',
          inputs: [tokens],
          attributes: { seed: attr.int(0), positive: attr.int(1) },
        }),
      ],
      attributes: { to: attr.int(DATA_TYPE.INT64) },
    });
    const batch = g.addNode({ op: 'Shape', inputs: [t.column], attributes: { end: attr.int(1) } });
    const shape = g.addNode({
      op: 'Concat',
      inputs: [batch, this.#int64([t.buckets], [1])],
      attributes: { axis: attr.int(0) },
    });
    let counts = g.addNode({
      op: 'ConstantOfShape',
      inputs: [shape],
      attributes: { value: attr.tensor({ dims: [1], data: new Float32Array([0]) }) },
    });
    // Only n-grams longer than one fold hashes together; an unused initializer makes onnxruntime warn.
    const multiplier = t.ngramMax > 1 ? this.#int64([NGRAM_HASH_MULTIPLIER], []) : '';
    const modulus = this.#int64([NGRAM_HASH_MODULUS], []);
    const buckets = this.#int64([t.buckets], []);
    for (let n = t.ngramMin; n <= t.ngramMax; n++) {
      let acc = this.#int64([n * NGRAM_HASH_MULTIPLIER], []);
      let ngramMask = '';
      for (let j = 0; j < n; j++) {
        // the j-th token of every n-gram: columns j … D-n+j
        const slice = (input: string): string =>
          this.#op('Slice', [
            input,
            this.#int64([j], [1]),
            this.#int64([j < n - 1 ? j - n + 1 : Number.MAX_SAFE_INTEGER], [1]),
            this.#int64([1], [1]),
          ]);
        const scaled = j === 0 ? acc : this.#op('Mul', [acc, multiplier]);
        acc = this.#op('Mod', [this.#op('Add', [scaled, slice(hashes)]), modulus]);
        ngramMask = j === 0 ? slice(mask) : this.#op('Mul', [ngramMask, slice(mask)]);
      }
      counts = g.addNode({
        op: 'ScatterElements',
        inputs: [counts, this.#op('Mod', [acc, buckets]), ngramMask],
        attributes: { axis: attr.int(1), reduction: attr.string('add') },
      });
    }
    let weighted = t.idf === null ? counts : this.#op('Mul', [counts, this.#float(t.idf, [1, t.buckets])]);
    if (t.norm === 'l2') {
      const squares = g.addNode({
        op: 'ReduceSum',
        inputs: [this.#op('Mul', [weighted, weighted]), this.#int64([1], [1])],
        attributes: { keepdims: attr.int(1) },
      });
      const norm = this.#op('Max', [this.#op('Sqrt', [squares]), this.#float([L2_NORM_FLOOR], [])]);
      weighted = this.#op('Div', [weighted, norm]);
    }
    return weighted;
  }

  /** One-hot of `murmur3(value) mod buckets`, times 0 for a missing value (''); see transform.ts. */
  #hash(column: string, buckets: number): string {
    const g = this.#g;
    const present = g.addNode({
      op: 'LabelEncoder',
      domain: 'ai.onnx.ml',
      inputs: [column],
      attributes: { keys_strings: attr.strings(['']), values_int64s: attr.ints([0]), default_int64: attr.int(1) },
    });
    const hashes = g.addNode({
      op: 'MurmurHash3',
      domain: 'com.microsoft',
      inputs: [column],
      attributes: { seed: attr.int(0), positive: attr.int(1) },
    });
    const int64 = g.addNode({ op: 'Cast', inputs: [hashes], attributes: { to: attr.int(DATA_TYPE.INT64) } });
    const bucket = this.#op('Mod', [int64, this.#int64([buckets], [])]);
    const ids = this.#int64(
      Array.from({ length: buckets }, (_, i) => i),
      [1, buckets],
    );
    return this.#op('Mul', [this.#toFloat(this.#op('Equal', [bucket, ids])), this.#toFloat(present)]);
  }

  /** Calendar parts of a DOUBLE epoch-ms column, step for step as `datePartsOf` in date-parts.ts. */
  #dateParts(t: Extract<FittedTransform, { transform: 'dateparts' }>): string[] {
    const d = (value: number): string => this.#double(value);
    const floorDiv = (a: string, k: number): string => this.#op('Floor', [this.#op('Div', [a, d(k)])]);
    const times = (a: string, k: number): string => this.#op('Mul', [a, d(k)]);
    const plus = (a: string, k: number): string => this.#op('Add', [a, d(k)]);
    const sub = (a: string, b: string): string => this.#op('Sub', [a, b]);
    const add = (a: string, b: string): string => this.#op('Add', [a, b]);
    const toDouble = (input: string): string =>
      this.#g.addNode({ op: 'Cast', inputs: [input], attributes: { to: attr.int(DATA_TYPE.DOUBLE) } });
    const mod = (a: string, k: number): string => sub(a, times(floorDiv(a, k), k));

    // Without a fill (missing: error) time 0 stands in, so no Cast or Gather sees NaN; the row is NaN in the end.
    const filled = this.#op('Where', [this.#op('IsNaN', [t.column]), d(t.fill ?? 0), t.column]);
    const ms = this.#op('Floor', [filled]);
    const days = floorDiv(ms, MS_PER_DAY);
    const values = new Map<DatePart, string>();
    const wants = (...parts: DatePart[]): boolean => parts.some((part) => t.parts.includes(part));
    if (wants('hour', 'minute')) {
      const msOfDay = sub(ms, times(days, MS_PER_DAY));
      const hour = floorDiv(msOfDay, MS_PER_HOUR);
      values.set('hour', hour);
      values.set('minute', floorDiv(sub(msOfDay, times(hour, MS_PER_HOUR)), MS_PER_MINUTE));
    }
    if (wants('dayofweek')) values.set('dayofweek', mod(plus(days, 3), 7));
    if (wants('year', 'month', 'day', 'dayofyear')) {
      const z = plus(days, CIVIL_EPOCH_SHIFT);
      const era = floorDiv(z, DAYS_PER_ERA);
      const doe = sub(z, times(era, DAYS_PER_ERA));
      const yoe = floorDiv(sub(add(sub(doe, floorDiv(doe, 1460)), floorDiv(doe, 36_524)), floorDiv(doe, 146_096)), 365);
      const doy = sub(doe, sub(add(times(yoe, 365), floorDiv(yoe, 4)), floorDiv(yoe, 100)));
      const mp = floorDiv(plus(times(doy, 5), 2), 153);
      const janOrFeb = this.#op('GreaterOrEqual', [mp, d(10)]);
      const year = add(add(yoe, times(era, 400)), toDouble(janOrFeb));
      values.set('year', year);
      values.set('month', this.#op('Where', [janOrFeb, plus(mp, -9), plus(mp, 3)]));
      values.set('day', plus(sub(doy, floorDiv(plus(times(mp, 153), 2), 5)), 1));
      const divisible = (k: number): string => this.#op('Equal', [mod(year, k), d(0)]);
      const leap = this.#op('And', [divisible(4), this.#op('Or', [this.#op('Not', [divisible(100)]), divisible(400)])]);
      values.set('dayofyear', this.#op('Where', [janOrFeb, plus(doy, -305), add(plus(doy, 60), toDouble(leap))]));
    }
    return t.parts.flatMap((part) => {
      const computed = values.get(part);
      if (computed === undefined) throw new StratumError('INTERNAL', `dateparts: part "${part}" was not computed`);
      const cycle = t.encoding === 'cyclical' ? CYCLICAL_PERIODS[part] : undefined;
      if (cycle === undefined) return [this.#toFloat(computed)];
      const index = this.#g.addNode({
        op: 'Cast',
        inputs: [plus(computed, -cycle.start)],
        attributes: { to: attr.int(DATA_TYPE.INT64) },
      });
      const table = cyclicalTable(part);
      const lookup = (values: readonly number[]): string =>
        this.#g.addNode({ op: 'Gather', inputs: [this.#float(values), index], attributes: { axis: attr.int(0) } });
      return [lookup(table.sin), lookup(table.cos)];
    });
  }

  /** The column with missing values filled; without a fill (missing: error) 0 stands in, and the row is NaN in the end. */
  #imputed(column: string, fill: number | null): string {
    return this.#op('Where', [this.#isNaNOf(column), this.#float([fill ?? 0]), this.#numeric(column)]);
  }

  /** The column as FLOAT: the input itself, or one Cast of a DOUBLE (timestamp) input shared by every transform. */
  #numeric(column: string): string {
    if (this.#types.get(column) !== 'DOUBLE') return column;
    let name = this.#asFloat.get(column);
    if (name === undefined) {
      name = this.#toFloat(column);
      this.#asFloat.set(column, name);
    }
    return name;
  }

  #isNaNOf(column: string): string {
    let name = this.#isNaN.get(column);
    if (name === undefined) {
      name = this.#op('IsNaN', [this.#numeric(column)]);
      this.#isNaN.set(column, name);
    }
    return name;
  }

  #toFloat(input: string): string {
    return this.#g.addNode({ op: 'Cast', inputs: [input], attributes: { to: attr.int(DATA_TYPE.FLOAT) } });
  }

  #op(op: string, inputs: readonly string[]): string {
    return this.#g.addNode({ op, inputs });
  }

  #float(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.#g.addInitializer({ name: this.#g.freshName('feature_const'), dims, data: Float32Array.from(values) });
  }

  /** A scalar DOUBLE constant, one initializer per value however often the date arithmetic uses it. */
  #double(value: number): string {
    let name = this.#doubles.get(value);
    if (name === undefined) {
      name = this.#g.addInitializer({
        name: this.#g.freshName('feature_const'),
        dims: [],
        data: Float64Array.of(value),
      });
      this.#doubles.set(value, name);
    }
    return name;
  }

  #int64(values: readonly number[], dims: readonly number[]): string {
    return this.#g.addInitializer({
      name: this.#g.freshName('feature_ids'),
      dims,
      data: BigInt64Array.from(values, (v) => BigInt(v)),
    });
  }
}
