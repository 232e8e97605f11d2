/**
 * Histogram-based gradient boosting (binary logloss, softmax multiclass, squared-error
 * regression) in the XGBoost style: second-order gradients, depth-wise trees on quantile bins,
 * shrinkage, L2 leaf penalty, min child weight, row and column subsampling and early stopping on a
 * validation set. Deterministic for a seed (and a worker count); optionally data-parallel over
 * worker threads, with checkpoints to resume an interrupted run exactly.
 */
import { StratumError } from '../../errors/index.ts';
import { checkCheckpointOptions, dataFingerprint, type Fingerprint } from '../checkpoint/checkpoint-file.ts';
import { resolveClassWeights } from '../common/class-weight.ts';
import { earlyStopper } from '../common/early-stopper.ts';
import { countingRandom, type CountingRandom } from '../checkpoint/counting-random.ts';
import { startWorkerShards } from './gbdt-worker-shards.ts';
import { parseOption, workers as workersParam } from '../common/param-schema.ts';
import { applyBins, binFeatures, checkFeatures, checkShape } from './binning.ts';
import { readGbdtCheckpoint, writeGbdtCheckpoint, type GbdtCheckpointState } from './gbdt-checkpoint.ts';
import type { GbdtModel, GbdtObjective, GbdtTree } from './gbdt-model.ts';
import { gbdtParams, type GbdtParamsInput, type GbdtParamsOutput } from './gbdt-params.ts';
import { growTree, histogramPool, type GrowTreeOptions } from './grow-tree.ts';
import { canBatch, growTreeBatched } from './grow-tree-batched.ts';
import { allocateGbdtBuffers, OBJECTIVE_CODE } from './row-shard.ts';
import { interleavedRowOrder, positionsOf, reorderRows, type RowOrder } from './row-order.ts';
import { localShardSet, type ShardSet } from './shard-set.ts';
import { collectiveShardSet } from './collective-shard-set.ts';
import type { SyncCollective } from '../parallel/sync-collective.ts';

/** A held-out set for early stopping. */
export interface GbdtValidationSet {
  /** Row-major `M × numFeatures` matrix. */
  readonly features: Float32Array;
  /** One label per row, encoded like the training labels. */
  readonly labels: Float32Array;
}

/** Boosting hyper-parameters: {@link gbdtParams} (every field optional, with its default) plus how to run. */
export interface GbdtParams extends GbdtParamsInput {
  /** Validation set whose loss is tracked each round. @default none */
  readonly validation?: GbdtValidationSet;
  /**
   * Threads sharing the work, integer in [1, 64]: the calling thread plus `workers - 1` worker
   * threads, each on a contiguous shard of the rows. The model is identical for a seed and a
   * worker count; other worker counts sum histograms in another order, so split gains and leaf
   * values can differ in the last bits (and rarely a near-tied split can differ). @default 1
   */
  readonly workers?: number;
}

/** Periodic checkpoints of a GBDT run. */
export interface GbdtCheckpointOptions {
  /** File written atomically (temporary file + rename) and replaced at every checkpoint. */
  readonly path: string;
  /** Write after every this many rounds, integer >= 1. */
  readonly everyRounds: number;
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
  /** Called after every round; returning `true` (exactly) stops training after this round (a tuner's early stop). @default none */
  readonly onProgress?: (progress: GbdtProgress) => unknown;
  /** Write checkpoints while training. @default none */
  readonly checkpoint?: GbdtCheckpointOptions;
  /**
   * Continue from a checkpoint file written by a run with the same data and parameters (other
   * than `numTrees`, `workers` and `sparseThreshold`); with those unchanged too, the result equals
   * the uninterrupted run's.
   * @throws StratumError BAD_REQUEST when the checkpoint belongs to other data or parameters.
   */
  readonly resumeFrom?: string;
  /**
   * Train as one rank of a group of processes (`startSyncCollective`): this process owns shard
   * `rank` of `worldSize` and the ranks sum their histograms through the collective, so every
   * rank returns the model `workers: worldSize` threads would train. Every rank must call
   * `trainGbdt` with the same data and parameters (checked); `params.workers` must then be 1. The
   * caller owns the collective and closes it.
   * @throws StratumError COLLECTIVE_FAILED when a rank dies, times out or has other data.
   * @default none (this process alone)
   */
  readonly collective?: SyncCollective;
}

