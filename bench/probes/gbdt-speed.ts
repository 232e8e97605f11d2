/**
 * A quick GBDT timing probe: the training bench's synthetic binary task (rows × 20), 100 trees of
 * depth 6, on 1 and 2 workers, with the held-out AUC; for CPU profiles (`node --cpu-prof`) and
 * before/after checks without the peers. `node --import tsx bench/probes/gbdt-speed.ts [rows] [workers…]`
 */
import process from 'node:process';
import { predictGbdt } from '../../src/train/gbdt/predict.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import { rocAuc } from '../../src/train/metrics/classification-metrics.ts';
import { syntheticRows } from '../training/training-bench.ts';

const rows = Number(process.argv[2] ?? 200_000);
const workerCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 2];
const numFeatures = 20;
const { features, labels } = syntheticRows(rows, numFeatures);
const trainRows = Math.floor(rows * 0.8);
const train = features.subarray(0, trainRows * numFeatures);
const valid = features.subarray(trainRows * numFeatures);
for (const workers of workerCounts) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const model = trainGbdt({
    features: train,
    numFeatures,
    labels: labels.subarray(0, trainRows),
    objective: 'binary',
    params: { numTrees: 100, maxDepth: 6, learningRate: 0.1, lambda: 1, minChildWeight: 1, maxBins: 255, workers },
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU seconds of the whole process (every thread): steadier than wall time on a shared machine.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const outputs = predictGbdt(model, valid).outputs;
  const scores = Float32Array.from({ length: rows - trainRows }, (_, i) => outputs[2 * i + 1] as number);
  const auc = rocAuc(scores, labels.subarray(trainRows));
  console.log(
    `workers ${workers}: ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU, AUC ${auc.toFixed(4)}`,
  );
}
