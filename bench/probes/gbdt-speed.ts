/**
 * A quick GBDT timing probe: the training bench's synthetic binary task (rows × 20), 100 trees of
 * depth 6, on 1 and 2 workers, with the held-out AUC; for CPU profiles (`node --cpu-prof`) and
 * before/after checks without the peers. `node --import tsx bench/probes/gbdt-speed.ts [rows] [workers…]`
 */
import process from 'node:process';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { predictGbdt } from '../../src/train/gbdt/predict.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import { rocAuc } from '../../src/train/metrics/classification-metrics.ts';

const rows = Number(process.argv[2] ?? 200_000);
const workerCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 2];
const numFeatures = 20;
const random = mulberry32(42);
const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
const features = new Float32Array(rows * numFeatures);
const labels = new Float32Array(rows);
for (let r = 0; r < rows; r++) {
  const x = features.subarray(r * numFeatures, (r + 1) * numFeatures);
  for (let f = 0; f < numFeatures; f++) x[f] = normal();
  const z =
    (x[0] as number) +
    0.8 * (x[1] as number) * (x[2] as number) -
    0.6 * Math.abs(x[3] as number) +
    0.5 * Math.sin(2 * (x[4] as number)) +
    0.4 * ((x[5] as number) > 0.5 ? 1 : -1) * (x[6] as number) +
    0.7 * normal();
  labels[r] = z > 0 ? 1 : 0;
}
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
