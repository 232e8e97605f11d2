/**
 * `stratum train <spec.yaml|json>`: runs a training spec in this process against the configured
 * metadata store and artifact folder (the embedded SQLite default, or a shared PostgreSQL), with a
 * progress line on stderr and a summary table on stdout (`--json`: the result as JSON). A running
 * server sharing the store sees the new run and version through its change feed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { runTraining, type TrainingEvent, type TrainingResult } from '../train/run/run-training.ts';
import { parseTrainSpec, type TrainSpec } from '../train/run/train-spec.ts';
import { baselineMeaning, metricWithBaseline, modelMetricKeys } from './baseline-text.ts';
import { createProgressLine, type ProgressLine } from './commands/progress-line.ts';
import { formatTable } from './commands/table.ts';
import { openTrainingStores } from './training-stores.ts';
import { type CliChange, recordCliChanges } from './cli-audit.ts';
import {
  exchangeSummary,
  openCollective,
  reapPeers,
  runPeerRank,
  spawnPeers,
  type Distribution,
} from './train-distributed.ts';
import type { SyncCollective } from '../train/parallel/sync-collective.ts';

/** Options of {@link trainFromFile}. */
export interface TrainFromFileOptions {
  readonly specPath: string;
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** Recorded as the author. @default 'cli' */
  readonly actor?: string;
  /** Print the result as JSON instead of a table. */
  readonly json?: boolean;
  /** Move the spec's alias even where its deployments' clients could not use the new version. */
  readonly force?: { readonly reason: string };
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  /** Train as one rank of several processes (`train-distributed.ts`). @default this process alone */
  readonly distribution?: Distribution;
}

