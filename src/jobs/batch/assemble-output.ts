/**
 * The last step of a batch: the parts, in chunk order, into the output file through a temporary
 * file and an atomic rename (so the output never exists half-written), the chunks' bad rows into
 * the errors file the same way, then the parts folder removed. CSV and JSON Lines parts are
 * concatenated; a Parquet output is written by DuckDB from the CSV parts with the columns' types.
 */
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { BatchPlan } from './batch-plan.ts';
import { type BatchSpec, errorsPath, outputFormat, partsDir } from './batch-spec.ts';
import { duckDbError, withDuckDb } from './duckdb-input.ts';
import type { OutputColumn } from './output-columns.ts';
import { csvHeader } from './row-format.ts';
import { errorsPartPath, partPath } from './run-chunk.ts';

/** Options of {@link assembleOutput}. */
export interface AssembleOptions {
  readonly spec: BatchSpec;
  readonly plan: BatchPlan;
  readonly columns: readonly OutputColumn[];
}

/** Writes the output (and the errors file when bad rows are skipped), then removes the parts. */
export async function assembleOutput(options: AssembleOptions): Promise<void> {
  const { spec, plan, columns } = options;
  const parts = plan.chunks.map((chunk) => partPath({ spec, index: chunk.index }));
  const temporary = `${spec.output}.tmp`;
  try {
    const format = outputFormat(spec.output);
    if (format === 'parquet') await writeParquet({ parts, columns, target: temporary });
    else
      await concatenate({
        files: parts,
        target: temporary,
        head: format === 'csv' ? csvHeader(columns.map((c) => c.name)) : '',
      });
    if (spec.onBadRow === 'skip') await writeErrors(spec, plan);
    await rename(temporary, spec.output);
  } finally {
    await rm(temporary, { force: true });
  }
  await rm(partsDir(spec), { recursive: true, force: true });
}

async function writeErrors(spec: BatchSpec, plan: BatchPlan): Promise<void> {
  const files: string[] = [];
  for (const chunk of plan.chunks) {
    const path = errorsPartPath({ spec, index: chunk.index });
    if (await exists(path)) files.push(path);
  }
  const target = errorsPath(spec);
  const temporary = `${target}.tmp`;
  try {
    await concatenate({ files, target: temporary, head: '' });
    await rename(temporary, target);
  } finally {
    await rm(temporary, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function concatenate(options: { files: readonly string[]; target: string; head: string }): Promise<void> {
  const out = await open(options.target, 'w');
  try {
    if (options.head !== '') await out.write(options.head);
    for (const file of options.files) {
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) await out.write(chunk as Buffer);
    }
    await out.sync();
  } finally {
    await out.close();
  }
}

async function writeParquet(options: {
  parts: readonly string[];
  columns: readonly OutputColumn[];
  target: string;
}): Promise<void> {
  const files: string[] = [];
  for (const part of options.parts) if ((await stat(part)).size > 0) files.push(part);
  const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;
  const types = options.columns.map((c) => `${quote(c.name)}: ${quote(c.kind)}`).join(', ');
  const names = options.columns.map((c) => `"${c.name.replaceAll('"', '""')}"`).join(', ');
  // DuckDB keeps the files' order and each file's row order (preserve_insertion_order).
  const select =
    files.length === 0
      ? `select ${options.columns.map((c) => `cast(null as ${c.kind}) as "${c.name.replaceAll('"', '""')}"`).join(', ')} where false`
      : `select ${names} from read_csv([${files.map(quote).join(', ')}], header = false, auto_detect = false, columns = {${types}}, quote = '"', escape = '"', delim = ',')`;
  await withDuckDb(async (connection) => {
    try {
      await connection.run(`copy (${select}) to ${quote(options.target)} (format parquet)`);
    } catch (error) {
      throw duckDbError(options.target, error);
    }
  });
}
