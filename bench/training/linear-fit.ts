/**
 * One Stratum logistic-regression fit in a process of its own, the Node twin of `peers.py`'s
 * scikit-learn job: reads the float32 matrices the bench wrote, fits with the given threads, writes
 * P(class 1) for the validation rows and prints one JSON line `{ seconds, cpuSeconds, ... }`. Only
 * `trainLinear` is timed; loading the modules and the data, and predicting, are not (scikit-learn's
 * timer likewise covers `fit` alone). It runs the compiled package (`dist/`) when the bench asks,
 * as users run it: then the worker thread starts without registering tsx.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { predictLinear as PredictLinearFn } from '../../src/train/linear/predict-linear.ts';
import type { trainLinear as TrainLinearFn } from '../../src/train/linear/train-linear.ts';

const job = z
  .object({
    trainFeatures: z.string(),
    trainLabels: z.string(),
    validFeatures: z.string(),
    predictions: z.string(),
    numFeatures: z.number().int().positive(),
    workers: z.number().int().positive(),
    build: z.enum(['dist', 'src']),
    params: z.record(z.string(), z.unknown()),
  })
  .parse(JSON.parse(process.argv[2] ?? '{}'));

const root = new URL(job.build === 'dist' ? '../../dist/' : '../../src/', import.meta.url);
const ext = job.build === 'dist' ? 'js' : 'ts';
type TrainLinear = typeof TrainLinearFn;
type PredictLinear = typeof PredictLinearFn;
const { trainLinear } = (await import(new URL(`train/linear/train-linear.${ext}`, root).href)) as {
  trainLinear: TrainLinear;
};
const { predictLinear } = (await import(new URL(`train/linear/predict-linear.${ext}`, root).href)) as {
  predictLinear: PredictLinear;
};

const floats = (path: string): Float32Array => {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
const features = floats(job.trainFeatures);
const labels = floats(job.trainLabels);
const valid = floats(job.validFeatures);

(globalThis as { gc?: () => void }).gc?.();
const cpu = process.cpuUsage();
const started = performance.now();
const model = trainLinear({
  features,
  numFeatures: job.numFeatures,
  labels,
  objective: 'binary',
  params: { ...(job.params as Parameters<TrainLinear>[0]['params']), workers: job.workers },
});
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
const probabilities = predictLinear(model, { features: valid }).values;
const positive = new Float32Array(probabilities.length / 2);
for (let i = 0; i < positive.length; i++) positive[i] = probabilities[2 * i + 1] as number;
writeFileSync(job.predictions, positive);
console.log(
  JSON.stringify({
    seconds,
    // Every thread of the process, as `time.process_time()` counts scikit-learn's.
    cpuSeconds: (used.user + used.system) / 1e6,
    iterations: model.history.length,
    build: job.build,
  }),
);