/** Parameters with defaults filled in (`maxLeaves` too: `2 ** maxDepth` unless given). */
export type ResolvedGbdtParams = GbdtParamsOutput & {
  readonly maxLeaves: number;
  readonly workers: number;
  readonly validation: GbdtValidationSet | undefined;
};

/** What {@link trainGbdt} parses `options.params` (without `validation`) with. */
const optionParams = gbdtParams.extend({ workers: workersParam });

/**
 * Trains a gradient-boosted tree ensemble. With `params.workers > 1` it blocks while worker
 * threads start (a few hundred milliseconds) and terminates them before returning or throwing.
 *
 * @throws StratumError BAD_REQUEST naming the offending option or row.
 * @example
 * ```ts
 * const model = trainGbdt({ features, numFeatures: 20, labels, objective: 'binary', params: { numTrees: 100, seed: 7, workers: 2 } })
 * const onnx = exportGbdtOnnx(model, { inputName: 'x' })
 * ```
 */
export function trainGbdt(options: TrainGbdtOptions): GbdtModel {
  const { features, numFeatures, labels, objective } = options;
  const params = resolveParams(options.params ?? {});
  // binFeatures finds a NaN while it reads the values, so one pass over them is saved here.
  checkShape({ features, numFeatures, name: 'features' });
  const numRows = features.length / numFeatures;
  const numClasses = resolveNumClasses(options);
  checkLabels({ labels, numRows, objective, numClasses, name: 'labels' });
  if (objective === 'regression' && params.classWeight !== undefined) {
    throw new StratumError('BAD_REQUEST', 'params.classWeight applies to classifiers, not to the regression objective');
  }
  const classWeights = resolveClassWeights({
    weight: params.classWeight,
    labels,
    numClasses,
    name: 'params.classWeight',
  });
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
  if (options.checkpoint !== undefined) {
    checkCheckpointOptions({
      path: options.checkpoint.path,
      every: options.checkpoint.everyRounds,
      name: 'everyRounds',
    });
  }
  // Hashing the data reads every value, so it is done only when a checkpoint is written or read.
  const fingerprint =
    options.checkpoint === undefined && options.resumeFrom === undefined
      ? undefined
      : gbdtFingerprint({ options, params, numClasses });
  const resumed =
    options.resumeFrom === undefined || fingerprint === undefined
      ? undefined
      : readGbdtCheckpoint({ path: options.resumeFrom, fingerprint });
  if (resumed !== undefined && resumed.round > params.numTrees) {
    throw new StratumError(
      'BAD_REQUEST',
      `resumeFrom: the checkpoint has ${resumed.round} rounds, more than params.numTrees (${params.numTrees})`,
    );
  }

  const numOutputs = objective === 'multiclass' ? numClasses : 1;
  const { collective } = options;
  if (collective !== undefined) checkSameRun({ collective, options, params, numClasses, fingerprint });
  const workers = Math.min(params.workers, numRows);
  const numShards = collective?.worldSize ?? workers;
  const buffers = allocateGbdtBuffers({ numRows, numFeatures, numOutputs, shared: workers > 1, classWeights });
  const maxTreeLeaves = Math.min(params.maxLeaves, 2 ** params.maxDepth, numRows);
  // Started before binning, so the threads boot while this one bins.
  const shards: ShardSet =
    collective !== undefined
      ? collectiveShardSet({ buffers, collective })
      : workers > 1
        ? startWorkerShards({ buffers, workers, maxLeaves: maxTreeLeaves })
        : localShardSet(buffers);
  try {
    // Scores, gradients and bins are all kept in the shards' order; trees do not depend on it.
    const order = numShards > 1 ? interleavedRowOrder(numRows, numShards) : undefined;
    return boost({ options, params, numClasses, shards, resumed, fingerprint, maxTreeLeaves, order });
  } finally {
    void shards.close();
  }
}

