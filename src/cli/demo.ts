/**
 * `stratum demo`: the README's main job on the embedded default (SQLite and an artifact folder
 * under `.stratum/`). Trains the bundled examples with tracked runs and serves them:
 *  1. spam filter — 6,046 real e-mails → hashed TF-IDF → logistic regression, registered and
 *     deployed behind `production`, answering raw e-mail text over REST and gRPC; then a GBDT on
 *     the same features, switched in blue-green while requests keep flowing;
 *  2. flight delays — flights from vega-datasets' flights-3m.parquet → date parts, airports,
 *     distance → GBDT, registered, deployed, answering raw flight rows.
 * Serves until Ctrl-C unless `--once`. Running it again trains new runs and versions.
 */
import * as grpc from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadInferenceProto } from '../api/grpc/inference-proto.ts';
import type { Config } from '../config/index.ts';
import { writeSpamCorpus } from '../examples/spam-corpus.ts';
import type { Logger } from '../logging/logger.ts';
import { startServer } from '../server/stratum-server.ts';
import { runTraining, type TrainingResult } from '../train/run/run-training.ts';
import type { TrainSpec } from '../train/run/train-spec.ts';
import { createApiClient, type ApiClient } from '../client/api-client.ts';
import { baselineMeaning, metricWithBaseline } from './baseline-text.ts';
import { createProgressLine } from './commands/progress-line.ts';
import { EXAMPLES_DIR as EXAMPLES, exampleTrainCommand, VEGA_IN_SPECS, vegaDatasetsDir } from './example-command.ts';
import { waitForSignal } from './serve.ts';
import { gitCommit, progressInterval, progressReporter, readTrainSpec } from './train.ts';
import { openTrainingStores } from './training-stores.ts';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** Exit after the self-check instead of serving until a signal. */
  readonly once: boolean;
  /** Smaller runs (50,000 flights, 20 trees) for a smoke test; the story is the same. */
  readonly quick?: boolean;
  /** Where the report goes. @default process.stdout */
  readonly out?: NodeJS.WritableStream;
  /** Where progress goes. @default process.stderr */
  readonly err?: NodeJS.WritableStream;
}

/** Where the spam example's spec reads the corpus (relative to the working directory). */
const SPAM_DATA = '.stratum/data/spam-assassin.jsonl';

const SPAMMY = `From: "Best Offers" <deals@cheap-meds.biz>
Subject: URGENT: you have WON a $1,000,000 prize!!!

Dear friend, click here now to claim your FREE money. Limited time offer, act now!
Remove me from this list: http://cheap-meds.biz/remove`;

const HAMMY = `From: Alice <alice@example.org>
Subject: Re: notes from Tuesday's meeting

Hi Bob, thanks for the notes. I pushed the fix for the build script; can you review the patch
before Thursday? The test suite passes on my machine.`;

