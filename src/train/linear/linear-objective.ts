/**
 * The convex objectives of linear models and their gradients: squared error (regression), logistic
 * loss (binary) and softmax cross-entropy (multiclass), plus an L2 penalty on the weights (not the
 * bias). Parameters live in one Float64Array `θ = [W (F×K row-major), b (K)]` so the optimisers
 * can treat them as a flat vector.
 */
import { sigmoid } from '../common/sigmoid.ts';
import type { LinearObjective } from './linear-model.ts';
import type { SparseRows } from './sparse-rows.ts';

/** A data set in the trainer's layout. */
export interface LinearData {
  /** Row-major `N×F`; not read when `sparse` is given (it may then be empty). */
  readonly features: Float32Array;
  /**
   * The same rows in CSR, for mostly-zero features: the loss and gradient then visit only the
   * non-zeros, in the dense loops' order, so the results are the same bits.
   */
  readonly sparse?: SparseRows;
  /** N labels: targets (regression), 0/1 (binary) or class indices (multiclass). */
  readonly labels: ArrayLike<number>;
  /** N. */
  readonly rows: number;
}

/** Model shape. */
export interface LinearShape {
  readonly objective: LinearObjective;
  readonly numFeatures: number;
  readonly numOutputs: number;
}

/** Options for {@link linearObjective}. */
export interface LinearObjectiveOptions {
  readonly shape: LinearShape;
  readonly data: LinearData;
  /** Parameters `[W, b]`. */
  readonly theta: Float64Array;
  /** L2 strength λ; the penalty is `λ/2 · ‖W‖²`. */
  readonly l2: number;
  /** Rows to use; all rows when omitted. */
  readonly rowIndices?: Uint32Array;
  /** When given, overwritten with the gradient of the penalised objective. */
  readonly gradient?: Float64Array;
}

/** Value of {@link linearObjective}. */
export interface LinearObjectiveValue {
  /** Mean data loss (MSE, log-loss or cross-entropy), without the penalty. */
  readonly loss: number;
  /** `loss + λ/2 · ‖W‖²`, the quantity minimised. */
  readonly objective: number;
}

/**
 * Evaluates the mean loss over the chosen rows and, if asked, its gradient. The rows are summed in
 * {@link linearBlocks} blocks, each from zero, and the block sums are added in block order: the
 * same arithmetic whichever thread sums a block, so one thread and several give the same bits.
 */
export function linearObjective(options: LinearObjectiveOptions): LinearObjectiveValue {
  const { data, rowIndices, gradient } = options;
  const count = rowIndices === undefined ? data.rows : rowIndices.length;
  const blocks = linearBlocks(options);
  gradient?.fill(0);
  // Block 0 sums straight into `gradient` (from zero, as in a block slot); later ones into scratch.
  const scratch = gradient !== undefined && blocks > 1 ? new Float64Array(gradient.length) : undefined;
  let total = 0;
  for (let block = 0; block < blocks; block++) {
    const [start, end] = blockRows({ count, blocks, block });
    const into = block === 0 ? gradient : scratch?.fill(0);
    const sum = accumulateLinearLoss({ ...options, start, end, ...(into !== undefined && { gradient: into }) });
    total = block === 0 ? sum : total + sum;
    if (block > 0 && gradient !== undefined && scratch !== undefined) addInto(gradient, scratch);
  }
  return finishLinearObjective({ ...options, total, count });
}

/** At most this many blocks: enough for two or three threads to balance their shares. */
export const MAX_LINEAR_BLOCKS = 8;
/** Rows a block has at least. */
const MIN_BLOCK_ROWS = 128;
/**
 * Multiply-adds a block does at least per parameter: adding a block's gradient into the sum
 * costs one add per parameter, kept below an eighth of the block's own work.
 */
const MIN_WORK_PER_PARAMETER = 8;

/**
 * How many blocks {@link linearObjective} sums the chosen rows in: a function of the data and the
 * rows only, never of the thread count, so every thread count sums in the same order. One block
 * for small batches; up to {@link MAX_LINEAR_BLOCKS} when the rows' work (non-zeros times
 * outputs, twice: forward and gradient) dwarfs adding up the blocks' gradients.
 */
export function linearBlocks(options: Pick<LinearObjectiveOptions, 'shape' | 'data' | 'rowIndices'>): number {
  const { shape, data, rowIndices } = options;
  const count = rowIndices === undefined ? data.rows : rowIndices.length;
  const byRows = Math.floor(count / MIN_BLOCK_ROWS);
  if (byRows <= 1) return 1;
  const parameters = shape.numFeatures * shape.numOutputs + shape.numOutputs;
  const work = 2 * shape.numOutputs * entriesOf({ data, rowIndices, count, numFeatures: shape.numFeatures });
  const byWork = Math.floor(work / (MIN_WORK_PER_PARAMETER * parameters));
  return Math.max(1, Math.min(MAX_LINEAR_BLOCKS, byRows, byWork));
}

