/**
 * Histogram-based gradient boosting (binary logloss, softmax multiclass, squared-error
 * regression) in the XGBoost style: second-order gradients, depth-wise trees on quantile bins,
 * shrinkage, L2 leaf penalty, min child weight, row and column subsampling and early stopping on a
 * validation set. Single-threaded and deterministic for a seed.
 */
import { StratumError } from '../../errors/index.ts';
import { seededRandom, type SeededRandom } from '../../onnx/fixtures/seeded-random.ts';
import { applyBins, checkFeatures, computeBinEdges, MAX_BINS } from './binning.ts';
import type { GbdtModel, GbdtObjective, GbdtTree } from './gbdt-model.ts';
import { growTree } from './grow-tree.ts';

/** A held-out set for early stopping. */
export interface GbdtValidationSet {
  /** Row-major `M × numFeatures` matrix. */
  readonly features: Float32Array;
  /** One label per row, encoded like the training labels. */
  readonly labels: Float32Array;
}

/** Boosting hyper-parameters; every field has a default. */
export interface GbdtParams {
  /** Boosting rounds (trees per output). @default 100 */
  readonly numTrees?: number;
  /** Shrinkage applied to each tree, > 0. @default 0.1 */
  readonly learningRate?: number;
  /** Largest tree depth, >= 1. @default 6 */
  readonly maxDepth?: number;
  /**
   * Largest number of leaves per tree, >= 2. Trees grow best-first (largest gain first), so a
   * leaf budget below `2 ** maxDepth` keeps the most useful splits, as LightGBM's `num_leaves`.
   * @default 2 ** maxDepth
   */
  readonly maxLeaves?: number;
  /** Smallest hessian sum a child may have, >= 0. @default 1 */
  readonly minChildWeight?: number;
  /** L2 penalty on leaf values, >= 0. @default 1 */
  readonly lambda?: number;
  /** Fraction of rows sampled per round, in (0, 1]. @default 1 */
  readonly rowSubsample?: number;
  /** Fraction of features sampled per tree, in (0, 1]. @default 1 */
  readonly colSubsample?: number;
  /** Seed of the subsampling generator. @default 0 */
  readonly seed?: number;
  /** Bins per feature, 2 to 255. @default 255 */
  readonly maxBins?: number;
  /** Stop when the validation loss has not improved for this many rounds (needs `validation`). @default never */
  readonly earlyStoppingRounds?: number;
  /** Validation set whose loss is tracked each round. @default none */
  readonly validation?: GbdtValidationSet;
}

/** Progress after one boosting round. */
export interface GbdtProgress {
  /** 1-based round just finished. */
  readonly round: number;
  /** Rounds requested. */
  readonly numTrees: number;
  /** Training loss (MSE, logloss or multiclass logloss). */
  readonly trainLoss: number;
  /** Validation loss, when a validation set was given. */
  readonly validationLoss?: number;
}

/** Options for {@link trainGbdt}. */
export interface TrainGbdtOptions {
  /** Row-major `N × numFeatures` matrix; NaN is rejected. */
  readonly features: Float32Array;
  /** Columns per row. */
  readonly numFeatures: number;
  /** One label per row: 0/1 for binary, 0..K-1 for multiclass, any finite number for regression. */
  readonly labels: Float32Array;
  /** Loss to minimise. */
  readonly objective: GbdtObjective;
  /** Classes for multiclass (>= 2); must be omitted or 2 for binary. */
  readonly numClasses?: number;
  /** Hyper-parameters. @default all defaults */
  readonly params?: GbdtParams;
  /** Called after every round. @default none */
  readonly onProgress?: (progress: GbdtProgress) => void;
}

type ResolvedParams = Required<Omit<GbdtParams, 'validation' | 'earlyStoppingRounds'>> & {
  readonly earlyStoppingRounds: number | undefined;
  readonly validation: GbdtValidationSet | undefined;
};