/**
 * Refuses to train as a rank with worker threads too, and checks that every rank trains on the same
 * data with the same parameters (rank 0's fingerprint against this rank's): ranks that read
 * different files would otherwise sum unrelated histograms into a wrong model.
 */
function checkSameRun(args: {
  collective: SyncCollective;
  options: TrainGbdtOptions;
  params: ResolvedGbdtParams;
  numClasses: number;
  fingerprint: Fingerprint | undefined;
}): void {
  const { collective, options, params, numClasses } = args;
  if (params.workers > 1) {
    throw new StratumError(
      'BAD_REQUEST',
      `params.workers is ${params.workers}: a rank of a distributed run trains on one thread (use more processes instead)`,
    );
  }
  const fingerprint = args.fingerprint ?? gbdtFingerprint({ options, params, numClasses });
  const own = new TextEncoder().encode(JSON.stringify({ ...fingerprint, numTrees: params.numTrees }));
  const root = collective.broadcast(own, 0);
  if (Buffer.compare(root, own) !== 0) {
    throw new StratumError(
      'COLLECTIVE_FAILED',
      `distributed training group "${collective.group}": rank ${collective.rank} has other data or parameters than rank 0 (every rank must run the same spec on the same data)`,
      { details: { rank: collective.rank, own: new TextDecoder().decode(own), rank0: new TextDecoder().decode(root) } },
    );
  }
}

/** The training data in the shards' layout, the starting scores and the validation split's bins. */
interface BoostingData {
  readonly edges: Float32Array[];
  /** Row-major bins of the training rows, in the shards' order. */
  readonly bins: Uint8Array;
  readonly numBins: Int32Array;
  readonly baseScore: number[];
  readonly validation: { bins: Uint8Array; scores: Float64Array; labels: Float32Array } | undefined;
}

/** What every round reuses. */
interface RoundContext {
  readonly options: TrainGbdtOptions;
  readonly params: ResolvedGbdtParams;
  readonly shards: ShardSet;
  readonly data: BoostingData;
  /** The shards' row order when it is not the input's. */
  readonly order: RowOrder | undefined;
  readonly random: CountingRandom;
  readonly pool: ReturnType<typeof histogramPool>;
  /** Every row id, the sample of a round without row subsampling. */
  readonly everyRow: Uint32Array;
  /** Scratch for a tree's leaves, `maxTreeLeaves` long. */
  readonly leafNodes: Float64Array;
  readonly leafValues: Float64Array;
}

