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
import {
  checkTrainingData,
  type TrainingData,
  type TrainingInputs,
  type ValidationSplit,
} from '../common/check-training-inputs.ts';
import { earlyStopper } from '../common/early-stopper.ts';
import { parseOption } from '../common/param-schema.ts';
import { seededRandom, shuffleInPlace } from '../common/seeded-random.ts';
import { adamStep, createAdam } from './adam.ts';
import { initLayers } from './init-mlp.ts';
import { headLoss } from './mlp-head.ts';
import type { MlpActivation, MlpLayer, MlpModel, MlpObjective } from './mlp-model.ts';
import { mlpParams, type MlpParams, type MlpParamsInput } from './mlp-params.ts';
import { backward, createGradients, createWorkspace, forward, type MlpWorkspace } from './mlp-network.ts';
import { createDpSgd, type PrivacyReport } from '../privacy/dp-sgd.ts';
import { createPrivateMlpEpoch } from './private-mlp-epoch.ts';

/** A held-out split used for `validationLoss` and early stopping. */
export type MlpValidationSet = ValidationSplit;

/** Network shape and optimiser settings: {@link mlpParams} (each field optional, with its default) plus a validation split. */
export interface MlpTrainingParams extends MlpParamsInput {
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
export interface TrainMlpOptions extends TrainingInputs {
  /** Network shape and optimiser settings. @default every parameter's default */
  readonly params?: MlpTrainingParams;
  /** Called after every epoch; returning `true` (exactly) stops training after this epoch (a tuner's early stop). */
  readonly onProgress?: (entry: MlpHistoryEntry) => unknown;
}

/** The trained model with its learning curve. */
export interface TrainMlpResult {
  /** The network, with the best epoch's weights when early stopping was on. */
  readonly model: MlpModel;
  /** One entry per epoch run. */
  readonly history: MlpHistoryEntry[];
  /** Epoch whose weights were returned (the last one unless early stopping restored a better one). */
  readonly bestEpoch: number;
  /** What differentially private training spent, when `params.privacy` was set. */
  readonly privacy?: PrivacyReport;
}

/** A data set in the trainer's layout. */
type MlpData = TrainingData;

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
  const { objective, numOutputs, train, validation, params } = checkOptions(options);
  const { numFeatures } = options;
  const { activation, dropout: dropoutRate } = params;
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

  const dp =
    params.privacy === undefined
      ? undefined
      : createDpSgd({ privacy: params.privacy, rows: train.rows, batchSize: params.batchSize, seed: params.seed });
  const privateEpoch =
    dp === undefined
      ? undefined
      : createPrivateMlpEpoch({
          dp,
          layers,
          activation,
          objective,
          train,
          dropout,
          adam,
          learningRate: params.learningRate,
          l2: params.l2,
        });

  const history: MlpHistoryEntry[] = [];
  const stopper = earlyStopper<{ layers: MlpLayer[] }>({ rounds: params.earlyStoppingRounds });
  for (let epoch = 1; epoch <= params.epochs; epoch++) {
    const loss = privateEpoch?.() ?? publicEpoch();
    const entry: MlpHistoryEntry =
      validation === undefined || evaluation === undefined
        ? { epoch, loss }
        : {
            epoch,
            loss,
            validationLoss: meanLoss({ layers, activation, objective, data: validation, workspace: evaluation }),
          };
    history.push(entry);
    const stopAsked = options.onProgress?.(entry) === true;
    const keep = (): { layers: MlpLayer[] } => ({ layers: layers.map(copyLayer) });
    if (stopper.update({ epoch, monitored: entry.validationLoss ?? loss, keep }) || stopAsked) break;
  }
  const best = stopper.best();
  const last = history[history.length - 1];
  return {
    model: { objective, numFeatures, numOutputs, activation, layers: best?.layers ?? layers },
    history,
    bestEpoch: best?.epoch ?? last?.epoch ?? 0,
    ...(dp !== undefined && { privacy: dp.report() }),
  };

  /** One epoch of shuffled mini-batches; returns the mean training loss. */
  function publicEpoch(): number {
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
    return total / train.rows;
  }
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

/** Parses the parameters and checks the data, before any work. */
function checkOptions(options: TrainMlpOptions): {
  objective: MlpObjective;
  numOutputs: number;
  train: MlpData;
  validation: MlpData | undefined;
  params: MlpParams;
} {
  const { validation, ...rest } = options.params ?? {};
  const params = parseOption({ schema: mlpParams, input: rest, name: 'params' });
  const checked = checkTrainingData({ ...options, ...(validation !== undefined && { validation }) });
  return {
    objective: options.objective,
    numOutputs: checked.numOutputs,
    train: checked.train,
    validation: checked.validation,
    params,
  };
}
