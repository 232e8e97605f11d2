/**
 * Runs one chunk: reads its rows, runs the model on them batch by batch (the next batch is read
 * and converted while the previous one runs), and writes the part file through a temporary file
 * and a rename — the checkpoint: a chunk is done exactly when its part file exists, so a crash
 * leaves either a whole part or none. Bad rows go to the chunk's errors part (renamed into place
 * before the part itself) or fail the chunk, as the spec says.
 */
import { randomUUID } from 'node:crypto';
import { access, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StratumError } from '../../errors/index.ts';
import type { BatchPlan, PlannedChunk } from './batch-plan.ts';
import type { BatchSession } from './batch-session.ts';
import { type BatchSpec, outputFormat, partsDir } from './batch-spec.ts';
import { type BadRow, readChunk, type RowBatch } from './chunk-reader.ts';
import { buildFeeds } from './model-feeds.ts';
import { partFormat, rowFormatter } from './row-format.ts';

/** The part file of chunk `index`. */
export function partPath(options: { spec: Pick<BatchSpec, 'output'>; index: number }): string {
  return join(partsDir(options.spec), `part-${String(options.index).padStart(6, '0')}.${partExtension(options.spec)}`);
}

/** The errors part of chunk `index` (JSON Lines, present only when the chunk had bad rows). */
export function errorsPartPath(options: { spec: Pick<BatchSpec, 'output'>; index: number }): string {
  return join(partsDir(options.spec), `errors-${String(options.index).padStart(6, '0')}.jsonl`);
}

function partExtension(spec: Pick<BatchSpec, 'output'>): string {
  return partFormat(outputFormat(spec.output));
}

/** Whether the chunk's part file exists (the chunk is done). */
export async function isChunkDone(options: { spec: Pick<BatchSpec, 'output'>; index: number }): Promise<boolean> {
  try {
    await access(partPath(options));
    return true;
  } catch {
    return false;
  }
}

/** What running a chunk did. */
export interface ChunkResult {
  readonly index: number;
  /** Rows written to the part. */
  readonly rows: number;
  readonly badRows: number;
  /** The part existed already: nothing ran. */
  readonly skipped: boolean;
}

/** Options of {@link runChunk}. */
export interface RunChunkOptions {
  readonly spec: BatchSpec;
  readonly plan: BatchPlan;
  readonly chunk: PlannedChunk;
  readonly session: BatchSession;
  readonly signal?: AbortSignal | undefined;
  /** Called after each batch with the rows it consumed (good and bad). */
  readonly onRows?: (rows: number) => void;
}

/** Runs the chunk unless its part exists. */
export async function runChunk(options: RunChunkOptions): Promise<ChunkResult> {
  const { spec, plan, chunk, session, signal } = options;
  const target = { spec, index: chunk.index };
  if (await isChunkDone(target)) return { index: chunk.index, rows: chunk.rows, badRows: 0, skipped: true };
  const final = partPath(target);
  // Unique per attempt: a stalled worker still writing cannot collide with the one that took over.
  const temporary = `${final}.${randomUUID().slice(0, 8)}.tmp`;
  const errorsFinal = errorsPartPath(target);
  const errorsTemporary = `${errorsFinal}.${randomUUID().slice(0, 8)}.tmp`;
  const format = rowFormatter(
    partFormat(outputFormat(spec.output)),
    session.outputs.columns.map((c) => c.name),
  );
  const file = await open(temporary, 'w');
  const bad: BadRow[] = [];
  let rows = 0;
  try {
    const processBatch = async (batch: RowBatch): Promise<string> => {
      const built = buildFeeds(session.feeds, batch.records);
      for (const [r, reason] of built.rejected) {
        bad.push({ row: batch.rows[r] as number, line: batch.lines[r] as number, reason });
      }
      bad.push(...batch.bad);
      if (spec.onBadRow === 'fail' && bad.length > 0) throw badRowError(plan, bad);
      if (built.kept.length === 0) return '';
      const outputs = await session.run(built.tensors);
      let text = '';
      const values: unknown[] = [];
      const { passThrough } = session.feeds;
      for (let k = 0; k < built.kept.length; k++) {
        const record = batch.records[built.kept[k] as number] as unknown[];
        values.length = 0;
        for (let p = 0; p < passThrough; p++) values.push(record[p]);
        session.outputs.valuesOf(outputs, k, values);
        text += format(values);
      }
      rows += built.kept.length;
      return text;
    };
    let pending: { promise: Promise<string>; size: number } | undefined;
    const flush = async (): Promise<void> => {
      if (pending === undefined) return;
      const text = await pending.promise;
      if (text !== '') await file.write(text);
      options.onRows?.(pending.size);
      pending = undefined;
    };
    for await (const batch of readChunk({
      source: plan.source,
      chunk,
      columns: session.feeds.columns,
      batchRows: spec.batchRows,
      signal,
    })) {
      signal?.throwIfAborted();
      const promise = processBatch(batch);
      // Awaited below; without this a failure while the previous batch is written would be unhandled.
      promise.catch(() => undefined);
      await flush();
      pending = { promise, size: batch.records.length + batch.bad.length };
    }
    await flush();
    signal?.throwIfAborted();
    await file.sync();
    await file.close();
    if (bad.length > 0) {
      await writeFile(errorsTemporary, bad.map((b) => errorLine(plan, b)).join(''));
      await rename(errorsTemporary, errorsFinal);
    }
    await rename(temporary, final);
    return { index: chunk.index, rows, badRows: bad.length, skipped: false };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    await rm(errorsTemporary, { force: true });
    throw signal?.aborted === true ? (signal.reason ?? error) : error;
  }
}

/** Where a row is, for messages: `input.csv: line 12` or `input.parquet: row 12`. */
function whereOf(plan: BatchPlan, row: BadRow): string {
  return row.line !== undefined && row.line > 0
    ? `${plan.source.path}: line ${row.line}`
    : `${plan.source.path}: row ${row.row + 1}`;
}

function badRowError(plan: BatchPlan, rows: readonly BadRow[]): StratumError {
  const first = [...rows].sort((a, b) => a.row - b.row)[0] as BadRow;
  return new StratumError('BAD_REQUEST', `${whereOf(plan, first)}: ${first.reason} (onBadRow: fail)`, {
    details: {
      file: plan.source.path,
      ...(first.line !== undefined && first.line > 0 && { line: first.line }),
      row: first.row + 1,
      reason: first.reason,
    },
  });
}

function errorLine(plan: BatchPlan, row: BadRow): string {
  return `${JSON.stringify({
    file: plan.source.path,
    ...(row.line !== undefined && row.line > 0 && { line: row.line }),
    row: row.row + 1,
    reason: row.reason,
  })}\n`;
}
