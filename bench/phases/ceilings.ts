/**
 * Compute ceilings: per model, one compute-ceiling child with the server's layout (as many threads
 * as workers, the same intra-op threads) measures a grid of batch sizes up to the largest mean
 * batch Stratum formed, plus batch 1 on one thread alone for the added-latency figure. A cell's
 * ceiling is read at its exact (fractional) mean batch by interpolating between grid points, which
 * is steadier than timing every odd batch size once.
 */
import { join } from 'node:path';
import type { CeilingEntry, CellResult } from '../bench-results.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import { waitForQuiet } from '../process/proc-stats.ts';
import type { Progress } from '../progress.ts';
import type { CeilingResult } from '../references/compute-ceiling.ts';
import type { StratumSettings } from '../stratum/stratum-process.ts';
import { type BenchModel, inputOf } from '../workload.ts';

/** Batch sizes measured (those above the largest mean batch seen, bar the next one, are skipped). */
export const CEILING_GRID = Object.freeze([1, 2, 4, 8, 16, 32, 64]);

/** The batch size a cell's ceiling is read at: its mean batch (1 when no batch ran). */
export function ceilingBatch(cell: CellResult): number {
  const mean = cell.batch?.meanBatch;
  return mean === undefined || !Number.isFinite(mean) ? 1 : Math.max(1, mean);
}

/**
 * The ceiling of `model` at `batch` rows, linearly interpolated between the measured grid points
 * (clamped to the grid's ends); undefined when the model has no measurement.
 */
export function ceilingAt(ceilings: readonly CeilingEntry[], model: BenchModel, batch: number): number | undefined {
  const points = ceilings.filter((e) => e.model === model).sort((a, b) => a.batch - b.batch);
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined) return undefined;
  if (batch <= first.batch) return first.rowsPerSecond;
  if (batch >= last.batch) return last.rowsPerSecond;
  for (let i = 1; i < points.length; i++) {
    const lo = points[i - 1] as CeilingEntry;
    const hi = points[i] as CeilingEntry;
    if (batch <= hi.batch)
      return lo.rowsPerSecond + ((batch - lo.batch) / (hi.batch - lo.batch)) * (hi.rowsPerSecond - lo.rowsPerSecond);
  }
  return last.rowsPerSecond;
}

/** Options of {@link measureCeilings}. */
export interface MeasureCeilingsOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly repoDir: string;
  readonly models: readonly BenchModel[];
  /** Stratum's cells (their batch sizes). */
  readonly cells: readonly CellResult[];
  readonly settings: StratumSettings;
  /** Per measurement (each point is the better of two). */
  readonly durationMs: number;
}

/** Measures the ceilings. */
export async function measureCeilings(
  options: MeasureCeilingsOptions,
): Promise<{ ceilings: CeilingEntry[]; batch1LatencyMs: Partial<Record<BenchModel, number>> }> {
  const ceilings: CeilingEntry[] = [];
  const batch1LatencyMs: Partial<Record<BenchModel, number>> = {};
  for (const model of options.models) {
    const largest = Math.max(
      1,
      ...options.cells.filter((c) => c.target === 'stratum' && c.model === model).map(ceilingBatch),
    );
    const cutoff = CEILING_GRID.find((b) => b >= largest) ?? (CEILING_GRID[CEILING_GRID.length - 1] as number);
    const batches = CEILING_GRID.filter((b) => b <= cutoff);
    options.progress.log(
      `compute ceiling: ${model} at batch ${batches.join(', ')} on ${options.settings.workers} thread(s)`,
    );
    await waitForQuiet({ limitPercent: 20, maxWaitMs: 15_000 });
    const result = await options.group.runJson<CeilingResult>(
      'bench/references/compute-ceiling.ts',
      [
        '--model',
        join(options.repoDir, model, '1', 'model.onnx'),
        '--input-shape',
        inputOf(model).shape.slice(1).join(','),
        '--batches',
        batches.join(','),
        '--threads',
        String(options.settings.workers),
        '--intra-op-threads',
        String(options.settings.intraOpThreads),
        '--duration-ms',
        String(options.durationMs),
        '--single-batch1',
      ],
      { timeoutMs: 120_000 + batches.length * 2 * (options.durationMs + 1000) },
    );
    for (const p of result.points)
      ceilings.push({ model, batch: p.batch, rowsPerSecond: p.rowsPerSecond, meanRunMs: p.meanRunMs });
    if (result.single !== undefined) batch1LatencyMs[model] = result.single.meanRunMs;
    options.progress.log(
      `compute ceiling: ${model}: ${result.points.map((p) => `b${p.batch} ${Math.round(p.rowsPerSecond)} rows/s`).join(', ')}; ` +
        `batch-1 run ${result.single?.meanRunMs.toFixed(3) ?? '?'} ms`,
    );
  }
  return { ceilings, batch1LatencyMs };
}
