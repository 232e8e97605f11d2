/**
 * `stratum evaluate` in this process: resolves the version in the configured registry, scores it
 * with a runtime pool of one thread (`evaluateVersion`, as the `evaluate` job does), optionally
 * records the run, and prints the metrics (or the whole result as JSON).
 */
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import { parseModelRef } from '../jobs/batch/batch-model.ts';
import { type EvaluatePayload, evaluateVersion } from '../jobs/evaluate/evaluate-version.ts';
import { recordEvaluation } from '../jobs/evaluate/record-evaluation.ts';
import type { Logger } from '../logging/logger.ts';
import { createRuntimePool } from '../runtime/runtime-pool.ts';
import { formatTable } from './commands/table.ts';
import { openTrainingStores } from './training-stores.ts';

/** Options of {@link evaluateFromFlags}. */
export interface EvaluateCommandOptions {
  /** `name`, `name:3` or `name@alias`. */
  readonly model: string;
  /** The labelled data, as a training spec's `data` says it (checked here). */
  readonly data: Record<string, unknown>;
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly record: boolean;
  readonly json: boolean;
  readonly by: string;
  readonly stdout: NodeJS.WritableStream;
}

/** Evaluates; resolves with the exit code. */
export async function evaluateFromFlags(options: EvaluateCommandOptions): Promise<number> {
  const { config, logger } = options;
  const ref = parseModelRef(options.model);
  if (ref.kind === 'file') {
    throw new StratumError(
      'BAD_REQUEST',
      `model "${options.model}": evaluate scores a registered version (name, name:VERSION or name@ALIAS), not a file`,
    );
  }
  const { EvaluatePayloadSchema } = await import('../jobs/job-kinds.ts');
  const parsed = EvaluatePayloadSchema.safeParse({
    model: ref.model,
    ...(ref.version !== undefined && { version: ref.version }),
    ...(ref.alias !== undefined && { alias: ref.alias }),
    data: options.data,
    baseDir: process.cwd(),
  });
  if (!parsed.success) {
    const { formatIssues } = await import('../errors/format-issues.ts');
    throw new StratumError('BAD_REQUEST', `invalid evaluation: ${formatIssues(parsed.error)}`);
  }
  const payload: EvaluatePayload = parsed.data;
  const stores = await openTrainingStores({ config, logger });
  const runtime = createRuntimePool({ workers: 1, logger });
  try {
    const result = await evaluateVersion({ registry: stores.registry, runtime, payload });
    const runId = options.record
      ? await recordEvaluation({ ...stores, payload, result, by: options.by, logger })
      : undefined;
    if (options.json) {
      options.stdout.write(`${JSON.stringify({ ...result, ...(runId !== undefined && { runId }) }, null, 2)}\n`);
      return 0;
    }
    const rows = Object.entries(result.metrics).map(([metric, value]) => [metric, value.toFixed(5)]);
    const unscored =
      result.unscored.rows > 0 ? ` (${result.unscored.rows} not scored: ${result.unscored.first ?? ''})` : '';
    options.stdout.write(
      `${result.model}:${result.version} on ${result.data.source}: ${result.data.scored} rows scored${unscored}\n` +
        formatTable({ columns: ['metric', 'value'], rows, alignRight: ['value'] }) +
        (runId === undefined ? '' : `recorded as run ${runId}\n`),
    );
    return 0;
  } finally {
    await runtime.close();
    await stores.close();
  }
}
