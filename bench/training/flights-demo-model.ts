/**
 * How good is the demo's flight-delay model, and what makes it better? Trains variants of
 * `examples/flights/gbdt-sample.yaml` (the spec `stratum demo` trains) as tracked runs on a
 * temporary SQLite store, exactly as the demo does (same data, same seeded split), and prints each
 * one's held-out metrics next to the majority-class baseline's, with the training time.
 *
 *   node --import tsx bench/training/flights-demo-model.ts [--only a,b] [--rows 50000]
 *
 * `--rows` caps the rows read, as `stratum demo --quick` does (50,000). Run from the repository
 * root (the spec reads node_modules/vega-datasets).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readTrainSpec } from '../../src/cli/train.ts';
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { runTraining, type TrainingResult } from '../../src/train/run/run-training.ts';
import type { TrainSpec } from '../../src/train/run/train-spec.ts';

type Transforms = TrainSpec['features']['transforms'];
type GbdtModel = Extract<TrainSpec['model'], { kind: 'gbdt' }>;

/** The demo spec's features until this benchmark's work. */
const BEFORE_FEATURES: Transforms = [
  {
    column: 'date',
    transform: 'dateparts',
    parts: ['month', 'dayofweek', 'hour', 'dayofyear'],
    encoding: 'ordinal',
    missing: 'error',
  },
  { column: 'distance', transform: 'standardize', missing: 'error' },
  { column: 'origin', transform: 'onehot', topK: 30, minCount: 1 },
  { column: 'destination', transform: 'onehot', topK: 30, minCount: 1 },
];

/** Every airport of the data (≈ 300 origins) one-hot, and the minute of the departure. */
const WIDE_FEATURES: Transforms = [
  {
    column: 'date',
    transform: 'dateparts',
    parts: ['month', 'dayofweek', 'hour', 'minute', 'dayofyear'],
    encoding: 'ordinal',
    missing: 'error',
  },
  { column: 'distance', transform: 'standardize', missing: 'error' },
  { column: 'origin', transform: 'onehot', topK: 400, minCount: 20 },
  { column: 'destination', transform: 'onehot', topK: 400, minCount: 20 },
];

/** The features before, plus the departure time itself as a number. */
const TIME_FEATURES: Transforms = [
  ...BEFORE_FEATURES,
  { column: 'date', name: 'time', transform: 'standardize', missing: 'error' },
];

/** The calendar date as month and day of month (each fits the bins exactly, unlike day of year). */
const DAY_FEATURES: Transforms = [
  {
    column: 'date',
    transform: 'dateparts',
    parts: ['month', 'day', 'dayofweek', 'hour', 'dayofyear'],
    encoding: 'ordinal',
    missing: 'error',
  },
  ...BEFORE_FEATURES.slice(1),
];

interface Variant {
  readonly name: string;
  readonly what: string;
  /**
   * GBDT parameters over the spec's without its class weights (the spec's workers and seed stay);
   * `undefined`: the spec as committed.
   */
  readonly params: Partial<GbdtModel['params']> | undefined;
  /** The features: the spec's, the ones before this benchmark's work, or the wide set. */
  readonly features?: Transforms;
}

const FEATURE_SETS: Record<string, Transforms> = {
  before: BEFORE_FEATURES,
  wide: WIDE_FEATURES,
  time: TIME_FEATURES,
  day: DAY_FEATURES,
};

const BEFORE = { numTrees: 100, maxDepth: 6, learningRate: 0.1 } as const;
const DEEPER = { numTrees: 100, maxDepth: 10, learningRate: 0.3 } as const;

const VARIANTS: readonly Variant[] = [
  { name: 'before', what: 'the spec before: 100 trees, depth 6, η 0.1', params: BEFORE, features: BEFORE_FEATURES },
  ...(
    [
      ['before+2', [1, 2], '[1, 2]'],
      ['before+3', [1, 3], '[1, 3]'],
      ['before+balanced', 'balanced', "'balanced'"],
    ] as const
  ).map(([name, classWeight, written]) => ({
    name,
    what: `before, classWeight ${written}`,
    params: { ...BEFORE, classWeight: typeof classWeight === 'string' ? classWeight : [...classWeight] },
    features: BEFORE_FEATURES,
  })),
  {
    name: 'wide',
    what: 'before, [1, 2], every airport one-hot (≥ 20 flights), minute of departure',
    params: { ...BEFORE, classWeight: [1, 2] },
    features: WIDE_FEATURES,
  },
  {
    name: 'day',
    what: 'before, [1, 2], day of month beside day of year',
    params: { ...BEFORE, classWeight: [1, 2] },
    features: DAY_FEATURES,
  },
  {
    name: 'time',
    what: 'before, [1, 2], the departure time as a number',
    params: { ...BEFORE, classWeight: [1, 2] },
    features: TIME_FEATURES,
  },
  { name: 'deeper', what: 'depth 10, η 0.3, no class weights', params: DEEPER, features: BEFORE_FEATURES },
  {
    name: 'deeper+2.5',
    what: 'depth 10, η 0.3, classWeight [1, 2.5]',
    params: { ...DEEPER, classWeight: [1, 2.5] },
    features: BEFORE_FEATURES,
  },
  {
    name: 'deeper+balanced',
    what: "depth 10, η 0.3, classWeight 'balanced'",
    params: { ...DEEPER, classWeight: 'balanced' },
    features: BEFORE_FEATURES,
  },
  { name: 'spec', what: 'as committed: depth 10, η 0.3, classWeight [1, 2]', params: undefined },
];