/** Feature entries the chosen rows hold: their non-zeros for CSR data, else rows × F. */
function entriesOf(args: {
  data: LinearData;
  rowIndices: Uint32Array | undefined;
  count: number;
  numFeatures: number;
}) {
  const { data, rowIndices, count, numFeatures } = args;
  const sparse = data.sparse;
  if (sparse === undefined) return count * numFeatures;
  const { offsets } = sparse;
  if (rowIndices === undefined) return (offsets[data.rows] as number) - (offsets[0] as number);
  let entries = 0;
  for (let i = 0; i < count; i++) {
    const row = rowIndices[i] as number;
    entries += (offsets[row + 1] as number) - (offsets[row] as number);
  }
  return entries;
}

/** Contiguous `[start, end)` positions of block `block` of `blocks` among `count` rows. */
export function blockRows(args: { count: number; blocks: number; block: number }): [number, number] {
  const { count, blocks, block } = args;
  return [Math.floor((block * count) / blocks), Math.floor(((block + 1) * count) / blocks)];
}

function addInto(sum: Float64Array, part: Float64Array): void {
  for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (part[i] as number);
}

/** Options for {@link accumulateLinearLoss}: rows `[start, end)` of `rowIndices` (or of the data). */
export interface AccumulateOptions extends LinearObjectiveOptions {
  readonly start: number;
  readonly end: number;
}

/**
 * The summed (not averaged) data loss over some rows, adding the summed gradient into `gradient`
 * when given: one block of {@link linearObjective}, which sums the blocks in a fixed order and then
 * finishes with {@link finishLinearObjective}.
 */
export function accumulateLinearLoss(options: AccumulateOptions): number {
  const { shape, data, theta, rowIndices, gradient, start, end } = options;
  const { objective, numFeatures: f, numOutputs: k } = shape;
  if (data.sparse !== undefined) {
    return k === 1
      ? accumulateSparseSingleOutput(options, data.sparse)
      : accumulateSparseMultiOutput(options, data.sparse);
  }
  if (k === 1) return accumulateSingleOutput(options);
  const biasOffset = f * k;
  const z = new Float64Array(k);
  let total = 0;
  for (let r = start; r < end; r++) {
    const row = rowIndices === undefined ? r : (rowIndices[r] as number);
    const base = row * f;
    for (let c = 0; c < k; c++) z[c] = theta[biasOffset + c] as number;
    for (let j = 0; j < f; j++) {
      const x = data.features[base + j] as number;
      if (x === 0) continue;
      for (let c = 0; c < k; c++) z[c] = (z[c] as number) + x * (theta[j * k + c] as number);
    }
    total += multiOutputRowLoss({ objective, z, label: data.labels[row] as number });
    if (gradient === undefined) continue;
    for (let j = 0; j < f; j++) {
      const x = data.features[base + j] as number;
      if (x === 0) continue;
      for (let c = 0; c < k; c++) gradient[j * k + c] = (gradient[j * k + c] as number) + x * (z[c] as number);
    }
    for (let c = 0; c < k; c++) gradient[biasOffset + c] = (gradient[biasOffset + c] as number) + (z[c] as number);
  }
  return total;
}

/**
 * {@link accumulateLinearLoss} for one output (regression, binary) without the per-output inner
 * loops; the same operations in the same order, so the same bits.
 */
function accumulateSingleOutput(options: AccumulateOptions): number {
  const { shape, data, theta, rowIndices, gradient, start, end } = options;
  const { features, labels } = data;
  const f = shape.numFeatures;
  const regression = shape.objective === 'regression';
  const bias = theta[f] as number;
  let total = 0;
  let biasGradient = gradient === undefined ? 0 : (gradient[f] as number);
  for (let r = start; r < end; r++) {
    const row = rowIndices === undefined ? r : (rowIndices[r] as number);
    const base = row * f;
    let z = bias;
    for (let j = 0; j < f; j++) {
      const x = features[base + j] as number;
      if (x !== 0) z += x * (theta[j] as number);
    }
    const label = labels[row] as number;
    total += singleOutputLoss(regression, z, label);
    if (gradient === undefined) continue;
    const dz = singleOutputDerivative(regression, z, label);
    for (let j = 0; j < f; j++) {
      const x = features[base + j] as number;
      if (x !== 0) gradient[j] = (gradient[j] as number) + x * dz;
    }
    biasGradient += dz;
  }
  if (gradient !== undefined) gradient[f] = biasGradient;
  return total;
}

