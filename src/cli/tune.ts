/**
 * `stratum tune <spec.yaml|json>`: runs a tuning experiment — in this process against the
 * configured stores (the embedded default, no server needed), or with `--queue` as a `tune` job
 * whose trials any `stratum worker` takes — with a live trial table on stderr and the best trial on
 * stdout (`--json`: the experiment and its trials as JSON).
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { runExperiment, type ExperimentResult } from '../jobs/tune/run-experiment.ts';
import { inProcessLauncher, jobFinished } from '../jobs/tune/trial-launchers.ts';
import type { TunePayload } from '../jobs/tune/tune-payloads.ts';
import { readTuneSpec, type TuneSpec } from '../jobs/tune/tune-spec.ts';
import type { Logger } from '../logging/logger.ts';
import { openJobQueue } from '../queue/open-job-queue.ts';
import type { TrialRecord } from '../store/metadata-store.ts';
import { formatTable } from './commands/table.ts';
import { createTrialTable, formatPoint, type TrialTable } from './commands/trial-table.ts';
import { gitCommit } from './train.ts';
import { openTrainingStores, type TrainingStores } from './training-stores.ts';

/** Options of {@link tuneFromFile}. */
export interface TuneFromFileOptions {
  readonly specPath: string;
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** Recorded as the author. @default 'cli' */
  readonly actor?: string;
  readonly json?: boolean;
  /** Submit a `tune` job instead of running the trials here. */
  readonly queue?: boolean;
  /** Overrides the spec's maxConcurrentTrials. */
  readonly concurrency?: number;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
}

/** Runs the experiment of the spec at `specPath` and prints the outcome; resolves with the exit code. */
export async function tuneFromFile(options: TuneFromFileOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const read = await readTuneSpec(resolve(options.specPath));
  const spec: TuneSpec =
    options.concurrency === undefined ? read : { ...read, maxConcurrentTrials: options.concurrency };
  const stores = await openTrainingStores({ config: options.config, logger: options.logger });
  try {
    const table = createTrialTable(stderr, spec.metric);
    const result = await (options.queue === true
      ? tuneOnQueue({ ...options, spec, stores, table, stderr })
      : tuneHere({ ...options, spec, stores, table }));
    table.done();
    stdout.write(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : summary(result, spec));
    return result.experiment.status === 'succeeded' ? 0 : 1;
  } finally {
    await stores.close();
  }
}

async function tuneHere(
  args: TuneFromFileOptions & { spec: TuneSpec; stores: TrainingStores; table: TrialTable },
): Promise<ExperimentResult> {
  const { spec, stores, table } = args;
  const id = randomUUID();
  const by = args.actor ?? 'cli';
  const codeVersion = await gitCommit(process.cwd());
  return runExperiment({
    id,
    spec,
    store: stores.store,
    artifacts: stores.artifacts,
    registry: stores.registry,
    by,
    launcher: inProcessLauncher({
      experimentId: id,
      context: {
        store: stores.store,
        artifacts: stores.artifacts,
        by,
        baseDir: process.cwd(),
        ...(codeVersion !== undefined && { codeVersion }),
      },
      onEvent: (number, event) => {
        if (event.phase === 'train') table.step(number, event.step);
      },
    }),
    onTrials: (trials) => table.trials(trials),
  });
}

async function tuneOnQueue(
  args: TuneFromFileOptions & {
    spec: TuneSpec;
    stores: TrainingStores;
    table: TrialTable;
    stderr: NodeJS.WritableStream;
  },
): Promise<ExperimentResult> {
  const { spec, stores, table, config } = args;
  const queue = await openJobQueue({ queueUrl: config.queueUrl, databaseUrl: config.databaseUrl, logger: args.logger });
  try {
    const payload: TunePayload = { spec: spec as unknown as Record<string, unknown>, baseDir: process.cwd() };
    const job = await queue.submit({ kind: 'tune', payload, by: args.actor ?? 'cli', attempts: 3 });
    args.stderr.write(`submitted tune job ${job.id}; trials run on the workers of ${config.queueUrl}\n`);
    const unsubscribe = queue.onEvent((event) => {
      if (event.type !== 'progress' || event.jobId !== job.id) return;
      const data = event.progress.data as { trials?: TrialRecord[] } | undefined;
      if (data?.trials !== undefined) {
        table.trials(data.trials.map((t) => ({ ...t, experiment: job.id, createdAt: 0 }) as TrialRecord));
      }
    });
    try {
      await jobFinished(queue, job.id);
    } finally {
      unsubscribe();
    }
    const experiment = await stores.store.getExperiment(job.id);
    const trials = await stores.store.listTrials(job.id);
    table.trials(trials);
    return { experiment, trials };
  } finally {
    await queue.close();
  }
}

function summary(result: ExperimentResult, spec: TuneSpec): string {
  const { experiment, trials } = result;
  const best = trials.find((t) => t.number === experiment.bestTrial);
  const counts = ['completed', 'stopped', 'failed', 'running']
    .map((status) => [status, trials.filter((t) => t.status === status).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  const rows: string[][] = [
    ['experiment', `${experiment.name} (${experiment.id})`],
    ['status', experiment.status + (experiment.error === undefined ? '' : `: ${experiment.error}`)],
    ['trials', counts],
    ['searcher', spec.searcher.type + (spec.scheduler === undefined ? '' : ' + ASHA')],
  ];
  if (best !== undefined) {
    rows.push(['best trial', `${best.number}: ${formatPoint(best.params)}`]);
    rows.push([spec.metric, String(best.value)]);
    rows.push(['best run', best.runId ?? '']);
  }
  if (experiment.registered !== undefined) {
    rows.push(['registered', `${experiment.registered.model} version ${experiment.registered.version}`]);
  }
  return formatTable({ columns: ['field', 'value'], rows });
}