/** Runs the demo; resolves with the exit code. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const say = (line = ''): void => void out.write(`${line}\n`);
  // The demo serves only the registry: a --models folder would shadow nothing and confuse the story.
  const config = Object.fromEntries(
    Object.entries({ ...options.config, registry: true }).filter(([key]) => key !== 'modelsDir'),
  ) as unknown as Config;
  say(`▸ starting Stratum (metadata ${config.databaseUrl}, artifacts ${config.artifactsUrl})`);
  const server = await startServer({ config, logger: options.logger });
  // The demo trains as `stratum train` does, on the stores the server serves from.
  const stores = await openTrainingStores({ config, logger: options.logger }).catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  try {
    const api = createApiClient({ baseUrl: server.httpUrl, actor: 'demo' });
    const codeVersion = await gitCommit(process.cwd());
    const train = async (spec: string): Promise<TrainingResult> => {
      const parsed = shrink(withBundledData(await readTrainSpec(join(EXAMPLES, spec))), options.quick === true);
      const progress = createProgressLine(err);
      try {
        return await runTraining(parsed, {
          store: stores.store,
          artifacts: stores.artifacts,
          registry: stores.registry,
          by: 'demo',
          baseDir: process.cwd(),
          ...(codeVersion !== undefined && { codeVersion }),
          onEvent: progressReporter(progress, progressInterval(err)),
        });
      } finally {
        progress.done();
      }
    };

    say('▸ spam filter: the SpamAssassin corpus (6,046 real e-mails) → hashed TF-IDF → logistic regression');
    if (!existsSync(SPAM_DATA)) say(`  wrote ${await writeSpamCorpus(SPAM_DATA)} e-mails to ${SPAM_DATA}`);
    const logistic = await train('spam/logistic.yaml');
    sayRun(say, logistic);
    say(`    (baseline: ${baselineMeaning(logistic.run.metrics) ?? 'none recorded'})`);
    await ensureDeployment(api, 'spam-filter');
    await api.waitConverged('spam-filter');
    const spam = await askSpam(server.httpUrl, SPAMMY);
    const ham = await askSpam(server.httpUrl, HAMMY);
    say(`  REST  P(spam) of a prize-winning e-mail: ${spam.probability.toFixed(3)} (version ${spam.version})`);
    say(`  REST  P(spam) of a colleague's e-mail:   ${ham.probability.toFixed(3)}`);
    const viaGrpc = await askSpamOverGrpc(`${options.config.host}:${server.grpcPort}`, SPAMMY);
    say(`  gRPC  P(spam) of the prize e-mail:       ${viaGrpc.toFixed(3)}`);

    say('▸ a GBDT on the same features, switched in blue-green while requests keep flowing');
    const gbdt = await train('spam/gbdt.yaml');
    sayRun(say, gbdt);
    const traffic = keepAsking(server.httpUrl, HAMMY);
    const from = (await api.getAlias('spam-filter', 'production')).version;
    const to = gbdt.version?.version as number;
    await api.setAlias({
      model: 'spam-filter',
      alias: 'production',
      version: to,
      reason: 'demo: blue-green to the GBDT',
    });
    await api.waitConverged('spam-filter');
    const after = await askSpam(server.httpUrl, SPAMMY);
    const { sent, failed } = await traffic.stop();
    say(
      `  alias production: v${from} → v${to}; now served by version ${after.version}, P(spam) ${after.probability.toFixed(3)}`,
    );
    say(`  requests during the switch: ${sent} sent, ${failed} failed`);

    say(
      `▸ flight delays: ${options.quick === true ? '50,000' : '500,000'} flights of flights-3m.parquet (DuckDB) → date parts, airports, distance → GBDT`,
    );
    const flights = await train('flights/gbdt-sample.yaml');
    sayRun(say, flights);
    await ensureDeployment(api, 'flight-delays');
    await api.waitConverged('flight-delays');
    const evening = await askFlight(server.httpUrl, {
      date: Date.UTC(2001, 11, 21, 18, 30),
      distance: 733,
      origin: 'ORD',
      destination: 'LGA',
    });
    const morning = await askFlight(server.httpUrl, {
      date: Date.UTC(2001, 9, 9, 7, 0),
      distance: 236,
      origin: 'SEA',
      destination: 'PDX',
    });
    say(`  P(late > 15 min), ORD→LGA on a Friday before Christmas, 18:30: ${evening.toFixed(3)}`);
    say(`  P(late > 15 min), SEA→PDX on an October Tuesday, 07:00:      ${morning.toFixed(3)}`);
    // Class weights trade calibration for recall: the served probabilities are the weighted model's.
    say('  (late flights weigh more in training, so these lean high; above 0.5 the model answers "late")');

    say('');
    if (options.once) {
      // The server stops with this process: commands aimed at it would only fail.
      say('Done (--once): the server stops now. `npx stratum demo` keeps it serving and prints commands to try.');
      return failed === 0 ? 0 : 1;
    }
    say('Try it yourself:');
    say(
      `  curl -s -X POST ${server.httpUrl}/v2/models/spam-filter/infer -H 'content-type: application/json' \\\n` +
        `       -d '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1,1],"data":["WIN a FREE prize, click now"]}]}'`,
    );
    say('  npx stratum runs list                      # the tracked runs (stratum --help: every command)');
    say(`  ${server.httpUrl}/docs in a browser: the API reference`);
    say(`  curl -s ${server.httpUrl}/api/v1/models/spam-filter/versions/${to}/profile`);
    say(`  curl -s ${server.httpUrl}/api/v1/runs/${flights.run.id}/metrics?key=validation_loss`);
    // A path and a folder that exist from here, in a checkout or an installed package alike.
    say(`  ${exampleTrainCommand({ spec: join(EXAMPLES, 'flights/gbdt.yaml') })}    # all 3,000,000 flights`);
    say('');
    say('Serving until Ctrl-C.');
    return await waitForSignal(server, options.logger);
  } finally {
    await stores.close();
    await server.close();
  }
}

/** In quick mode: at most 50,000 rows and 20 trees. */
/**
 * Points an example's query at the `vega-datasets` package Stratum itself resolves, so the demo
 * runs from any working directory (an installed package's dependencies need not sit under it).
 */
function withBundledData(spec: TrainSpec): TrainSpec {
  const source = spec.data.source;
  if (source.format !== 'sql' || !source.query.includes(VEGA_IN_SPECS)) return spec;
  const vega = vegaDatasetsDir();
  const query = source.query.replaceAll(VEGA_IN_SPECS, `${vega.replaceAll("'", "''")}/`);
  return { ...spec, data: { ...spec.data, source: { ...source, query } } };
}