function boost(args: {
  options: TrainGbdtOptions;
  params: ResolvedGbdtParams;
  numClasses: number;
  shards: ShardSet;
  resumed: GbdtCheckpointState | undefined;
  fingerprint: Fingerprint | undefined;
  maxTreeLeaves: number;
  /** The shards' row order when it is not the input's. */
  order: RowOrder | undefined;
}): GbdtModel {
  const { options, params, numClasses, shards, resumed, fingerprint, maxTreeLeaves, order } = args;
  const { numFeatures, objective } = options;
  const { numRows, numOutputs, scores, classWeights } = shards.buffers;
  const objectiveCode = OBJECTIVE_CODE[objective];
  const data = loadData({ options, params, shards, order });
  const trainingWeight = totalWeight({ labels: options.labels, classWeights });
  const { bins, validation } = data;

  const random: CountingRandom = countingRandom(params.seed, resumed?.randomDraws ?? 0);
  const trees: GbdtTree[][] = resumed?.trees ?? [];
  const binThresholds: number[][][] = resumed?.binThresholds ?? [];
  const validationLoss: number[] = resumed?.validationLoss ?? [];
  const stopper = earlyStopper<object>({
    rounds: params.earlyStoppingRounds,
    initial: { epoch: resumed?.bestRound ?? -1, monitored: resumed?.bestLoss ?? Infinity },
  });
  let roundsTrained = resumed?.round ?? 0;
  // A resumed run rebuilds its scores by replaying the saved trees, adding the same leaf values
  // in the same order as the interrupted run did.
  for (const [round, roundTrees] of trees.entries()) {
    for (const [k, tree] of roundTrees.entries()) {
      const binThreshold = binThresholds[round]?.[k] as number[];
      addTree({ tree, binThreshold, bins, numRows, numFeatures, scores, numOutputs, output: k });
      addToValidation({ data, tree, binThreshold, output: k, numFeatures });
    }
  }

  const everyRow = new Uint32Array(numRows);
  for (let i = 0; i < numRows; i++) everyRow[i] = i;
  const context: RoundContext = {
    options,
    params,
    shards,
    data,
    order,
    random,
    pool: histogramPool(data.numBins),
    everyRow,
    leafNodes: new Float64Array(maxTreeLeaves),
    leafValues: new Float64Array(maxTreeLeaves),
  };
  for (let round = roundsTrained; round < params.numTrees; round++) {
    const grown = growRound(context);
    trees.push(grown.trees);
    binThresholds.push(grown.binThresholds);
    roundsTrained = round + 1;
    const roundValidationLoss =
      validation &&
      lossOf({ objective, scores: validation.scores, labels: validation.labels, numOutputs, classWeights });
    if (roundValidationLoss !== undefined) validationLoss.push(roundValidationLoss);
    // The training loss costs a logarithm per row, as much as a round's gradients; only progress reads it.
    let stopAsked = false;
    if (options.onProgress !== undefined) {
      stopAsked =
        options.onProgress({
          round: round + 1,
          numTrees: params.numTrees,
          trainLoss: shards.lossSum(objectiveCode) / trainingWeight,
          ...(roundValidationLoss === undefined ? {} : { validationLoss: roundValidationLoss }),
        }) === true;
    }
    if (
      roundValidationLoss !== undefined &&
      stopper.update({ epoch: round, monitored: roundValidationLoss, keep: () => ({}) })
    ) {
      trees.length = (stopper.best()?.epoch ?? -1) + 1;
      break;
    }
    if (stopAsked) break;
    const { checkpoint } = options;
    if (checkpoint !== undefined && fingerprint !== undefined && roundsTrained % checkpoint.everyRounds === 0) {
      const best = stopper.best();
      writeGbdtCheckpoint({
        path: checkpoint.path,
        fingerprint,
        state: {
          round: roundsTrained,
          trees,
          binThresholds,
          validationLoss,
          bestRound: best?.epoch ?? -1,
          bestLoss: best?.monitored ?? Infinity,
          randomDraws: random.draws(),
        },
      });
    }
  }
  return { objective, numFeatures, numClasses, baseScore: data.baseScore, trees, roundsTrained, validationLoss };
}

/** Bins the features into the shards' buffers, copies the labels, and starts every score at the base score. */
function loadData(args: {
  options: TrainGbdtOptions;
  params: ResolvedGbdtParams;
  shards: ShardSet;
  order: RowOrder | undefined;
}): BoostingData {
  const { options, params, shards, order } = args;
  const { features, numFeatures, labels, objective } = options;
  const { buffers } = shards;
  const { edges, bins } = binFeatures({
    features,
    numFeatures,
    maxBins: params.maxBins,
    output: buffers.bins,
    ...(order === undefined ? {} : { outputRow: order.position }),
  });
  if (order === undefined) buffers.labels.set(labels);
  else reorderRows({ order, source: labels, target: buffers.labels, width: 1 });
  const numBins = Int32Array.from(edges, (featureEdges) => featureEdges.length + 1);
  shards.prepare({ sparseThreshold: params.sparseThreshold, numBins });
  const baseScore = initialScore({
    labels,
    objective,
    numOutputs: buffers.numOutputs,
    classWeights: buffers.classWeights,
  });
  fillScores(buffers.scores, baseScore);
  const held = params.validation;
  if (held === undefined) return { edges, bins, numBins, baseScore, validation: undefined };
  const validation = {
    bins: applyBins({ features: held.features, numFeatures, edges }),
    scores: new Float64Array(held.labels.length * buffers.numOutputs),
    labels: held.labels,
  };
  fillScores(validation.scores, baseScore);
  return { edges, bins, numBins, baseScore, validation };
}

/**
 * Samples the round's rows, then for each output computes the gradients, samples the tree's
 * features, grows the tree and adds its leaf values to the training and validation scores.
 */
