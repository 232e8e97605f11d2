/**
 * What a batch-inference job is asked to do, as one strict zod schema: the model, the input (a
 * file or a DuckDB query), how input columns feed the model's inputs, which outputs to write, the
 * output file and how to treat bad rows. The schema is the type; the CLI, the job payload and the
 * library function all parse through it, so a mistake is refused before any work starts.
 */
import { extname, isAbsolute } from 'node:path';
import { z } from 'zod';
import { formatIssues, StratumError } from '../../errors/index.ts';

/** Rows per chunk (the unit of checkpointing and of distribution over workers). @default 10,000 */
export const DEFAULT_CHUNK_ROWS = 10_000;
/** Rows per `session.run` inside a chunk. @default 1,024 */
export const DEFAULT_BATCH_ROWS = 1_024;

/** File formats read and written. */
export type FileFormat = 'csv' | 'jsonl' | 'parquet';

const FORMAT_BY_EXTENSION: Readonly<Record<string, FileFormat>> = Object.freeze({
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
});

const columnName = z.string().min(1);

/** The input: a file (format by extension unless given) or a SQL query DuckDB runs. */
const inputSchema = z.union([
  z.strictObject({
    path: z.string().min(1),
    format: z.enum(['csv', 'jsonl', 'parquet']).optional(),
  }),
  z.strictObject({ sql: z.string().trim().min(1) }),
]);

/** The batch spec's schema. */
export const batchSpecSchema = z.strictObject({
  /**
   * A registry model (`name` = its newest ready version, `name:3`, `name@production`) or the path
   * of an `.onnx` file.
   */
  model: z.string().min(1),
  input: inputSchema,
  /** The output file; its format by its extension (`.csv`, `.jsonl`, `.parquet`). */
  output: z.string().min(1),
  /**
   * Model input → the input columns that feed it (one column for a `[batch, 1]` or `[batch]`
   * input, k columns in order for `[batch, k]`). Inputs not named here take the column of their own
   * name, or, for a model with one wide input, every input column but the pass-through ones, in
   * file order.
   */
  inputs: z.record(z.string().min(1), z.union([columnName, z.array(columnName).min(1)])).optional(),
  /** Model outputs to write, in this order. @default every output */
  outputs: z.array(z.string().min(1)).min(1).optional(),
  /** Input columns copied to the output before the model's outputs (an id column). @default none */
  passThrough: z.array(columnName).optional(),
  chunkRows: z.int().min(1).max(10_000_000).default(DEFAULT_CHUNK_ROWS),
  batchRows: z.int().min(1).max(1_000_000).default(DEFAULT_BATCH_ROWS),
  /** `skip`: a bad row goes to the errors file and the batch goes on; `fail`: the batch fails at once. */
  onBadRow: z.enum(['skip', 'fail']).default('fail'),
  /** Where skipped rows are reported (JSON Lines: file, line, row, reason). @default `<output>.errors.jsonl` */
  errors: z.string().min(1).optional(),
});

/** A batch spec as given (defaults not applied). */
export type BatchSpecInput = z.input<typeof batchSpecSchema>;
/** A checked batch spec, defaults applied. */
export type BatchSpec = z.output<typeof batchSpecSchema>;

/** The payload of a `batch-chunk` job: the batch job it belongs to, its spec and the chunk's index. */
export const batchChunkPayloadSchema = z.strictObject({
  batchId: z.string().min(1),
  spec: batchSpecSchema,
  chunk: z.int().min(0),
});

/**
 * The checks of a `batch-infer` job's spec beyond its schema, at submission: the formats the file
 * names say, and absolute paths — a worker runs in another folder, maybe on another machine.
 * Throws BAD_REQUEST `invalid <where>.<field>: …`.
 */
export function checkBatchJobSpec(spec: BatchSpec, where: string): void {
  const relative = (field: string, path: string): StratumError =>
    new StratumError(
      'BAD_REQUEST',
      `invalid ${where}.${field}: "${path}" must be an absolute path (a worker runs elsewhere)`,
      {
        details: { path: [...where.split('.'), ...field.split('.')] },
      },
    );
  const paths: [string, string | undefined][] = [
    ['output', spec.output],
    ['errors', spec.errors],
    ['input.path', 'path' in spec.input ? spec.input.path : undefined],
    ['model', /\.onnx$/i.test(spec.model) || spec.model.includes('/') ? spec.model : undefined],
  ];
  for (const [field, path] of paths) if (path !== undefined && !isAbsolute(path)) throw relative(field, path);
  try {
    outputFormat(spec.output);
    if ('path' in spec.input) inputFormat(spec.input);
  } catch (error) {
    throw new StratumError('BAD_REQUEST', `invalid ${where}: ${(error as Error).message.replace(/^batch spec: /, '')}`);
  }
}

/** Parses a batch spec; BAD_REQUEST with every issue and its path otherwise. */
export function parseBatchSpec(input: unknown): BatchSpec {
  const parsed = batchSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `batch spec: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    });
  }
  const spec = parsed.data;
  outputFormat(spec.output);
  if ('path' in spec.input) inputFormat(spec.input);
  return spec;
}

/** The format of the output file, by its extension. */
export function outputFormat(path: string): FileFormat {
  const format = FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new StratumError(
      'BAD_REQUEST',
      `batch spec: output "${path}": expected a .csv, .jsonl or .parquet file (the extension says the format)`,
      { details: { path: ['output'] } },
    );
  }
  return format;
}

/** The format of an input file: the one given, else by its extension. */
export function inputFormat(input: { readonly path: string; readonly format?: FileFormat | undefined }): FileFormat {
  const format = input.format ?? FORMAT_BY_EXTENSION[extname(input.path).toLowerCase()];
  if (format === undefined) {
    throw new StratumError(
      'BAD_REQUEST',
      `batch spec: input "${input.path}": cannot tell the format from the extension; give input.format (csv, jsonl or parquet)`,
      { details: { path: ['input', 'format'] } },
    );
  }
  return format;
}

/** Where the errors file of `spec` goes. */
export function errorsPath(spec: Pick<BatchSpec, 'output' | 'errors'>): string {
  return spec.errors ?? `${spec.output}.errors.jsonl`;
}

/** Where the chunks' part files and the plan live: beside the output. */
export function partsDir(spec: Pick<BatchSpec, 'output'>): string {
  return `${spec.output}.parts`;
}