/** {@link accumulateLinearLoss} over CSR rows, one output: the dense loop's operations minus the zeros. */
function accumulateSparseSingleOutput(options: AccumulateOptions, sparse: SparseRows): number {
  const { shape, data, theta, rowIndices, gradient, start, end } = options;
  const { offsets, columns, values } = sparse;
  const { labels } = data;
  const f = shape.numFeatures;
  const regression = shape.objective === 'regression';
  const bias = theta[f] as number;
  let total = 0;
  let biasGradient = gradient === undefined ? 0 : (gradient[f] as number);
  for (let r = start; r < end; r++) {
    const row = rowIndices === undefined ? r : (rowIndices[r] as number);
    const first = offsets[row] as number;
    const last = offsets[row + 1] as number;
    let z = bias;
    for (let p = first; p < last; p++) z += (values[p] as number) * (theta[columns[p] as number] as number);
    const label = labels[row] as number;
    total += singleOutputLoss(regression, z, label);
    if (gradient === undefined) continue;
    const dz = singleOutputDerivative(regression, z, label);
    // Two entries per step (distinct columns within a row, so the same sums): ~13% faster than one.
    let p = first;
    for (; p + 1 < last; p += 2) {
      const j = columns[p] as number;
      const i = columns[p + 1] as number;
      const gj = (gradient[j] as number) + (values[p] as number) * dz;
      const gi = (gradient[i] as number) + (values[p + 1] as number) * dz;
      gradient[j] = gj;
      gradient[i] = gi;
    }
    if (p < last) {
      const j = columns[p] as number;
      gradient[j] = (gradient[j] as number) + (values[p] as number) * dz;
    }
    biasGradient += dz;
  }
  if (gradient !== undefined) gradient[f] = biasGradient;
  return total;
}

/** {@link accumulateLinearLoss} over CSR rows, several outputs. */
function accumulateSparseMultiOutput(options: AccumulateOptions, sparse: SparseRows): number {
  const { shape, data, theta, rowIndices, gradient, start, end } = options;
  const { offsets, columns, values } = sparse;
  const { objective, numFeatures: f, numOutputs: k } = shape;
  const biasOffset = f * k;
  const z = new Float64Array(k);
  let total = 0;
  for (let r = start; r < end; r++) {
    const row = rowIndices === undefined ? r : (rowIndices[r] as number);
    const first = offsets[row] as number;
    const last = offsets[row + 1] as number;
    for (let c = 0; c < k; c++) z[c] = theta[biasOffset + c] as number;
    for (let p = first; p < last; p++) {
      const x = values[p] as number;
      const base = (columns[p] as number) * k;
      for (let c = 0; c < k; c++) z[c] = (z[c] as number) + x * (theta[base + c] as number);
    }
    total += multiOutputRowLoss({ objective, z, label: data.labels[row] as number });
    if (gradient === undefined) continue;
    for (let p = first; p < last; p++) {
      const x = values[p] as number;
      const base = (columns[p] as number) * k;
      for (let c = 0; c < k; c++) gradient[base + c] = (gradient[base + c] as number) + x * (z[c] as number);
    }
    for (let c = 0; c < k; c++) gradient[biasOffset + c] = (gradient[biasOffset + c] as number) + (z[c] as number);
  }
  return total;
}

/** One row's loss for one output at score `z`. */
function singleOutputLoss(regression: boolean, z: number, label: number): number {
  if (regression) {
    const residual = z - label;
    return residual * residual;
  }
  // log(1 + e^z) − y·z, written so large |z| neither overflows nor loses precision.
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - label * z;
}

/** dLoss/dz of {@link singleOutputLoss}. */
function singleOutputDerivative(regression: boolean, z: number, label: number): number {
  return regression ? 2 * (z - label) : sigmoid(z) - label;
}

/** One row's loss for scores `z` (any output count); overwrites `z` with dLoss/dz. */
function multiOutputRowLoss(args: { objective: LinearObjective; z: Float64Array; label: number }): number {
  const { objective, z, label } = args;
  const k = z.length;
  if (objective === 'regression') {
    const residual = (z[0] as number) - label;
    z[0] = 2 * residual;
    return residual * residual;
  }
  if (objective === 'binary') {
    const logit = z[0] as number;
    z[0] = sigmoid(logit) - label;
    return singleOutputLoss(false, logit, label);
  }
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, z[c] as number);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp((z[c] as number) - max);
    z[c] = e;
    sum += e;
  }
  const loss = -Math.log((z[label] as number) / sum);
  for (let c = 0; c < k; c++) z[c] = (z[c] as number) / sum - (c === label ? 1 : 0);
  return loss;
}

/** Turns summed loss and gradient over `count` rows into {@link linearObjective}'s value: means plus the L2 penalty. */
export function finishLinearObjective(
  options: Pick<LinearObjectiveOptions, 'shape' | 'theta' | 'l2' | 'gradient'> & { total: number; count: number },
): LinearObjectiveValue {
  const { shape, theta, l2, gradient, total, count } = options;
  const biasOffset = shape.numFeatures * shape.numOutputs;
  let squaredNorm = 0;
  for (let i = 0; i < biasOffset; i++) squaredNorm += (theta[i] as number) ** 2;
  if (gradient !== undefined) {
    for (let i = 0; i < gradient.length; i++) {
      const penalty = i < biasOffset ? l2 * (theta[i] as number) : 0;
      gradient[i] = (gradient[i] as number) / count + penalty;
    }
  }
  const loss = total / count;
  return { loss, objective: loss + (l2 / 2) * squaredNorm };
}