/**
 * Trains a gradient-boosted tree ensemble.
 *
 * @throws StratumError BAD_REQUEST naming the offending option or row.
 * @example
 * ```ts
 * const model = trainGbdt({ features, numFeatures: 20, labels, objective: 'binary', params: { numTrees: 100, seed: 7 } })
 * const onnx = exportGbdtOnnx(model, { inputName: 'x' })
 * ```
 */
export function trainGbdt(options: TrainGbdtOptions): GbdtModel {
  const { features, numFeatures, labels, objective } = options;
  const params = resolveParams(options.params ?? {});
  checkFeatures({ features, numFeatures, name: 'features' });
  const numRows = features.length / numFeatures;
  const numClasses = resolveNumClasses(options);
  checkLabels({ labels, numRows, objective, numClasses, name: 'labels' });
  const validation = params.validation;
  if (validation !== undefined) {
    checkFeatures({ features: validation.features, numFeatures, name: 'validation.features' });
    const validationRows = validation.features.length / numFeatures;
    checkLabels({
      labels: validation.labels,
      numRows: validationRows,
      objective,
      numClasses,
      name: 'validation.labels',
    });
  } else if (params.earlyStoppingRounds !== undefined) {
    throw new StratumError('BAD_REQUEST', 'earlyStoppingRounds needs params.validation (a held-out set)');
  }

  const numOutputs = objective === 'multiclass' ? numClasses : 1;
  const edges = computeBinEdges({ features, numFeatures, maxBins: params.maxBins });
  const bins = applyBins({ features, numFeatures, edges });
  const baseScore = initialScore({ labels, objective, numOutputs });
  const scores = filledScores(numRows, baseScore);
  const validationBins = validation && applyBins({ features: validation.features, numFeatures, edges });
  const validationScores = validation && filledScores(validation.labels.length, baseScore);

  const random = seededRandom(params.seed);
  const gradients = new Float64Array(numRows);
  const hessians = new Float64Array(numRows);
  const trees: GbdtTree[][] = [];
  const validationLoss: number[] = [];
  let bestRound = -1;
  let bestLoss = Infinity;
  let roundsTrained = 0;
  for (let round = 0; round < params.numTrees; round++) {
    const sampledRows = sampleRows({ random, numRows, fraction: params.rowSubsample });
    const roundTrees: GbdtTree[] = [];
    const roundBins: number[][] = [];
    const probabilities = objective === 'multiclass' ? softmaxRows({ scores, numOutputs }) : scores;
    for (let k = 0; k < numOutputs; k++) {
      computeGradients({ objective, scores: probabilities, labels, numOutputs, output: k, gradients, hessians });
      const grown = growTree({
        bins,
        numFeatures,
        edges,
        gradients,
        hessians,
        rows: sampledRows.slice(),
        features: sampleFeatures({ random, numFeatures, fraction: params.colSubsample }),
        maxDepth: params.maxDepth,
        maxLeaves: params.maxLeaves,
        minChildWeight: params.minChildWeight,
        lambda: params.lambda,
        learningRate: params.learningRate,
      });
      roundTrees.push(grown.tree);
      roundBins.push(grown.binThreshold);
    }
    // Scores are updated after all K trees so every class of a round sees the same softmax.
    for (let k = 0; k < numOutputs; k++) {
      const tree = roundTrees[k] as GbdtTree;
      const binThreshold = roundBins[k] as number[];
      addTree({ tree, binThreshold, bins, numFeatures, scores, numOutputs, output: k });
      if (validationBins !== undefined && validationScores !== undefined) {
        addTree({
          tree,
          binThreshold,
          bins: validationBins,
          numFeatures,
          scores: validationScores,
          numOutputs,
          output: k,
        });
      }
    }
    trees.push(roundTrees);
    roundsTrained = round + 1;
    const trainLoss = lossOf({ objective, scores, labels, numOutputs });
    let roundValidationLoss: number | undefined;
    if (validation !== undefined && validationScores !== undefined) {
      roundValidationLoss = lossOf({ objective, scores: validationScores, labels: validation.labels, numOutputs });
      validationLoss.push(roundValidationLoss);
    }
    options.onProgress?.({
      round: round + 1,
      numTrees: params.numTrees,
      trainLoss,
      ...(roundValidationLoss === undefined ? {} : { validationLoss: roundValidationLoss }),
    });
    if (roundValidationLoss !== undefined && params.earlyStoppingRounds !== undefined) {
      if (roundValidationLoss < bestLoss) {
        bestLoss = roundValidationLoss;
        bestRound = round;
      } else if (round - bestRound >= params.earlyStoppingRounds) {
        trees.length = bestRound + 1;
        break;
      }
    }
  }
  return { objective, numFeatures, numClasses, baseScore, trees, roundsTrained, validationLoss };
}

