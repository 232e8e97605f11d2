/**
 * Trains linear, logistic (binary) and softmax (multiclass) regression: mini-batch Adam or SGD with
 * seeded shuffling, or full-batch L-BFGS, all with an L2 penalty and optional early stopping on a
 * validation split. Features are used as given; standardisation belongs to the feature stage.
 * Mostly-zero feature matrices (hashed text, one-hot) are copied once to compressed sparse rows,
 * and the objective then visits only their non-zeros, with the same results as the dense loops.
 */
import { StratumError } from '../../errors/index.ts';
import { minimizeLbfgs } from './lbfgs.ts';
import { checkCheckpointOptions, dataFingerprint, type Fingerprint } from '../checkpoint/checkpoint-file.ts';
import { readLinearCheckpoint, writeLinearCheckpoint, type LinearCheckpointState } from './linear-checkpoint.ts';
import {
  linearObjective,
  type LinearData,
  type LinearObjectiveOptions,
  type LinearObjectiveValue,
  type LinearShape,
} from './linear-objective.ts';
import { autoLinearWorkers, prepareLinearData } from './linear-training-data.ts';
import type { LinearHistoryEntry, LinearModel } from './linear-model.ts';

export type { LinearHistoryEntry } from './linear-model.ts';
export { autoLinearWorkers };
import { checkTrainingData, type TrainingInputs, type ValidationSplit } from '../common/check-training-inputs.ts';
import { earlyStopper } from '../common/early-stopper.ts';
import { parseOption } from '../common/param-schema.ts';
import { seededRandom, shuffleInPlace } from '../common/seeded-random.ts';
import { linearParams, linearWorkers, type LinearParams, type LinearParamsInput } from './linear-params.ts';
import { createDpSgd, type DpSgd, type PrivacyReport } from '../privacy/dp-sgd.ts';

/** A held-out split used for `validationLoss` and early stopping. */
export type LinearValidationSet = ValidationSplit;

/** Optimiser settings: {@link linearParams} (each field optional, with its default) plus how to run. */
export interface LinearTrainingParams extends LinearParamsInput {
  /** Held-out split evaluated after every epoch. @default none */
  readonly validation?: LinearValidationSet;
  /**
   * Threads computing the training objective and gradient, integer in [1, 64]: the calling thread
   * plus `workers - 1` worker threads, claiming fixed blocks of the rows (of every mini-batch for
   * Adam/SGD, of all rows for L-BFGS); the step stays on the calling thread. Every count gives the
   * same model bit for bit (the blocks are added in a fixed order). Pays off for L-BFGS and large
   * batches, not for small batches (one thread hand-off per batch).
   * @default {@link autoLinearWorkers}: 1, or up to 4 for L-BFGS on very large data
   */
  readonly workers?: number;
}

/** Options for {@link trainLinear}. */
export interface TrainLinearOptions extends TrainingInputs {
  /**
   * Row-major `N×numFeatures`, finite values. When fewer than a quarter are non-zero, training
   * works on a compressed-sparse-rows copy (8 bytes per non-zero) with the same results, bit for bit.
   */
  readonly features: Float32Array;
  /** Optimiser settings. @default every parameter's default */
  readonly params?: LinearTrainingParams;
  /** Called after every epoch; returning `true` (exactly) stops training after this epoch (a tuner's early stop). */
  readonly onProgress?: (entry: LinearHistoryEntry) => unknown;
  /**
   * Write checkpoints every `everyEpochs` epochs (Adam and SGD; L-BFGS runs are full-batch and
   * refuse it), atomically (temporary file + rename). @default none
   */
  readonly checkpoint?: { readonly path: string; readonly everyEpochs: number };
  /**
   * Continue from a checkpoint of a run with the same data and parameters (other than `epochs`);
   * the result equals the uninterrupted run's.
   * @throws StratumError BAD_REQUEST when the checkpoint belongs to other data or parameters.
   */
  readonly resumeFrom?: string;
}

/** The trained model with its learning curve. */
export interface TrainLinearResult extends LinearModel {
  /** One entry per epoch run. */
  readonly history: LinearHistoryEntry[];
  /** Epoch whose weights were returned (the last one unless early stopping restored a better one). */
  readonly bestEpoch: number;
  /** What differentially private training spent, when `params.privacy` was set. */
  readonly privacy?: PrivacyReport;
}

const ADAM = Object.freeze({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });

/** What {@link trainLinear} parses `options.params` (without `validation`) with. */
const optionParams = linearParams.extend({ workers: linearWorkers });

/**
 * Trains a linear model. Deterministic: the same options (including `params.seed`) give the same
 * weights bit for bit.
 *
 * @throws StratumError BAD_REQUEST for a bad parameter, a non-finite feature, or a label that does
 * not fit the objective, naming the parameter or row.
 *
 * @example
 * ```ts
 * const model = trainLinear({
 *   features, numFeatures: 4, labels, objective: 'binary',
 *   params: { optimizer: 'lbfgs', learningRate: 1, l2: 1e-3, epochs: 100, batchSize: 256, seed: 1 },
 * })
 * ```
 */
export function trainLinear(options: TrainLinearOptions): TrainLinearResult {
  const { shape, train, validation, params } = checkOptions(options);
  const size = shape.numFeatures * shape.numOutputs + shape.numOutputs;
  const history: LinearHistoryEntry[] = [];
  const miniBatch = params.optimizer !== 'lbfgs';
  if ((options.checkpoint !== undefined || options.resumeFrom !== undefined) && !miniBatch) {
    throw new StratumError(
      'BAD_REQUEST',
      "checkpoint and resumeFrom need params.optimizer 'adam' or 'sgd'; L-BFGS is full-batch, rerun it instead",
    );
  }
  if (params.privacy !== undefined && !miniBatch) {
    throw new StratumError(
      'BAD_REQUEST',
      "params.privacy: DP-SGD needs params.optimizer 'adam' or 'sgd'; L-BFGS takes full-batch steps that DP-SGD cannot privatise",
      { details: { parameter: 'params.privacy' } },
    );
  }
  if (params.privacy !== undefined && (options.checkpoint !== undefined || options.resumeFrom !== undefined)) {
    throw new StratumError(
      'BAD_REQUEST',
      'params.privacy: a private run cannot checkpoint or resume (the privacy spent would not carry over); rerun it',
      { details: { parameter: 'params.privacy' } },
    );
  }
  if (options.checkpoint !== undefined) {
    checkCheckpointOptions({
      path: options.checkpoint.path,
      every: options.checkpoint.everyEpochs,
      name: 'everyEpochs',
    });
  }
  // Hashing the data costs a pass over a sample of it: only runs that checkpoint or resume need it.
  const fingerprint =
    options.checkpoint === undefined && options.resumeFrom === undefined
      ? undefined
      : linearFingerprint({ options, params });
  const resumed =
    options.resumeFrom === undefined || fingerprint === undefined
      ? undefined
      : readLinearCheckpoint({ path: options.resumeFrom, fingerprint, size });
  if (resumed !== undefined && resumed.epoch > params.epochs) {
    throw new StratumError(
      'BAD_REQUEST',
      `resumeFrom: the checkpoint has ${resumed.epoch} epochs, more than params.epochs (${params.epochs})`,
    );
  }
  if (resumed !== undefined) history.push(...resumed.history);
  const stopper = earlyStopper<{ theta: Float64Array }>({ rounds: params.earlyStoppingRounds, initial: resumed?.best });
  // Records one epoch; returns true when early stopping says to stop.
  const endEpoch = (state: { epoch: number; theta: Float64Array; loss?: number }): boolean => {
    const loss = state.loss ?? trainObjective({ theta: state.theta, l2: params.l2 }).loss;
    const entry: LinearHistoryEntry =
      validationData === undefined
        ? { epoch: state.epoch, loss }
        : {
            epoch: state.epoch,
            loss,
            validationLoss: linearObjective({ shape, data: validationData, theta: state.theta, l2: params.l2 }).loss,
          };
    history.push(entry);
    const stopAsked = options.onProgress?.(entry) === true;
    const stop = stopper.update({
      epoch: state.epoch,
      monitored: entry.validationLoss ?? loss,
      keep: () => ({ theta: Float64Array.from(state.theta) }),
    });
    return stop || stopAsked;
  };

  const dp =
    params.privacy === undefined
      ? undefined
      : createDpSgd({ privacy: params.privacy, rows: train.rows, batchSize: params.batchSize, seed: params.seed });
  // Last before the try: from here the worker threads (if any) run until the finally closes them.
  const prepared = prepareLinearData({
    shape,
    train,
    validation,
    optimizer: params.optimizer,
    workers: params.workers,
  });
  const { train: trainData, validation: validationData, shards } = prepared;
  const trainObjective = (
    point: Pick<LinearObjectiveOptions, 'theta' | 'l2' | 'rowIndices' | 'gradient'>,
  ): LinearObjectiveValue => shards?.evaluate(point) ?? linearObjective({ shape, data: trainData, ...point });
  let theta: Float64Array = new Float64Array(size);
  try {
    if (params.optimizer === 'lbfgs') {
      // The line search's last evaluation is the accepted point, so its loss is the epoch's loss.
      let lastLoss = NaN;
      theta = minimizeLbfgs({
        initial: theta,
        maxIterations: params.epochs,
        tolerance: params.tolerance,
        evaluate: ({ x, gradient }) => {
          const value = trainObjective({ theta: x, l2: params.l2, gradient });
          lastLoss = value.loss;
          return value.objective;
        },
        onIteration: ({ iteration, x }) => endEpoch({ epoch: iteration, theta: x, loss: lastLoss }),
      }).x;
      // Already optimal at the start (zero gradient): still report one epoch, so history is never empty.
      if (history.length === 0) endEpoch({ epoch: 1, theta });
    } else {
      theta = runMiniBatches({
        params,
        rows: train.rows,
        size,
        resumed,
        evaluate: trainObjective,
        endEpoch,
        ...(dp !== undefined && {
          private: {
            dp,
            perRow: privateRowGradient({ shape, data: trainData }),
            penalised: shape.numFeatures * shape.numOutputs,
          },
        }),
        checkpoint: options.checkpoint && {
          ...options.checkpoint,
          fingerprint: fingerprint ?? linearFingerprint({ options, params }),
          state: () => ({ history, best: stopper.best() }),
        },
      });
    }
  } finally {
    void shards?.close();
  }

  const best = stopper.best();
  const finalTheta = best?.theta ?? theta;
  const last = history[history.length - 1];
  const weights = Float32Array.from(finalTheta.subarray(0, shape.numFeatures * shape.numOutputs));
  const bias = Float32Array.from(finalTheta.subarray(shape.numFeatures * shape.numOutputs));
  return {
    objective: shape.objective,
    numFeatures: shape.numFeatures,
    numOutputs: shape.numOutputs,
    weights,
    bias,
    history,
    bestEpoch: best?.epoch ?? last?.epoch ?? 0,
    ...(dp !== undefined && { privacy: dp.report() }),
  };
}