/** The columns printed, each with the baseline's value beside the model's. */
const METRICS = [
  ['accuracy', 'accuracy'],
  ['balanced_accuracy', 'balanced acc.'],
  ['recall_macro', 'macro recall'],
  ['f1_macro', 'macro F1'],
  ['roc_auc', 'ROC-AUC'],
  ['log_loss', 'log-loss'],
] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      rows: { type: 'string' },
      params: { type: 'string' },
      features: { type: 'string' },
    },
  });
  const only = values.only?.split(',');
  // --params '{"maxDepth":8}' adds a variant with these parameters (and --features before|wide|day|time).
  const custom: Variant[] =
    values.params === undefined
      ? []
      : [
          {
            name: 'custom',
            what: `${values.params} ${values.features ?? ''}`,
            params: JSON.parse(values.params) as Variant['params'],
            ...(values.features !== undefined && { features: FEATURE_SETS[values.features] }),
          },
        ];
  const variants = [...VARIANTS, ...custom].filter(
    (v) => only === undefined || only.includes(v.name) || v.name === 'custom',
  );
  const base = await readTrainSpec('examples/flights/gbdt-sample.yaml');
  if (base.model.kind !== 'gbdt') throw new Error('the flights example is expected to be a GBDT');
  const rows = values.rows === undefined ? undefined : Number(values.rows);
  const folder = await mkdtemp(join(tmpdir(), 'stratum-flights-bench-'));
  const store = await openMetadataStore({ url: `sqlite:${join(folder, 'stratum.db')}` });
  const artifacts = await openArtifactStore({ url: `file:${join(folder, 'artifacts')}` });
  const lines: string[] = [];
  try {
    for (const variant of variants) {
      const unregistered: TrainSpec = {
        ...base,
        model: { ...base.model, params: variantParams(base.model.params, variant.params) },
        features: { ...base.features, transforms: variant.features ?? base.features.transforms },
      };
      // Only the run is wanted: nothing is registered.
      delete unregistered.register;
      const spec: TrainSpec =
        rows === undefined ? unregistered : { ...unregistered, data: { ...unregistered.data, limit: rows } };
      let trainStart = 0;
      let trainSeconds = 0;
      let cpuStart = process.cpuUsage();
      let cpuSeconds = 0;
      let numFeatures = 0;
      const result = await runTraining(spec, {
        store,
        artifacts,
        by: 'bench',
        baseDir: process.cwd(),
        onEvent: (event) => {
          if (event.phase === 'features') {
            numFeatures = event.numFeatures;
            trainStart = performance.now();
            cpuStart = process.cpuUsage();
          }
          if (event.phase === 'evaluate') {
            trainSeconds = (performance.now() - trainStart) / 1000;
            const cpu = process.cpuUsage(cpuStart);
            cpuSeconds = (cpu.user + cpu.system) / 1e6;
          }
        },
      });
      const line = row({ variant, result, trainSeconds, cpuSeconds, numFeatures });
      lines.push(line);
      process.stderr.write(`${line}\n`);
    }
  } finally {
    await store.close();
    await rm(folder, { recursive: true, force: true });
  }
  const header = ['variant', 'what', 'features', ...METRICS.map(([, label]) => label), 'training s', 'CPU s'];
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|\n${lines.join('\n')}\n`);
}

function variantParams(spec: GbdtModel['params'], params: Variant['params']): GbdtModel['params'] {
  if (params === undefined) return spec;
  const unweighted = { ...spec };
  delete unweighted.classWeight;
  return { ...unweighted, ...params };
}

function row(args: {
  variant: Variant;
  result: TrainingResult;
  trainSeconds: number;
  cpuSeconds: number;
  numFeatures: number;
}): string {
  const { variant, result, trainSeconds, cpuSeconds, numFeatures } = args;
  const cells = METRICS.map(([key]) => {
    const model = result.metrics[key] ?? NaN;
    const baseline = result.baseline[key] ?? NaN;
    return `${model.toFixed(3)} (${baseline.toFixed(3)})`;
  });
  return `| ${variant.name} | ${variant.what} | ${numFeatures} | ${cells.join(' | ')} | ${trainSeconds.toFixed(1)} | ${cpuSeconds.toFixed(1)} |`;
}

await main();