function resolveParams(params: GbdtParams): ResolvedParams {
  const resolved: ResolvedParams = {
    numTrees: params.numTrees ?? 100,
    learningRate: params.learningRate ?? 0.1,
    maxDepth: params.maxDepth ?? 6,
    maxLeaves: params.maxLeaves ?? 2 ** (params.maxDepth ?? 6),
    minChildWeight: params.minChildWeight ?? 1,
    lambda: params.lambda ?? 1,
    rowSubsample: params.rowSubsample ?? 1,
    colSubsample: params.colSubsample ?? 1,
    seed: params.seed ?? 0,
    maxBins: params.maxBins ?? MAX_BINS,
    earlyStoppingRounds: params.earlyStoppingRounds,
    validation: params.validation,
  };
  const bad = (name: string, expected: string, value: unknown): StratumError =>
    new StratumError('BAD_REQUEST', `params.${name} must be ${expected}, got ${String(value)}`, {
      details: { parameter: name, value: String(value) },
    });
  const isInt = (value: number, min: number): boolean => Number.isInteger(value) && value >= min;
  if (!isInt(resolved.numTrees, 1)) throw bad('numTrees', 'an integer >= 1', resolved.numTrees);
  if (!(resolved.learningRate > 0 && Number.isFinite(resolved.learningRate)))
    throw bad('learningRate', 'a finite number > 0', resolved.learningRate);
  if (!isInt(resolved.maxDepth, 1) || resolved.maxDepth > 30)
    throw bad('maxDepth', 'an integer in [1, 30]', resolved.maxDepth);
  if (!isInt(resolved.maxLeaves, 2)) throw bad('maxLeaves', 'an integer >= 2', resolved.maxLeaves);
  if (!(resolved.minChildWeight >= 0 && Number.isFinite(resolved.minChildWeight)))
    throw bad('minChildWeight', 'a finite number >= 0', resolved.minChildWeight);
  if (!(resolved.lambda >= 0 && Number.isFinite(resolved.lambda)))
    throw bad('lambda', 'a finite number >= 0', resolved.lambda);
  if (!(resolved.rowSubsample > 0 && resolved.rowSubsample <= 1))
    throw bad('rowSubsample', 'in (0, 1]', resolved.rowSubsample);
  if (!(resolved.colSubsample > 0 && resolved.colSubsample <= 1))
    throw bad('colSubsample', 'in (0, 1]', resolved.colSubsample);
  if (!Number.isSafeInteger(resolved.seed)) throw bad('seed', 'a safe integer', resolved.seed);
  if (!isInt(resolved.maxBins, 2) || resolved.maxBins > MAX_BINS)
    throw bad('maxBins', `an integer in [2, ${MAX_BINS}]`, resolved.maxBins);
  if (resolved.earlyStoppingRounds !== undefined && !isInt(resolved.earlyStoppingRounds, 1))
    throw bad('earlyStoppingRounds', 'an integer >= 1', resolved.earlyStoppingRounds);
  return resolved;
}