/** One row's gradient of its own loss (no penalty), computed on this thread. */
function privateRowGradient(args: { shape: LinearShape; data: LinearData }) {
  const single = new Uint32Array(1);
  return (theta: Float64Array) => {
    // One options object per buffer, not per row: the rows of a step are many and the object is the same.
    let options: LinearObjectiveOptions | undefined;
    return (row: number, scratch: Float64Array): void => {
      single[0] = row;
      if (options?.gradient !== scratch) options = { ...args, theta, l2: 0, rowIndices: single, gradient: scratch };
      linearObjective(options);
    };
  };
}

/**
 * Adam or SGD over seeded mini-batches from `resumed` (or zeros) until `params.epochs` or early
 * stopping; returns the last weights.
 */
function runMiniBatches(args: {
  params: LinearParams;
  rows: number;
  /** Weights and biases in all. */
  size: number;
  resumed: LinearCheckpointState | undefined;
  /** The training objective and gradient at a point, over some rows. */
  evaluate: (point: Pick<LinearObjectiveOptions, 'theta' | 'l2' | 'rowIndices' | 'gradient'>) => LinearObjectiveValue;
  /** Records an epoch; true when early stopping says to stop. */
  endEpoch: (state: { epoch: number; theta: Float64Array }) => boolean;
  checkpoint:
    | {
        path: string;
        everyEpochs: number;
        fingerprint: Fingerprint;
        state: () => Pick<LinearCheckpointState, 'history' | 'best'>;
      }
    | undefined;
  /** DP-SGD instead of shuffled batches: `perRow(theta)` gives a row's gradient; the first `penalised` entries carry the L2 penalty. */
  private?: {
    dp: DpSgd;
    perRow: (theta: Float64Array) => (row: number, scratch: Float64Array) => void;
    penalised: number;
  };
}): Float64Array {
  const { params, rows, resumed, evaluate, checkpoint } = args;
  const random = seededRandom(params.seed);
  const order = new Uint32Array(rows);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const theta = resumed?.theta ?? new Float64Array(args.size);
  const size = theta.length;
  const gradient = new Float64Array(size);
  const adam = {
    m: resumed?.m ?? new Float64Array(size),
    v: resumed?.v ?? new Float64Array(size),
    step: resumed?.step ?? 0,
  };
  const firstEpoch = (resumed?.epoch ?? 0) + 1;
  // Replaying the finished epochs' shuffles restores the batch order and the generator.
  for (let epoch = 1; epoch < firstEpoch; epoch++) shuffleInPlace(order, random);
  for (let epoch = firstEpoch; epoch <= params.epochs; epoch++) {
    const step = (): void => {
      if (params.optimizer === 'sgd') {
        for (let i = 0; i < size; i++) theta[i] = (theta[i] as number) - params.learningRate * (gradient[i] as number);
      } else {
        adamStep({ theta, gradient, state: adam, learningRate: params.learningRate });
      }
    };
    if (args.private !== undefined) {
      const { dp, penalised } = args.private;
      const perRow = args.private.perRow(theta);
      for (let s = 0; s < dp.stepsPerEpoch; s++) {
        dp.privateGradient({ batch: dp.sampleBatch(), perRow, out: gradient });
        // The penalty does not depend on the data: added after the noise, it costs no privacy.
        for (let i = 0; i < penalised; i++) gradient[i] = (gradient[i] as number) + params.l2 * (theta[i] as number);
        step();
      }
    } else {
      shuffleInPlace(order, random);
      for (let start = 0; start < rows; start += params.batchSize) {
        const rowIndices = order.subarray(start, Math.min(rows, start + params.batchSize));
        evaluate({ theta, l2: params.l2, rowIndices, gradient });
        step();
      }
    }
    if (args.endEpoch({ epoch, theta })) break;
    if (checkpoint !== undefined && epoch % checkpoint.everyEpochs === 0) {
      writeLinearCheckpoint({
        path: checkpoint.path,
        fingerprint: checkpoint.fingerprint,
        state: { epoch, theta, m: adam.m, v: adam.v, step: adam.step, ...checkpoint.state() },
      });
    }
  }
  return theta;
}

