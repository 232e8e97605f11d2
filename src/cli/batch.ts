/**
 * `stratum batch` in this process: batch inference over a file or a DuckDB query with the runtime
 * pool, a progress bar on a terminal (progress lines elsewhere), and a summary or JSON at the end.
 * The registry is opened only when the model names one. Ctrl-C stops at once and keeps the
 * finished chunks, so running the same command again resumes; the output is never half-written.
 */
import type { Config } from '../config/index.ts';
import { type BatchProgress, type BatchResult, runBatch } from '../jobs/batch/run-batch.ts';
import { parseModelRef } from '../jobs/batch/batch-model.ts';
import type { Logger } from '../logging/logger.ts';
import { createRuntimePool } from '../runtime/runtime-pool.ts';
import { createProgressLine } from './commands/progress-line.ts';
import { progressInterval } from './train.ts';
import { openTrainingStores, type TrainingStores } from './training-stores.ts';

/** Options of {@link batchFromFlags}. */
export interface BatchCommandOptions {
  /** The batch spec as the flags give it (checked by `runBatch`). */
  readonly spec: Record<string, unknown> & { readonly model: string };
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly json?: boolean;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
}

const BAR_WIDTH = 24;

/** Runs the batch; resolves with the exit code (130 after Ctrl-C). */
export async function batchFromFlags(options: BatchCommandOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const { config, logger } = options;
  let stores: TrainingStores | undefined;
  if (parseModelRef(options.spec.model).kind === 'registry') stores = await openTrainingStores({ config, logger });
  const runtime = createRuntimePool({ workers: config.runtime.workers, logger });
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  const progress = createProgressLine(stderr);
  try {
    const result = await runBatch({
      spec: options.spec,
      runtime,
      ...(stores !== undefined && { registry: stores.registry }),
      signal: interrupt.signal,
      onAbort: 'keep',
      onProgress: batchProgressReporter((line, key) => progress.update(line, key), progressInterval(stderr)),
    }).finally(() => progress.done());
    stdout.write(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : batchSummary(result));
    return 0;
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
    stderr.write('interrupted: the finished chunks are kept; run the same command again to resume\n');
    return 130;
  } finally {
    process.removeListener('SIGINT', onSignal);
    await runtime.close();
    await stores?.close();
  }
}

/** Progress as a bar over the rows, at most one line per `intervalMs` (and at the end). */
export function batchProgressReporter(
  update: (line: string, key: string) => void,
  intervalMs: number,
): (progress: BatchProgress) => void {
  const started = Date.now();
  let last = 0;
  return (p) => {
    const now = Date.now();
    const finished = p.chunksDone === p.chunks;
    if (!finished && now - last < intervalMs) return;
    last = now;
    const fraction = p.rows === 0 ? 1 : p.rowsDone / p.rows;
    const done = Math.round(fraction * BAR_WIDTH);
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? Math.round(p.rowsDone / seconds) : 0;
    const line =
      `batch [${'#'.repeat(done)}${'.'.repeat(BAR_WIDTH - done)}] ${p.rowsDone.toLocaleString('en-US')}/${p.rows.toLocaleString('en-US')} rows, ` +
      `chunk ${p.chunksDone}/${p.chunks}, ${rate.toLocaleString('en-US')} rows/s`;
    update(line, `${p.chunksDone}/${p.chunks}`);
  };
}

/** What a finished batch did, in a line or two. */
export function batchSummary(result: BatchResult): string {
  const lines = [
    `wrote ${result.output}: ${result.written.toLocaleString('en-US')} rows from ${result.model}` +
      ` (${result.chunks} chunks${result.resumedChunks > 0 ? `, ${result.resumedChunks} resumed` : ''})`,
  ];
  if (result.errors !== undefined) {
    lines.push(`skipped ${result.badRows.toLocaleString('en-US')} bad rows, listed in ${result.errors}`);
  }
  return `${lines.join('\n')}\n`;
}
