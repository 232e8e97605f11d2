/**
 * Trains a multilayer perceptron: dense hidden layers with ReLU or tanh, inverted dropout, an
 * identity / sigmoid / softmax head, mini-batch Adam with an L2 penalty, seeded initialisation,
 * shuffling and dropout, and optional early stopping on a validation split that restores the best
 * epoch's weights. Features are used as given; standardisation belongs to the feature stage.
 *
 * The engine is plain TypeScript on Float32Array rather than tfjs: on 50k rows × 20 features,
 * layers [64, 64], batch 256, one epoch takes about 0.55 s here against 0.8 s with tfjs' wasm
 * backend and 2.8 s with its cpu backend; it is also bit-for-bit deterministic for a seed (tfjs'
 * `fit` shuffles with `Math.random`) and needs no 287 MB dependency.
 */
import { StratumError } from '../../errors/index.ts';
import { seededRandom, shuffleInPlace } from '../common/seeded-random.ts';
import { checkFeatures, checkLabels, checkNumber, checkTrainingInputs } from '../common/check-training-inputs.ts';
import { adamStep, createAdam } from './adam.ts';
import { initLayers } from './init-mlp.ts';
import { headLoss } from './mlp-head.ts';
import type { MlpActivation, MlpLayer, MlpModel, MlpObjective } from './mlp-model.ts';
import { backward, createGradients, createWorkspace, forward, type MlpWorkspace } from './mlp-network.ts';

/** A held-out split used for `validationLoss` and early stopping. */
export interface MlpValidationSet {
  /** Row-major `N×numFeatures`. */
  readonly features: Float32Array;
  /** One label per row, as for training. */
  readonly labels: ArrayLike<number>;
}

/** Network shape and optimiser settings. */
export interface MlpTrainingParams {
  /** Width of each hidden layer, input side first; integers ≥ 1. `[]` gives a linear model trained by Adam. */
  readonly hiddenLayers: readonly number[];
  /** Non-linearity after every hidden layer. @default 'relu' */
  readonly activation?: MlpActivation;
  /** Probability of dropping each hidden unit during training, in [0, 1). @default 0 */
  readonly dropout?: number;
  /** Adam step size, > 0. */
  readonly learningRate: number;
  /** L2 strength λ ≥ 0; the objective adds `λ/2 · ‖W‖²` over every layer's weights (not biases). */
  readonly l2: number;
  /** Passes over the data; integer ≥ 1. */
  readonly epochs: number;
  /** Rows per mini-batch; integer ≥ 1 (the last batch may be smaller). */
  readonly batchSize: number;
  /** Seed of the initial weights, the mini-batch order and the dropout masks; the same seed and data give the same model. */
  readonly seed: number;
  /**
   * Stop when the monitored loss (validation if given, else training) has not improved for this
   * many epochs, and return the best epoch's weights. @default no early stopping
   */
  readonly earlyStoppingRounds?: number;
  /** Held-out split evaluated after every epoch. @default none */
  readonly validation?: MlpValidationSet;
}

/** One epoch of training. */
export interface MlpHistoryEntry {
  /** 1-based epoch. */
  readonly epoch: number;
  /**
   * Mean training loss without the penalty (MSE, log-loss or cross-entropy), averaged over the
   * epoch's mini-batches as they were trained (with dropout), which costs no extra pass.
   */
  readonly loss: number;
  /** Same loss on the validation split after the epoch (no dropout), when one was given. */
  readonly validationLoss?: number;
}

/** Options for {@link trainMlp}. */
export interface TrainMlpOptions {
  /** Row-major `N×numFeatures`, finite values. */
  readonly features: Float32Array;
  /** Input width F. */
  readonly numFeatures: number;
  /** Targets (regression), 0/1 (binary) or class indices (multiclass). */
  readonly labels: ArrayLike<number>;
  /** What to fit. */
  readonly objective: MlpObjective;
  /** Number of classes; required for `'multiclass'` (≥ 2), ignored otherwise. */
  readonly numClasses?: number;
  /** Network shape and optimiser settings. */
  readonly params: MlpTrainingParams;
  /** Called after every epoch. */
  readonly onProgress?: (entry: MlpHistoryEntry) => void;
}

/** The trained model with its learning curve. */
export interface TrainMlpResult {
  /** The network, with the best epoch's weights when early stopping was on. */
  readonly model: MlpModel;
  /** One entry per epoch run. */
  readonly history: MlpHistoryEntry[];
  /** Epoch whose weights were returned (the last one unless early stopping restored a better one). */
  readonly bestEpoch: number;
}

/** A data set in the trainer's layout. */
interface MlpData {
  readonly features: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly rows: number;
}

