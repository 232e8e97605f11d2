/**
 * Planning a batch: the input split into chunks by row index ranges, and the model fixed to one
 * version, written once to `<output>.parts/plan.json`. The plan is the batch's identity across
 * restarts and workers: a resumed batch or a chunk job on another worker reads it and never
 * re-derives the ranges. A plan made for another spec or another input file (a different
 * fingerprint) is discarded with its parts.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsvParser } from '../../data/csv-parser.ts';
import { StratumError } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import { type BatchSpec, inputFormat, partsDir } from './batch-spec.ts';
import { type PlannedModel, resolveModel } from './batch-model.ts';
import { describeParquet, snapshotSql } from './duckdb-input.ts';
import { type ScanResult, scanCsv, scanJsonl } from './text-scan.ts';

/** Where the rows come from, with the column names in their order. */
export interface PlannedSource {
  readonly kind: 'csv' | 'jsonl' | 'parquet';
  readonly path: string;
  readonly columns: readonly string[];
}

/** One chunk: a range of rows, and for text files where it starts and ends in the file. */
export interface PlannedChunk {
  readonly index: number;
  readonly firstRow: number;
  readonly rows: number;
  /** Text files: byte range `[offset, end)` and the line at `offset`. */
  readonly offset?: number;
  readonly end?: number;
  readonly line?: number;
}

/** The plan file's content. */
export interface BatchPlan {
  readonly format: 1;
  readonly fingerprint: string;
  readonly source: PlannedSource;
  readonly rows: number;
  readonly chunks: readonly PlannedChunk[];
  readonly model: PlannedModel;
  readonly modelLabel: string;
}

/** The plan's file name inside the parts folder. */
export const PLAN_FILE = 'plan.json';

/** Options of {@link planBatch}. */
export interface PlanBatchOptions {
  readonly spec: BatchSpec;
  readonly registry?: Registry | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The batch's plan: the one on disk when it fits the spec and input, else a new one. */
export async function planBatch(options: PlanBatchOptions): Promise<{ plan: BatchPlan; resumed: boolean }> {
  const { spec } = options;
  const dir = partsDir(spec);
  const fingerprint = await fingerprintOf(spec);
  const existing = await readPlan(dir);
  if (existing?.fingerprint === fingerprint) return { plan: existing, resumed: true };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const model = await resolveModel({ ref: spec.model, registry: options.registry });
  const { source, rows, chunks } = await planSource({ spec, dir, signal: options.signal });
  const plan: BatchPlan = {
    format: 1,
    fingerprint,
    source,
    rows,
    chunks,
    model: model.planned,
    modelLabel: model.label,
  };
  const temporary = join(dir, `${PLAN_FILE}.tmp`);
  await writeFile(temporary, JSON.stringify(plan));
  await rename(temporary, join(dir, PLAN_FILE));
  return { plan, resumed: false };
}

/** The plan in `dir`, or undefined when there is none (or it is unreadable: it is then redone). */
export async function readPlan(dir: string): Promise<BatchPlan | undefined> {
  try {
    const plan = JSON.parse(await readFile(join(dir, PLAN_FILE), 'utf8')) as BatchPlan;
    return plan.format === 1 ? plan : undefined;
  } catch {
    return undefined;
  }
}

/** The spec's fields that shape the parts, and the input file's size and time. */
async function fingerprintOf(spec: BatchSpec): Promise<string> {
  // Where skipped rows are reported does not shape the parts; everything else does.
  const shaping = { ...spec, errors: undefined };
  let file: { size: number; mtimeMs: number } | undefined;
  if ('path' in spec.input) {
    try {
      const info = await stat(spec.input.path);
      file = { size: info.size, mtimeMs: info.mtimeMs };
    } catch (error) {
      throw new StratumError('NOT_FOUND', `${spec.input.path}: no such file`, {
        cause: error,
        details: { file: spec.input.path },
      });
    }
  }
  return createHash('sha256').update(JSON.stringify({ shaping, file })).digest('hex');
}

async function planSource(options: {
  spec: BatchSpec;
  dir: string;
  signal?: AbortSignal | undefined;
}): Promise<{ source: PlannedSource; rows: number; chunks: PlannedChunk[] }> {
  const { spec, dir, signal } = options;
  const { chunkRows } = spec;
  if ('sql' in spec.input) {
    const path = join(dir, 'input.parquet');
    await snapshotSql({ sql: spec.input.sql, target: path });
    return planParquet(path, chunkRows);
  }
  const path = spec.input.path;
  const format = inputFormat(spec.input);
  if (format === 'parquet') return planParquet(path, chunkRows);
  if (format === 'csv') {
    const scan = await scanCsv({ path, chunkRows, signal });
    const columns = await readCsvHeader(path, scan.headerEnd.offset);
    return { source: { kind: 'csv', path, columns }, rows: scan.records, chunks: textChunks(scan, chunkRows) };
  }
  const scan = await scanJsonl({ path, chunkRows, signal });
  const first = scan.starts[0];
  const columns = first === undefined ? [] : await readJsonlKeys(path, first.offset);
  return { source: { kind: 'jsonl', path, columns }, rows: scan.records, chunks: textChunks(scan, chunkRows) };
}

async function planParquet(
  path: string,
  chunkRows: number,
): Promise<{ source: PlannedSource; rows: number; chunks: PlannedChunk[] }> {
  const { rows, columns } = await describeParquet(path);
  const chunks: PlannedChunk[] = [];
  for (let firstRow = 0, index = 0; firstRow < rows; firstRow += chunkRows, index++) {
    chunks.push({ index, firstRow, rows: Math.min(chunkRows, rows - firstRow) });
  }
  return { source: { kind: 'parquet', path, columns }, rows, chunks };
}

function textChunks(scan: ScanResult, chunkRows: number): PlannedChunk[] {
  return scan.starts.map((start, index) => {
    const next = scan.starts[index + 1];
    const firstRow = index * chunkRows;
    return {
      index,
      firstRow,
      rows: Math.min(chunkRows, scan.records - firstRow),
      offset: start.offset,
      end: next === undefined ? scan.bytes : next.offset,
      line: start.line,
    };
  });
}

async function readHead(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function readCsvHeader(path: string, headerEnd: number): Promise<string[]> {
  let text = await readHead(path, headerEnd);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const parser = new CsvParser({ label: path });
  const header = [...parser.push(text), ...parser.end()][0] ?? [];
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new StratumError('BAD_REQUEST', `${path}: the header names column "${name}" twice`);
    seen.add(name);
  }
  return header;
}

/** The keys of the first object, in order: the columns a wide model input takes by default. */
async function readJsonlKeys(path: string, offset: number): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const line = text.split('\n')[0] ?? '';
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? Object.keys(parsed) : [];
  } catch {
    // A bad first line is reported as a bad row when its chunk runs; columns then come from the mapping.
    return [];
  } finally {
    await handle.close();
  }
}