function growRound(context: RoundContext): { trees: GbdtTree[]; binThresholds: number[][] } {
  const { options, params, shards, data, order, random, leafNodes, leafValues } = context;
  const { numFeatures, objective } = options;
  const { buffers } = shards;
  const { numRows, numOutputs, scores } = buffers;
  const inputRows = sampleRows({ random, all: context.everyRow, fraction: params.rowSubsample });
  const allRows = inputRows.length === numRows;
  const sampledRows = order === undefined || allRows ? inputRows : positionsOf(order, inputRows);
  if (objective === 'multiclass') softmaxRows({ scores, numOutputs, out: buffers.probabilities });
  const trees: GbdtTree[] = [];
  const binThresholds: number[][] = [];
  // Every class of a round sees the softmax of the round's starting scores, so each tree's leaf
  // values can be added to the scores right away.
  for (let k = 0; k < numOutputs; k++) {
    shards.computeGradients({ objective: OBJECTIVE_CODE[objective], output: k });
    shards.setRows(sampledRows);
    const treeFeatures = Int32Array.from(sampleFeatures({ random, numFeatures, fraction: params.colSubsample }));
    const growOptions: GrowTreeOptions = {
      shards,
      edges: data.edges,
      features: treeFeatures,
      maxDepth: params.maxDepth,
      maxLeaves: params.maxLeaves,
      minChildWeight: params.minChildWeight,
      lambda: params.lambda,
      learningRate: params.learningRate,
      pool: context.pool,
    };
    // Shards that pay a round trip per summed histogram grow one batch per depth, same tree.
    const batched = canBatch(growOptions) ? growTreeBatched(growOptions) : undefined;
    const { tree, binThreshold } = batched ?? growTree(growOptions);
    const shardNode = batched?.shardNode;
    if (allRows) {
      let count = 0;
      for (let node = 0; node < tree.feature.length; node++) {
        if ((tree.feature[node] as number) >= 0) continue;
        leafNodes[count] = shardNode === undefined ? node : (shardNode[node] as number);
        leafValues[count++] = tree.value[node] as number;
      }
      shards.addLeaves({ nodes: leafNodes, values: leafValues, count, output: k });
    } else {
      addTree({ tree, binThreshold, bins: data.bins, numRows, numFeatures, scores, numOutputs, output: k });
    }
    addToValidation({ data, tree, binThreshold, output: k, numFeatures });
    trees.push(tree);
    binThresholds.push(binThreshold);
  }
  return { trees, binThresholds };
}

/** Adds a tree's leaf values to the validation scores (when there is a validation set). */
function addToValidation(args: {
  data: BoostingData;
  tree: GbdtTree;
  binThreshold: readonly number[];
  output: number;
  numFeatures: number;
}): void {
  const { validation } = args.data;
  if (validation === undefined) return;
  const numOutputs = args.data.baseScore.length;
  addTree({
    tree: args.tree,
    binThreshold: args.binThreshold,
    bins: validation.bins,
    numRows: validation.scores.length / numOutputs,
    numFeatures: args.numFeatures,
    scores: validation.scores,
    numOutputs,
    output: args.output,
  });
}