/** Rows per forward pass when evaluating a whole split; bounds the workspace, not the result. */
const EVAL_CHUNK = 1024;

/**
 * Trains an MLP. Deterministic: the same options (including `params.seed`) give the same weights
 * bit for bit.
 *
 * @throws StratumError BAD_REQUEST for a bad parameter, a non-finite feature, or a label that does
 * not fit the objective, naming the parameter or row.
 *
 * @example
 * ```ts
 * const { model } = trainMlp({
 *   features, numFeatures: 4, labels, objective: 'binary',
 *   params: { hiddenLayers: [32, 32], learningRate: 1e-3, l2: 1e-4, epochs: 20, batchSize: 128, seed: 1 },
 * })
 * ```
 */
export function trainMlp(options: TrainMlpOptions): TrainMlpResult {
  const { objective, numOutputs, train, validation } = checkOptions(options);
  const { params, numFeatures } = options;
  const activation = params.activation ?? 'relu';
  const dropoutRate = params.dropout ?? 0;
  // Independent streams, so that e.g. turning dropout on does not change the initial weights or the row order.
  const streams = seededRandom(params.seed);
  const nextSeed = (): number => Math.floor(streams() * 2 ** 32);
  const initRandom = seededRandom(nextSeed());
  const orderRandom = seededRandom(nextSeed());
  const dropoutRandom = seededRandom(nextSeed());

  const sizes = [numFeatures, ...params.hiddenLayers, numOutputs];
  const layers = initLayers({ sizes, activation, random: initRandom });
  const capacity = Math.min(params.batchSize, train.rows);
  const workspace = createWorkspace({ layers, capacity, dropout: dropoutRate > 0 });
  const gradients = createGradients(layers);
  const adam = createAdam(layers);
  const batchFeatures = new Float32Array(capacity * numFeatures);
  const batchLabels = new Float64Array(capacity);
  const order = new Uint32Array(train.rows);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const dropout = dropoutRate > 0 ? { rate: dropoutRate, random: dropoutRandom } : undefined;
  const evaluation =
    validation === undefined
      ? undefined
      : createWorkspace({ layers, capacity: Math.min(EVAL_CHUNK, validation.rows), dropout: false });

  const history: MlpHistoryEntry[] = [];
  let best: { epoch: number; monitored: number; layers: MlpLayer[] } | undefined;
  for (let epoch = 1; epoch <= params.epochs; epoch++) {
    shuffleInPlace(order, orderRandom);
    let total = 0;
    for (let start = 0; start < train.rows; start += params.batchSize) {
      const rows = Math.min(train.rows, start + params.batchSize) - start;
      for (let r = 0; r < rows; r++) {
        const row = order[start + r] as number;
        batchFeatures.set(train.features.subarray(row * numFeatures, (row + 1) * numFeatures), r * numFeatures);
        batchLabels[r] = train.labels[row] as number;
      }
      const pass = { layers, activation, input: batchFeatures, rows, workspace };
      const logits = forward(dropout === undefined ? pass : { ...pass, dropout });
      const delta = workspace.deltas[layers.length - 1] as Float32Array;
      total += headLoss({ objective, logits, labels: batchLabels, rows, width: numOutputs, delta });
      backward({ ...pass, dropoutRate, gradients });
      adamStep({ layers, gradients, state: adam, learningRate: params.learningRate, l2: params.l2 });
    }
    const loss = total / train.rows;
    const entry: MlpHistoryEntry =
      validation === undefined || evaluation === undefined
        ? { epoch, loss }
        : {
            epoch,
            loss,
            validationLoss: meanLoss({ layers, activation, objective, data: validation, workspace: evaluation }),
          };
    history.push(entry);
    options.onProgress?.(entry);
    if (params.earlyStoppingRounds === undefined) continue;
    const monitored = entry.validationLoss ?? loss;
    if (best === undefined || monitored < best.monitored) {
      best = { epoch, monitored, layers: layers.map(copyLayer) };
    } else if (epoch - best.epoch >= params.earlyStoppingRounds) {
      break;
    }
  }
  const last = history[history.length - 1];
  return {
    model: { objective, numFeatures, numOutputs, activation, layers: best?.layers ?? layers },
    history,
    bestEpoch: best?.epoch ?? last?.epoch ?? 0,
  };
}

function copyLayer(layer: MlpLayer): MlpLayer {
  return { ...layer, weights: Float32Array.from(layer.weights), bias: Float32Array.from(layer.bias) };
}