function adamStep(options: {
  theta: Float64Array;
  gradient: Float64Array;
  state: { m: Float64Array; v: Float64Array; step: number };
  learningRate: number;
}): void {
  const { theta, gradient, state, learningRate } = options;
  state.step++;
  const correction1 = 1 - ADAM.beta1 ** state.step;
  const correction2 = 1 - ADAM.beta2 ** state.step;
  for (let i = 0; i < theta.length; i++) {
    const g = gradient[i] as number;
    const m = ADAM.beta1 * (state.m[i] as number) + (1 - ADAM.beta1) * g;
    const v = ADAM.beta2 * (state.v[i] as number) + (1 - ADAM.beta2) * g * g;
    state.m[i] = m;
    state.v[i] = v;
    theta[i] = (theta[i] as number) - (learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + ADAM.epsilon);
  }
}

/** Parses the parameters and checks the data, before any work. */
function checkOptions(options: TrainLinearOptions): {
  shape: LinearShape;
  train: LinearData;
  validation: LinearData | undefined;
  params: LinearParams & { workers?: number | undefined };
} {
  const { validation, ...rest } = options.params ?? {};
  const params = parseOption({ schema: optionParams, input: rest, name: 'params' });
  // The training features' finiteness is tested in the pass that builds their CSR copy.
  const checked = checkTrainingData({
    ...options,
    ...(validation !== undefined && { validation }),
    finiteFeatures: false,
  });
  const { objective, numFeatures } = options;
  const shape: LinearShape = { objective, numFeatures, numOutputs: checked.numOutputs };
  return { shape, train: checked.train, validation: checked.validation, params };
}

/** The fingerprint of a run: objective, shape, parameters that change the weights (not `epochs`, `workers`) and data hashes. */
export function linearFingerprint(args: { options: TrainLinearOptions; params: LinearParams }): Fingerprint {
  const { options, params } = args;
  const validation = options.params?.validation;
  return {
    ...dataFingerprint({ ...options, validation }),
    objective: options.objective,
    numClasses: options.numClasses ?? null,
    optimizer: params.optimizer,
    learningRate: params.learningRate,
    l2: params.l2,
    batchSize: params.batchSize,
    seed: params.seed,
    earlyStoppingRounds: params.earlyStoppingRounds ?? null,
  };
}