function resolveNumClasses(options: TrainGbdtOptions): number {
  const { objective, numClasses } = options;
  if (objective === 'regression') {
    if (numClasses !== undefined && numClasses !== 1)
      throw new StratumError('BAD_REQUEST', `numClasses must be omitted for regression, got ${numClasses}`);
    return 1;
  }
  if (objective === 'binary') {
    if (numClasses !== undefined && numClasses !== 2)
      throw new StratumError('BAD_REQUEST', `numClasses must be omitted or 2 for binary, got ${numClasses}`);
    return 2;
  }
  if (numClasses === undefined || !Number.isInteger(numClasses) || numClasses < 2 || numClasses > 1024) {
    throw new StratumError(
      'BAD_REQUEST',
      `numClasses must be an integer in [2, 1024] for multiclass, got ${numClasses}`,
    );
  }
  return numClasses;
}

function checkLabels(args: {
  labels: Float32Array;
  numRows: number;
  objective: GbdtObjective;
  numClasses: number;
  name: string;
}): void {
  const { labels, numRows, objective, numClasses, name } = args;
  if (labels.length !== numRows) {
    throw new StratumError('BAD_REQUEST', `${name}: expected one label per row (${numRows}), got ${labels.length}`, {
      details: { expected: numRows, received: labels.length },
    });
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    const ok =
      objective === 'regression' ? Number.isFinite(label) : Number.isInteger(label) && label >= 0 && label < numClasses;
    if (!ok) {
      const expected = objective === 'regression' ? 'a finite number' : `an integer class in [0, ${numClasses - 1}]`;
      throw new StratumError('BAD_REQUEST', `${name}: row ${i} is ${label}, expected ${expected}`, {
        details: { row: i, value: String(label) },
      });
    }
  }
  if (objective === 'binary' && name === 'labels') {
    const positives = labels.reduce((sum, label) => sum + label, 0);
    if (positives === 0 || positives === labels.length) {
      throw new StratumError(
        'BAD_REQUEST',
        `labels: binary training needs both classes, got only class ${positives === 0 ? 0 : 1} in ${labels.length} rows`,
      );
    }
  }
}

function initialScore(args: { labels: Float32Array; objective: GbdtObjective; numOutputs: number }): number[] {
  const { labels, objective, numOutputs } = args;
  const n = labels.length;
  if (objective === 'regression') return [Math.fround(labels.reduce((sum, y) => sum + y, 0) / n)];
  if (objective === 'binary') {
    const p = Math.min(1 - 1e-6, Math.max(1e-6, labels.reduce((sum, y) => sum + y, 0) / n));
    return [Math.fround(Math.log(p / (1 - p)))];
  }
  const counts = new Float64Array(numOutputs);
  for (const label of labels) counts[label] = (counts[label] as number) + 1;
  return Array.from(counts, (count) => Math.fround(Math.log(Math.max(count / n, 1e-6))));
}

function filledScores(numRows: number, baseScore: readonly number[]): Float64Array {
  const scores = new Float64Array(numRows * baseScore.length);
  for (let i = 0; i < scores.length; i++) scores[i] = baseScore[i % baseScore.length] as number;
  return scores;
}

function sampleRows(args: { random: SeededRandom; numRows: number; fraction: number }): Uint32Array {
  const { random, numRows, fraction } = args;
  const all = (): Uint32Array => Uint32Array.from({ length: numRows }, (_, i) => i);
  if (fraction >= 1) return all();
  const picked: number[] = [];
  for (let i = 0; i < numRows; i++) if (random.next() < fraction) picked.push(i);
  return picked.length === 0 ? all() : Uint32Array.from(picked);
}

function sampleFeatures(args: { random: SeededRandom; numFeatures: number; fraction: number }): number[] {
  const { random, numFeatures, fraction } = args;
  const order = Array.from({ length: numFeatures }, (_, i) => i);
  if (fraction >= 1) return order;
  const take = Math.max(1, Math.round(fraction * numFeatures));
  // Partial Fisher–Yates: the first `take` entries are a uniform sample without replacement.
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random.next() * (numFeatures - i));
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
  return order.slice(0, take).sort((a, b) => a - b);
}