/** Mean loss over a whole split, without dropout, in chunks of the workspace's capacity. */
function meanLoss(options: {
  layers: readonly MlpLayer[];
  activation: MlpActivation;
  objective: MlpObjective;
  data: MlpData;
  workspace: MlpWorkspace;
}): number {
  const { layers, activation, objective, data, workspace } = options;
  const numFeatures = layers[0]?.inputSize ?? 0;
  const width = layers[layers.length - 1]?.outputSize ?? 0;
  const labels = new Float64Array(workspace.capacity);
  let total = 0;
  for (let start = 0; start < data.rows; start += workspace.capacity) {
    const rows = Math.min(data.rows, start + workspace.capacity) - start;
    for (let r = 0; r < rows; r++) labels[r] = data.labels[start + r] as number;
    const input = data.features.subarray(start * numFeatures, (start + rows) * numFeatures);
    const logits = forward({ layers, activation, input, rows, workspace });
    total += headLoss({ objective, logits, labels, rows, width });
  }
  return total / data.rows;
}

function checkOptions(options: TrainMlpOptions): {
  objective: MlpObjective;
  numOutputs: number;
  train: MlpData;
  validation: MlpData | undefined;
} {
  const { params, objective, numFeatures } = options;
  if (objective !== 'regression' && objective !== 'binary' && objective !== 'multiclass') {
    throw new StratumError(
      'BAD_REQUEST',
      `objective must be 'regression', 'binary' or 'multiclass', got ${String(objective)}`,
      { details: { parameter: 'objective' } },
    );
  }
  if (params === null || typeof params !== 'object') {
    throw new StratumError('BAD_REQUEST', 'params must be an object', { details: { parameter: 'params' } });
  }
  const positiveInteger = (v: number): boolean => Number.isSafeInteger(v) && v >= 1;
  checkNumber({ name: 'numFeatures', value: numFeatures, ok: positiveInteger, expected: 'an integer ≥ 1' });
  if (!Array.isArray(params.hiddenLayers)) {
    throw new StratumError(
      'BAD_REQUEST',
      `params.hiddenLayers must be an array of layer widths (e.g. [64, 32]), got ${String(params.hiddenLayers)}`,
      { details: { parameter: 'params.hiddenLayers' } },
    );
  }
  params.hiddenLayers.forEach((width, index) =>
    checkNumber({
      name: `params.hiddenLayers[${index}]`,
      value: width,
      ok: positiveInteger,
      expected: 'an integer ≥ 1',
    }),
  );
  if (params.activation !== undefined && params.activation !== 'relu' && params.activation !== 'tanh') {
    throw new StratumError(
      'BAD_REQUEST',
      `params.activation must be 'relu' or 'tanh', got ${String(params.activation)}`,
      { details: { parameter: 'params.activation' } },
    );
  }
  if (params.dropout !== undefined) {
    checkNumber({
      name: 'params.dropout',
      value: params.dropout,
      ok: (v) => v >= 0 && v < 1,
      expected: 'a number in [0, 1)',
    });
  }
  checkNumber({
    name: 'params.learningRate',
    value: params.learningRate,
    ok: (v) => Number.isFinite(v) && v > 0,
    expected: 'a finite number > 0',
  });
  checkNumber({
    name: 'params.l2',
    value: params.l2,
    ok: (v) => Number.isFinite(v) && v >= 0,
    expected: 'a finite number ≥ 0',
  });
  checkNumber({ name: 'params.epochs', value: params.epochs, ok: positiveInteger, expected: 'an integer ≥ 1' });
  checkNumber({ name: 'params.batchSize', value: params.batchSize, ok: positiveInteger, expected: 'an integer ≥ 1' });
  checkNumber({ name: 'params.seed', value: params.seed, ok: Number.isSafeInteger, expected: 'an integer' });
  if (params.earlyStoppingRounds !== undefined) {
    checkNumber({
      name: 'params.earlyStoppingRounds',
      value: params.earlyStoppingRounds,
      ok: positiveInteger,
      expected: 'an integer ≥ 1',
    });
  }
  const { numClasses, rows } = checkTrainingInputs(options);
  const target = { objective, numClasses };
  const numOutputs = objective === 'multiclass' ? numClasses : 1;
  const train: MlpData = { features: options.features, labels: options.labels, rows };
  if (params.validation === undefined) return { objective, numOutputs, train, validation: undefined };
  const validationRows = checkFeatures({
    name: 'params.validation.features',
    features: params.validation.features,
    numFeatures,
  });
  checkLabels({ name: 'params.validation.labels', labels: params.validation.labels, rows: validationRows, target });
  return {
    objective,
    numOutputs,
    train,
    validation: { features: params.validation.features, labels: params.validation.labels, rows: validationRows },
  };
}