function resolveParams(params: GbdtParams): ResolvedGbdtParams {
  const { validation, ...rest } = params;
  const parsed = parseOption({ schema: optionParams, input: rest, name: 'params' });
  return { ...parsed, maxLeaves: parsed.maxLeaves ?? 2 ** parsed.maxDepth, validation };
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

/**
 * The raw score minimising the loss before any tree: the mean, or the log-odds / log-frequencies
 * of the classes counted with their weights (with balanced weights every class starts equal).
 */
function initialScore(args: {
  labels: Float32Array;
  objective: GbdtObjective;
  numOutputs: number;
  classWeights: Float64Array;
}): number[] {
  const { labels, objective, numOutputs, classWeights } = args;
  const n = labels.length;
  if (objective === 'regression') return [Math.fround(labels.reduce((sum, y) => sum + y, 0) / n)];
  const weights = new Float64Array(Math.max(numOutputs, 2));
  for (const label of labels) weights[label] = (weights[label] as number) + (classWeights[label] ?? 1);
  const total = totalWeight({ labels, classWeights });
  if (objective === 'binary') {
    const p = Math.min(1 - 1e-6, Math.max(1e-6, (weights[1] as number) / total));
    return [Math.fround(Math.log(p / (1 - p)))];
  }
  return Array.from(weights, (weight) => Math.fround(Math.log(Math.max(weight / total, 1e-6))));
}

/** The rows' summed weights: the row count without class weights. */
function totalWeight(args: { labels: Float32Array; classWeights: Float64Array }): number {
  const { labels, classWeights } = args;
  if (classWeights.length === 0) return labels.length;
  let total = 0;
  for (const label of labels) total += classWeights[label] as number;
  return total;
}

function fillScores(scores: Float64Array, baseScore: readonly number[]): void {
  for (let i = 0; i < scores.length; i++) scores[i] = baseScore[i % baseScore.length] as number;
}

/** The rows of a round, ascending; `all` (every row id) when every row is kept. */
function sampleRows(args: { random: CountingRandom; all: Uint32Array; fraction: number }): Uint32Array {
  const { random, all, fraction } = args;
  if (fraction >= 1) return all;
  const picked: number[] = [];
  for (let i = 0; i < all.length; i++) if (random.next() < fraction) picked.push(i);
  return picked.length === 0 ? all : Uint32Array.from(picked);
}

function sampleFeatures(args: { random: CountingRandom; numFeatures: number; fraction: number }): number[] {
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

/** The mean loss, each row counted with its class weight (the loss the trees minimise). */
function lossOf(args: {
  objective: GbdtObjective;
  scores: Float64Array;
  labels: Float32Array;
  numOutputs: number;
  classWeights: Float64Array;
}): number {
  const { objective, scores, labels, numOutputs, classWeights } = args;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (objective === 'regression') {
      const d = (scores[i] as number) - y;
      total += d * d;
    } else if (objective === 'binary') {
      const p = sigmoid(scores[i] as number);
      total -= (classWeights[y] ?? 1) * Math.log(Math.max(y === 1 ? p : 1 - p, 1e-15));
    } else {
      total -= (classWeights[y] ?? 1) * Math.log(Math.max(softmaxAt({ scores, row: i, numOutputs, output: y }), 1e-15));
    }
  }
  return total / totalWeight({ labels, classWeights });
}

/** Adds the tree's leaf value to output `output` of every row of row-major `bins`. */
function addTree(args: {
  tree: GbdtTree;
  binThreshold: readonly number[];
  bins: Uint8Array;
  numRows: number;
  numFeatures: number;
  scores: Float64Array;
  numOutputs: number;
  output: number;
}): void {
  const { tree, binThreshold, bins, numRows, numFeatures, scores, numOutputs, output } = args;
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

function softmaxRows(args: { scores: Float64Array; numOutputs: number; out: Float64Array }): void {
  const { scores, numOutputs, out: probabilities } = args;
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
}

/**
 * The fingerprint of a run: objective, shape, every parameter that changes the trees (not
 * `numTrees`, so a run can be extended, nor `workers` or `sparseThreshold`, which only reorder
 * sums) and hashes of the data.
 */
export function gbdtFingerprint(args: {
  options: TrainGbdtOptions;
  params: ResolvedGbdtParams;
  numClasses: number;
}): Fingerprint {
  const { options, params, numClasses } = args;
  const { validation } = params;
  return {
    ...dataFingerprint({ ...options, validation }),
    objective: options.objective,
    numClasses,
    learningRate: params.learningRate,
    maxDepth: params.maxDepth,
    maxLeaves: params.maxLeaves,
    minChildWeight: params.minChildWeight,
    lambda: params.lambda,
    rowSubsample: params.rowSubsample,
    colSubsample: params.colSubsample,
    seed: params.seed,
    maxBins: params.maxBins,
    earlyStoppingRounds: params.earlyStoppingRounds ?? null,
    // Unset leaves the fingerprint as it was before class weights existed.
    ...(params.classWeight !== undefined && { classWeight: String(params.classWeight) }),
  };
}