/** Reads and validates a spec file (YAML or JSON), naming the file in every error. */
export async function readTrainSpec(path: string): Promise<TrainSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StratumError('NOT_FOUND', `${path}: cannot read the training spec (${(error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new StratumError('BAD_REQUEST', `${path}: not valid YAML or JSON: ${(error as Error).message}`);
  }
  return parseTrainSpec(raw, `training spec ${path}`);
}

/** The git commit of the folder, when it is in a repository. */
export async function gitCommit(folder: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', 'HEAD'], { cwd: folder, timeout: 5000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs the spec at `specPath` and prints the outcome; resolves with the exit code. */
export async function trainFromFile(options: TrainFromFileOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const specPath = resolve(options.specPath);
  const spec = await readTrainSpec(specPath);
  const { logger, distribution } = options;
  if (distribution !== undefined && spec.model.kind !== 'gbdt') {
    throw new StratumError(
      'BAD_REQUEST',
      `${specPath}: training across processes trains gbdt models, not ${spec.model.kind} (leave out --processes / --world-size)`,
    );
  }
  if (distribution !== undefined && distribution.rank > 0) {
    return runPeerRank({ spec, distribution, logger, json: options.json === true, stdout });
  }
  // Rank 0 of several processes: its peers start once Redis is known to answer, and read the data
  // while this one does.
  const collective = distribution === undefined ? undefined : await openCollective(distribution);
  const peers = distribution?.spawnPeers === true ? spawnPeers({ distribution, specPath }) : [];
  try {
    const code = await trainAndReport({ ...options, spec, stdout, stderr, collective });
    await collective?.close();
    const failed = (await reapPeers(peers)).findIndex((exit) => exit !== 0);
    if (failed >= 0) logger.warn({ rank: failed + 1 }, 'a rank exited with an error after training');
    return code;
  } catch (error) {
    await collective?.close(error);
    await reapPeers(peers);
    throw error;
  }
}

async function trainAndReport(
  options: TrainFromFileOptions & {
    spec: TrainSpec;
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    collective: SyncCollective | undefined;
  },
): Promise<number> {
  const { config, logger, spec, stdout, stderr, collective } = options;
  const stores = await openTrainingStores({ config, logger });
  try {
    const progress = createProgressLine(stderr);
    const codeVersion = await gitCommit(process.cwd());
    const result = await runTraining(spec, {
      store: stores.store,
      artifacts: stores.artifacts,
      registry: stores.registry,
      by: options.actor ?? 'cli',
      baseDir: process.cwd(),
      ...(codeVersion !== undefined && { codeVersion }),
      ...(options.force !== undefined && { force: options.force }),
      ...(collective !== undefined && { collective }),
      onEvent: progressReporter(progress, progressInterval(stderr)),
    }).finally(() => progress.done());
    await recordCliChanges(stores.store.audit, { changes: trainingChanges(result), logger });
    const exchange =
      collective === undefined
        ? undefined
        : exchangeSummary({ collective, rounds: Number(result.run.metrics.steps ?? 0) });
    stdout.write(
      options.json === true
        ? `${JSON.stringify({ ...(resultJson(result) as object), ...(exchange !== undefined && { distributed: exchange }) }, null, 2)}\n`
        : summary(result, exchange),
    );
    return 0;
  } finally {
    await stores.close();
  }
}

/** What a training run changed in the stores: its run, and the version it registered. */
function trainingChanges(result: TrainingResult): CliChange[] {
  const changes: CliChange[] = [{ action: 'run.create', resource: `runs/${result.run.id}`, after: result.run }];
  const version = result.version;
  if (version !== undefined) {
    changes.push({
      action: 'version.register',
      resource: `models/${version.model}/versions/${version.version}`,
      after: version,
    });
  }
  return changes;
}

/** A terminal redraws one line: 4 updates a second. A log keeps every line: one each 5 seconds. */
export function progressInterval(stream: NodeJS.WritableStream): number {
  return (stream as { isTTY?: boolean }).isTTY === true ? 250 : 5000;
}

function resultJson(result: TrainingResult): unknown {
  return {
    run: result.run,
    metrics: result.metrics,
    baseline: result.baseline,
    evaluation: result.evaluation,
    card: result.card,
    version: result.version,
  };
}

const BAR_WIDTH = 24;

/**
 * Turns run events into one progress line: rows read, then a bar over the training steps, at most
 * one line per `intervalMs` (a terminal rewrites the line in place; a log gets each one).
 */
export function progressReporter(progress: ProgressLine, intervalMs: number): (event: TrainingEvent) => void {
  const started = Date.now();
  let trainStarted = 0;
  let lastTrainLine = 0;
  let lastReadLine = 0;
  return (event) => {
    switch (event.phase) {
      case 'read': {
        const now = Date.now();
        if (now - lastReadLine < intervalMs) return;
        lastReadLine = now;
        progress.update(`reading data: ${event.rows.toLocaleString('en-US')} rows`);
        return;
      }
      case 'features':
        progress.update(
          `features: ${event.numFeatures} from ${event.trainRows.toLocaleString('en-US')} training rows (${event.validationRows.toLocaleString('en-US')} held out)`,
        );
        trainStarted = Date.now();
        return;
      case 'train': {
        const now = Date.now();
        if (event.step < event.total && now - lastTrainLine < intervalMs) return;
        lastTrainLine = now;
        const done = Math.round((event.step / event.total) * BAR_WIDTH);
        const elapsed = (Date.now() - trainStarted) / 1000;
        const eta = event.step === 0 ? 0 : (elapsed / event.step) * (event.total - event.step);
        const losses = `loss ${event.trainLoss.toFixed(4)}${event.validationLoss === undefined ? '' : `  val ${event.validationLoss.toFixed(4)}`}`;
        progress.update(
          `training [${'#'.repeat(done)}${'.'.repeat(BAR_WIDTH - done)}] ${event.step}/${event.total}  ${losses}  ${elapsed.toFixed(1)}s, eta ${eta.toFixed(1)}s`,
        );
        return;
      }
      case 'evaluate':
        progress.update('evaluating on the held-out split');
        return;
      case 'register':
        progress.update(
          `registered ${event.model} version ${event.version} (${((Date.now() - started) / 1000).toFixed(1)} s in all)`,
        );
        return;
      case 'run':
        return;
    }
  };
}

/**
 * The summary table of a finished run (inline, or a `train` job's, read back over the API), with
 * what a distributed run exchanged.
 */
export function summary(
  result: Pick<TrainingResult, 'run' | 'version'>,
  exchange?: ReturnType<typeof exchangeSummary>,
): string {
  const { run } = result;
  const rows: string[][] = [
    ['run', `${run.name} (${run.id})`],
    ['status', run.status],
    ['dataset version', run.datasetVersion ?? ''],
    ['duration', `${(((run.finishedAt ?? run.startedAt) - run.startedAt) / 1000).toFixed(1)} s`],
    ...modelMetricKeys(run.metrics).map((key) => [key, metricWithBaseline({ metrics: run.metrics, key, digits: 4 })]),
  ];
  const meaning = baselineMeaning(run.metrics);
  if (meaning !== undefined) rows.push(['baseline', `${meaning}, on the same held-out rows`]);
  if (exchange !== undefined) {
    rows.push([
      'processes',
      `${exchange.worldSize} (group ${exchange.group}), ${(exchange.bytesPerRound / 1024).toFixed(1)} KiB exchanged per round`,
    ]);
  }
  if (result.version !== undefined)
    rows.push(['registered', `${result.version.model} version ${result.version.version}`]);
  return formatTable({ columns: ['field', 'value'], rows });
}