function shrink(spec: TrainSpec, quick: boolean): TrainSpec {
  if (!quick) return spec;
  const data = { ...spec.data, limit: Math.min(spec.data.limit ?? Infinity, 50_000) };
  if (spec.model.kind !== 'gbdt') return { ...spec, data };
  return { ...spec, data, model: { ...spec.model, params: { ...spec.model.params, numTrees: 20 } } };
}

/** The metrics the demo prints for a classifier, each next to the baseline's value. */
const DEMO_METRICS = [
  ['accuracy', 'accuracy'],
  ['balanced_accuracy', 'balanced accuracy'],
  ['f1_macro', 'macro F1'],
  ['roc_auc', 'ROC-AUC'],
] as const;

function sayRun(say: (line: string) => void, result: TrainingResult): void {
  const { run } = result;
  const seconds = ((run.finishedAt ?? run.startedAt) - run.startedAt) / 1000;
  say(
    `  run ${run.id.slice(0, 8)}, ${seconds.toFixed(1)} s` +
      (result.version === undefined ? '' : ` → ${result.version.model} version ${result.version.version}`),
  );
  const scores = DEMO_METRICS.filter(([key]) => key in run.metrics).map(
    ([key, label]) => `${label} ${metricWithBaseline({ metrics: run.metrics, key, digits: 3 })}`,
  );
  say(`    held out: ${scores.join(', ')}`);
}

/** Routes the deployment through `production` (created by the run's `register.alias`). */
async function ensureDeployment(api: ApiClient, name: string): Promise<void> {
  const deployments = await api.listDeployments({ model: name });
  if (deployments.items.some((d) => d.name === name)) return;
  await api.createDeployment({ name, routes: [{ alias: 'production', weight: 100 }] });
}

async function infer(
  url: string,
  model: string,
  inputs: unknown[],
): Promise<{ status: number; version: string; probability: number }> {
  const response = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs, outputs: [{ name: 'probabilities' }] }),
  });
  const json = (await response.json()) as { model_version?: string; outputs?: { data: number[] }[]; error?: string };
  if (response.status !== 200) throw new Error(`${model}: ${response.status} ${json.error ?? ''}`);
  return { status: response.status, version: json.model_version ?? '', probability: json.outputs?.[0]?.data[1] ?? NaN };
}

function askSpam(url: string, text: string): Promise<{ status: number; version: string; probability: number }> {
  return infer(url, 'spam-filter', [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: [text] }]);
}

async function askFlight(
  url: string,
  flight: { date: number; distance: number; origin: string; destination: string },
): Promise<number> {
  const result = await infer(url, 'flight-delays', [
    { name: 'date', datatype: 'FP64', shape: [1, 1], data: [flight.date] },
    { name: 'distance', datatype: 'FP32', shape: [1, 1], data: [flight.distance] },
    { name: 'origin', datatype: 'BYTES', shape: [1, 1], data: [flight.origin] },
    { name: 'destination', datatype: 'BYTES', shape: [1, 1], data: [flight.destination] },
  ]);
  return result.probability;
}

/** Sends requests back to back (4 at a time) until stopped; counts failures. */
function keepAsking(url: string, text: string): { stop(): Promise<{ sent: number; failed: number }> } {
  let running = true;
  let sent = 0;
  let failed = 0;
  const loops = Array.from({ length: 4 }, async () => {
    while (running) {
      sent++;
      const result = await askSpam(url, text).catch(() => ({ status: 0 }));
      if (result.status !== 200) failed++;
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { sent, failed };
    },
  };
}

function askSpamOverGrpc(address: string, text: string): Promise<number> {
  const proto = loadInferenceProto();
  const Client = (proto['inference'] as grpc.GrpcObject)['GRPCInferenceService'] as grpc.ServiceClientConstructor;
  const client = new Client(address, grpc.credentials.createInsecure());
  return new Promise<number>((resolvePromise, reject) => {
    (client['ModelInfer'] as grpc.requestCallback<unknown> & ((...args: unknown[]) => void))(
      {
        model_name: 'spam-filter',
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], contents: { bytes_contents: [Buffer.from(text)] } }],
        outputs: [{ name: 'probabilities' }],
      },
      (
        error: grpc.ServiceError | null,
        response: { raw_output_contents?: Buffer[]; outputs: { contents?: { fp32_contents: number[] } }[] },
      ) => {
        client.close();
        if (error) return reject(error);
        const raw = response.raw_output_contents?.[0];
        if (raw !== undefined && raw.length >= 8) return resolvePromise(raw.readFloatLE(4));
        resolvePromise(response.outputs[0]?.contents?.fp32_contents[1] ?? NaN);
      },
    );
  });
}