/** Gradients and hessians of output `output`; for multiclass, `scores` holds probabilities. */
function computeGradients(args: {
  objective: GbdtObjective;
  scores: Float64Array;
  labels: Float32Array;
  numOutputs: number;
  output: number;
  gradients: Float64Array;
  hessians: Float64Array;
}): void {
  const { objective, scores, labels, numOutputs, output, gradients, hessians } = args;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (objective === 'regression') {
      gradients[i] = (scores[i] as number) - y;
      hessians[i] = 1;
    } else if (objective === 'binary') {
      const p = sigmoid(scores[i] as number);
      gradients[i] = p - y;
      hessians[i] = Math.max(p * (1 - p), 1e-16);
    } else {
      const p = scores[i * numOutputs + output] as number;
      gradients[i] = p - (y === output ? 1 : 0);
      hessians[i] = Math.max(p * (1 - p), 1e-16);
    }
  }
}

function lossOf(args: {
  objective: GbdtObjective;
  scores: Float64Array;
  labels: Float32Array;
  numOutputs: number;
}): number {
  const { objective, scores, labels, numOutputs } = args;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (objective === 'regression') {
      const d = (scores[i] as number) - y;
      total += d * d;
    } else if (objective === 'binary') {
      const p = sigmoid(scores[i] as number);
      total -= Math.log(Math.max(y === 1 ? p : 1 - p, 1e-15));
    } else {
      total -= Math.log(Math.max(softmaxAt({ scores, row: i, numOutputs, output: y }), 1e-15));
    }
  }
  return total / labels.length;
}

function addTree(args: {
  tree: GbdtTree;
  binThreshold: readonly number[];
  bins: Uint8Array;
  numFeatures: number;
  scores: Float64Array;
  numOutputs: number;
  output: number;
}): void {
  const { tree, binThreshold, bins, numFeatures, scores, numOutputs, output } = args;
  const numRows = bins.length / numFeatures;
  for (let i = 0; i < numRows; i++) {
    let node = 0;
    let feature = tree.feature[0] as number;
    while (feature >= 0) {
      const bin = bins[i * numFeatures + feature] as number;
      node = (bin <= (binThreshold[node] as number) ? tree.left[node] : tree.right[node]) as number;
      feature = tree.feature[node] as number;
    }
    const slot = i * numOutputs + output;
    scores[slot] = (scores[slot] as number) + (tree.value[node] as number);
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function softmaxAt(args: { scores: Float64Array; row: number; numOutputs: number; output: number }): number {
  const { scores, row, numOutputs, output } = args;
  const base = row * numOutputs;
  let max = -Infinity;
  for (let k = 0; k < numOutputs; k++) max = Math.max(max, scores[base + k] as number);
  let sum = 0;
  for (let k = 0; k < numOutputs; k++) sum += Math.exp((scores[base + k] as number) - max);
  return Math.exp((scores[base + output] as number) - max) / sum;
}

function softmaxRows(args: { scores: Float64Array; numOutputs: number }): Float64Array {
  const { scores, numOutputs } = args;
  const probabilities = new Float64Array(scores.length);
  for (let base = 0; base < scores.length; base += numOutputs) {
    let max = -Infinity;
    for (let k = 0; k < numOutputs; k++) max = Math.max(max, scores[base + k] as number);
    let sum = 0;
    for (let k = 0; k < numOutputs; k++) {
      const e = Math.exp((scores[base + k] as number) - max);
      probabilities[base + k] = e;
      sum += e;
    }
    for (let k = 0; k < numOutputs; k++) probabilities[base + k] = (probabilities[base + k] as number) / sum;
  }
  return probabilities;
}
