/**
 * The output's columns: the pass-through ones, then each written model output flattened — one
 * column for a `[batch]` or `[batch, 1]` output, `name_0 … name_{k-1}` for `[batch, k]` — the same
 * in CSV, JSON Lines and Parquet. A classifier's `label` is written as its class name and its
 * `probabilities` columns are named after the classes (`stratum.classes`); a row the model gives
 * no prediction (label -1, NaN) gets empty cells.
 */
import { StratumError } from '../../errors/index.ts';
import type { WireTensor, WireValueMetadata } from '../../runtime/messages.ts';

/** A column's type in a Parquet output. */
export type ColumnKind = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'BOOLEAN';

/** One output column. */
export interface OutputColumn {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** One written model output. */
interface OutputPlan {
  readonly output: string;
  readonly width: number;
  /** Class names for a `label` output. */
  readonly classes?: readonly string[];
}

/** The output columns and how to fill them from a run's outputs. */
export interface OutputsPlan {
  readonly columns: readonly OutputColumn[];
  /** The model outputs to fetch, in order. */
  readonly fetches: readonly string[];
  /** Appends row `row`'s output values (after its pass-through values) to `values`. */
  valuesOf(outputs: readonly WireTensor[], row: number, values: unknown[]): void;
}

const LABEL = 'label';
const PROBABILITIES = 'probabilities';

/** Plans the output columns of `outputs` (every model output by default). */
export function planOutputs(options: {
  passThrough: readonly string[];
  modelOutputs: readonly WireValueMetadata[];
  outputs?: readonly string[] | undefined;
  classes?: readonly string[] | undefined;
}): OutputsPlan {
  const { modelOutputs, classes } = options;
  const chosen = options.outputs ?? modelOutputs.map((o) => o.name);
  const columns: OutputColumn[] = options.passThrough.map((name) => ({ name, kind: 'VARCHAR' }));
  const plans: OutputPlan[] = chosen.map((name) => {
    const meta = modelOutputs.find((o) => o.name === name);
    if (meta === undefined) {
      throw new StratumError(
        'BAD_REQUEST',
        `batch spec: outputs: the model has no output "${name}" (outputs: ${modelOutputs.map((o) => o.name).join(', ')})`,
        { details: { path: ['outputs'] } },
      );
    }
    const shape = meta.shape ?? [];
    const inner = shape.slice(1);
    if (!inner.every((d) => typeof d === 'number' && d > 0)) {
      throw new StratumError(
        'BAD_REQUEST',
        `model output "${name}" has shape [${shape.join(', ')}]: a batch writes outputs of a fixed width per row (leave it out with outputs)`,
      );
    }
    const width = (inner as number[]).reduce((a, b) => a * b, 1);
    const numeric = meta.type === 'string' ? 'VARCHAR' : meta.type?.startsWith('int') === true ? 'BIGINT' : 'DOUBLE';
    const kind: ColumnKind = meta.type === 'bool' ? 'BOOLEAN' : numeric;
    const named = name === LABEL && width === 1 && classes !== undefined && kind === 'BIGINT';
    if (width === 1) columns.push({ name, kind: named ? 'VARCHAR' : kind });
    else {
      const suffixes =
        name === PROBABILITIES && classes?.length === width ? classes : Array.from({ length: width }, (_, k) => `${k}`);
      for (const suffix of suffixes) columns.push({ name: `${name}_${suffix}`, kind });
    }
    return { output: name, width, ...(named && { classes }) };
  });
  return {
    columns,
    fetches: plans.map((p) => p.output),
    valuesOf(outputs, row, values) {
      for (let o = 0; o < plans.length; o++) {
        const plan = plans[o] as OutputPlan;
        const data = (outputs[o] as WireTensor).data as ArrayLike<unknown>;
        const base = row * plan.width;
        for (let k = 0; k < plan.width; k++) {
          const value = data[base + k];
          if (plan.classes !== undefined) {
            const label = Number(value);
            values.push(label >= 0 ? (plan.classes[label] ?? label) : null);
          } else if (typeof value === 'bigint') values.push(Number(value));
          else if (typeof value === 'number' && Number.isNaN(value)) values.push(null);
          else values.push(value);
        }
      }
    },
  };
}
