/**
 * The building blocks of the trainers' parameter schemas (`linearParams`, `mlpParams`,
 * `gbdtParams`): a range is written once and gives both the zod checks, which stay introspectable
 * (`z.toJSONSchema` shows `minimum`, `exclusiveMinimum`, `maximum`, `default`, `description`), and
 * the message a person reads (`must be an integer in [1, 64], got 0`). The training spec and the
 * library calls parse the same schemas, so a YAML path and a `params.` path get the same words.
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { specErrorMap } from '../../errors/format-issues.ts';

/** An admissible numeric range. */
export interface NumberRange {
  /** Smallest value allowed. @default none */
  readonly min?: number;
  /** Values must be greater than this (an open lower end). @default none */
  readonly gt?: number;
  /** Largest value allowed. @default none */
  readonly max?: number;
  /** Values must be less than this (an open upper end). @default none */
  readonly lt?: number;
  /**
   * A guard against runaway values rather than part of the parameter's meaning (`epochs` ≤ 100000):
   * enforced like `max`, but named only in the message of a value above it. @default none
   */
  readonly cap?: number;
}

/** An integer parameter, e.g. `integer({ min: 1, max: 64 })` → "an integer in [1, 64]". */
export function integer(range: Omit<NumberRange, 'gt' | 'lt'> = {}): z.ZodNumber {
  return bounded({ schema: z.number({ error: rangeError(range, 'integer') }).int(), range });
}

/** A finite real parameter, e.g. `real({ min: 0, lt: 1 })` → "a number in [0, 1)". */
export function real(range: NumberRange = {}): z.ZodNumber {
  return bounded({ schema: z.number({ error: rangeError(range, 'number') }), range });
}

/** A share in [0, 1], e.g. `fraction({ gt: 0 })` → "in (0, 1]". */
export function fraction(range: Pick<NumberRange, 'gt' | 'min'>): z.ZodNumber {
  const full = { ...range, max: 1 };
  return bounded({ schema: z.number({ error: rangeError(full, 'fraction') }), range: full });
}

/** One of a few words, e.g. `choice(['relu', 'tanh'])` → "'relu' or 'tanh'". */
export function choice<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => `must be ${listOf(values.map((v) => `'${v}'`))}, got ${String(issue.input)}`,
  });
}

/** Worker threads of data-parallel training: the calling thread plus `workers − 1` threads. */
export const workers = integer({ min: 1, max: 64 })
  .default(1)
  .describe(
    'Threads sharing the work: the calling thread plus workers - 1 worker threads, each on a contiguous shard of the rows',
  );

/** In words: "an integer ≥ 1", "a finite number > 0", "a number in [0, 1)", "in (0, 1]". */
export function describeRange(range: NumberRange, kind: 'integer' | 'number' | 'fraction'): string {
  const low = range.gt ?? range.min;
  const high = range.lt ?? range.max;
  const noun = kind === 'integer' ? 'an integer' : 'a number';
  if (low !== undefined && high !== undefined) {
    const interval = `${range.gt === undefined ? '[' : '('}${low}, ${high}${range.lt === undefined ? ']' : ')'}`;
    return kind === 'fraction' ? `in ${interval}` : `${noun} in ${interval}`;
  }
  const finite = kind === 'integer' ? noun : 'a finite number';
  if (low !== undefined) return `${finite} ${range.gt === undefined ? '≥' : '>'} ${low}`;
  if (high !== undefined) return `${finite} ${range.lt === undefined ? '≤' : '<'} ${high}`;
  return finite;
}

/**
 * Parses `input` with `schema`, naming every bad field by its path below `name`.
 *
 * @throws StratumError BAD_REQUEST `params.epochs must be an integer ≥ 1, got 0` (issues joined by `; `).
 * @example
 * ```ts
 * const params = parseOption({ schema: linearParams, input: options.params, name: 'params' })
 * ```
 */
export function parseOption<S extends z.ZodType>(args: { schema: S; input: unknown; name: string }): z.output<S> {
  const parsed = args.schema.safeParse(args.input, { error: specErrorMap });
  if (parsed.success) return parsed.data;
  const { issues } = parsed.error;
  const paths = issues.map((issue) => pathOf(args.name, issue.path));
  const message = issues
    .map((issue, i) => `${paths[i]}${issue.message.startsWith('must ') ? ' ' : ': '}${issue.message}`)
    .join('; ');
  throw new StratumError('BAD_REQUEST', message, { details: { parameter: paths[0], issues } });
}

function pathOf(name: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (written, key) => (typeof key === 'number' ? `${written}[${key}]` : `${written}.${String(key)}`),
    name,
  );
}

function bounded(args: { schema: z.ZodNumber; range: NumberRange }): z.ZodNumber {
  const { range } = args;
  let schema = args.schema;
  if (range.min !== undefined) schema = schema.min(range.min);
  if (range.gt !== undefined) schema = schema.gt(range.gt);
  if (range.max !== undefined) schema = schema.max(range.max);
  if (range.lt !== undefined) schema = schema.lt(range.lt);
  if (range.cap !== undefined) schema = schema.max(range.cap);
  return schema;
}

function rangeError(range: NumberRange, kind: 'integer' | 'number' | 'fraction') {
  const expected = describeRange(range, kind);
  return (issue: { code?: string; input?: unknown }): string => {
    const received = String(issue.input);
    if (
      issue.code === 'too_big' &&
      range.cap !== undefined &&
      typeof issue.input === 'number' &&
      issue.input > range.cap
    )
      return `must be at most ${range.cap}, got ${received}`;
    return `must be ${expected}, got ${received}`;
  };
}

/** `'a', 'b' or 'c'` */
export function listOf(words: readonly string[]): string {
  return words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
