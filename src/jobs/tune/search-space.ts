/**
 * The search space of a tuning spec: parameter paths of the training spec (`model.params.maxDepth`)
 * → a distribution. Each path is checked against the trainer's own parameter schema — the one
 * `model.params` is parsed with — so a path that does not exist, a range reaching outside what the
 * trainer accepts, or a `uniform` over an integer parameter is refused before any trial runs, with
 * the path in the message.
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import { describeRange } from '../../train/common/param-schema.ts';
import { gbdtParams } from '../../train/gbdt/gbdt-params.ts';
import { linearParams } from '../../train/linear/linear-params.ts';
import { mlpParams } from '../../train/mlp/mlp-params.ts';
import type { TrainSpec } from '../../train/run/train-spec.ts';

const pair = z
  .tuple([z.number(), z.number()])
  .refine(([a, b]) => a < b, { error: 'needs [low, high] with low < high' });
const intPair = z
  .tuple([z.number().int(), z.number().int()])
  .refine(([a, b]) => a < b, { error: 'needs [low, high] with low < high' });

/** One parameter's distribution. */
export const DistributionSchema = z.union([
  /** Uniform on [a, b]. */
  z.strictObject({ uniform: pair }),
  /** Uniform in log space on [a, b], a > 0 (learning rates, penalties). */
  z.strictObject({ loguniform: pair.refine(([a]) => a > 0, { error: 'needs a low end > 0' }) }),
  /** An integer in [a, b], both ends included. */
  z.strictObject({ int: intPair }),
  /** One of the values (numbers, words, layer lists…). */
  z.strictObject({ choice: z.array(z.json()).min(1).max(256) }),
]);

/** One parameter's distribution. */
export type Distribution = z.infer<typeof DistributionSchema>;

/** Parameter path → distribution, as written under `space:`. */
export const SearchSpaceSchema = z
  .record(
    z.string().regex(/^[A-Za-z][\w.]*$/, { error: 'must be a parameter path like model.params.maxDepth' }),
    DistributionSchema,
  )
  .refine((space) => Object.keys(space).length > 0, { error: 'needs at least one parameter' });

/** A parsed search space. */
export type SearchSpace = z.infer<typeof SearchSpaceSchema>;

/** A point of the space: parameter path → value. */
export type Point = Readonly<Record<string, unknown>>;

const PARAM_SCHEMAS = { gbdt: gbdtParams, mlp: mlpParams, linear: linearParams } as const;
const PARAMS_PREFIX = 'model.params.';

/** The parameter that counts a trial's resource (steps) for each model kind. */
export const RESOURCE_PARAM: Readonly<Record<TrainSpec['model']['kind'], string>> = {
  gbdt: 'numTrees',
  mlp: 'epochs',
  linear: 'epochs',
};

function refuse(path: string, message: string): never {
  throw new StratumError('BAD_REQUEST', `invalid tuning spec: space.${path}: ${message}`, {
    details: { path: `space.${path}` },
  });
}

/**
 * Checks every path and range of `space` against the parameter schema of `model`'s kind.
 *
 * @throws StratumError BAD_REQUEST naming the path, e.g. `space.model.params.maxDepth: int [0, 8] reaches outside the trainer's range: an integer in [1, 30]`.
 */
export function checkSearchSpace(space: SearchSpace, model: TrainSpec['model']): void {
  const schema = PARAM_SCHEMAS[model.kind];
  const known = Object.keys(schema.shape);
  for (const [path, distribution] of Object.entries(space)) {
    if (!path.startsWith(PARAMS_PREFIX)) {
      refuse(path, `only the model's parameters can be tuned; write model.params.<name> (one of ${known.join(', ')})`);
    }
    const name = path.slice(PARAMS_PREFIX.length);
    const field = (schema.shape as Record<string, z.ZodType>)[name];
    if (field === undefined) {
      refuse(path, `a ${model.kind} model has no parameter "${name}"; it has ${known.join(', ')}`);
    }
    checkDistribution({ path, distribution, field });
  }
}

function checkDistribution(args: { path: string; distribution: Distribution; field: z.ZodType }): void {
  const { path, distribution, field } = args;
  const json = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as {
    type?: string;
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
    exclusiveMaximum?: number;
  };
  const accepts = (value: unknown): boolean => field.safeParse(value).success;
  if ('choice' in distribution) {
    distribution.choice.forEach((value, i) => {
      if (!accepts(value))
        refuse(`${path}.choice[${i}]`, `${JSON.stringify(value)} is not a value the trainer accepts`);
    });
    return;
  }
  const [kind, [low, high]] = Object.entries(distribution)[0] as [string, [number, number]];
  if (json.type !== 'number' && json.type !== 'integer') {
    refuse(path, `${kind} needs a numeric parameter; use choice for this one`);
  }
  if (kind !== 'int' && json.type === 'integer')
    refuse(path, `the parameter is an integer; use int: [${low}, ${high}]`);
  if (!accepts(low) || !accepts(high)) {
    const range = {
      ...(json.minimum !== undefined && { min: json.minimum }),
      ...(json.exclusiveMinimum !== undefined && { gt: json.exclusiveMinimum }),
      ...(json.maximum !== undefined && { max: json.maximum }),
      ...(json.exclusiveMaximum !== undefined && { lt: json.exclusiveMaximum }),
    };
    const words = describeRange(range, json.type === 'integer' ? 'integer' : 'number');
    refuse(path, `${kind} [${low}, ${high}] reaches outside the trainer's range: ${words}`);
  }
}

/** The training spec with a point's values set (a new object; `spec` is left as it is). */
export function applyPoint(spec: TrainSpec, point: Point): TrainSpec {
  const params: Record<string, unknown> = { ...spec.model.params };
  for (const [path, value] of Object.entries(point)) params[path.slice(PARAMS_PREFIX.length)] = value;
  return { ...spec, model: { ...spec.model, params } as TrainSpec['model'] };
}

/** The path of the resource parameter of a model kind (`model.params.numTrees`). */
export function resourcePath(model: TrainSpec['model']): string {
  return `${PARAMS_PREFIX}${RESOURCE_PARAM[model.kind]}`;
}

/** The resource budget a spec gives each trial (its numTrees or epochs). */
export function resourceOf(model: TrainSpec['model']): number {
  const params = model.params as Record<string, unknown>;
  return params[RESOURCE_PARAM[model.kind]] as number;
}

/** The space's parameters in a fixed order (by path), so a seed gives the same draws everywhere. */
export function orderedParams(space: SearchSpace): [string, Distribution][] {
  return Object.entries(space).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
