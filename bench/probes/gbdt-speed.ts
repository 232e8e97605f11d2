/**
 * A quick GBDT timing probe: the training bench's synthetic binary task (rows × 20, the first 80 %
 * for training) or, with `flights`, its flights task (the first `rows` flights, the bench's random
 * 80/20 split), 100 trees of depth 6, on 1 and 2 workers, with the held-out AUC and the process's
 * CPU seconds; for CPU profiles (`node --cpu-prof`) and before/after checks without the peers.
 * `node --import tsx bench/probes/gbdt-speed.ts [flights] [rows] [workers…]`
 */
import process from 'node:process';
import { predictGbdt } from '../../src/train/gbdt/predict.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import { rocAuc } from '../../src/train/metrics/classification-metrics.ts';
import { flightsTask, syntheticRows, type Matrix, type Task } from '../training/training-bench.ts';

const args = process.argv.slice(2);
const flights = args[0] === 'flights';
if (flights) args.shift();
const rows = Number(args[0] ?? 200_000);
const workerCounts = args.length > 1 ? args.slice(1).map(Number) : [1, 2];
const quiet = { log: () => {}, elapsed: () => 0 };
const { numFeatures, train, valid } = flights ? await flightsTask(rows, quiet) : firstRowsTask(rows);

for (const workers of workerCounts) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const model = trainGbdt({
    features: train.features,
    numFeatures,
    labels: train.labels,
    objective: 'binary',
    params: { numTrees: 100, maxDepth: 6, learningRate: 0.1, lambda: 1, minChildWeight: 1, maxBins: 255, workers },
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU seconds of the whole process (every thread): steadier than wall time on a shared machine.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const outputs = predictGbdt(model, valid.features).outputs;
  const scores = Float32Array.from({ length: valid.labels.length }, (_, i) => outputs[2 * i + 1] as number);
  const auc = rocAuc(scores, valid.labels);
  console.log(
    `workers ${workers}: ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU, AUC ${auc.toFixed(4)}`,
  );
}

/** The synthetic rows, the first 80 % for training (as this probe always did). */
function firstRowsTask(rows: number): Task {
  const numFeatures = 20;
  const { features, labels } = syntheticRows(rows, numFeatures);
  const trainRows = Math.floor(rows * 0.8);
  const matrix = (from: number, to: number): Matrix => ({
    features: features.subarray(from * numFeatures, to * numFeatures),
    labels: labels.subarray(from, to),
    rows: to - from,
  });
  return { numFeatures, train: matrix(0, trainRows), valid: matrix(trainRows, rows) };
}
