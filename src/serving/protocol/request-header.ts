/**
 * The inference request's JSON (the whole REST body, or the binary extension's header): its zod
 * schema, which defines it and words the errors, and a hand-written check of the shapes clients
 * actually send, which the hot path runs first. Running the schema cost ≈ 5% of the main
 * thread's time per request (docs/BENCHMARKS.md, issue 14); the check costs a fraction of that.
 */
import { z } from 'zod';

const ParameterValue = z.union([z.string(), z.number(), z.boolean()]);
const ParametersSchema = z.record(z.string(), ParameterValue);

const MAX_DIMENSION = 2 ** 31 - 1;
const MAX_DIMENSIONS = 32;

/** One entry of `inputs`, as the decoder checks it (the API reference documents it from this). */
export const InputHeader = z.object({
  name: z.string().min(1, 'must be a non-empty string'),
  datatype: z.string({ error: 'must be a datatype name such as "FP32"' }),
  shape: z
    .array(
      z
        .number({ error: 'must be an integer' })
        .int('must be an integer')
        .min(0, 'must be ≥ 0')
        .max(MAX_DIMENSION, `must be at most ${MAX_DIMENSION}`),
      { error: 'must be an array of dimensions' },
    )
    .max(MAX_DIMENSIONS, `may have at most ${MAX_DIMENSIONS} dimensions`),
  parameters: ParametersSchema.optional(),
  data: z.unknown().optional(),
});

/** One entry of `outputs`, as the decoder checks it. */
export const OutputHeader = z.object({
  name: z.string().min(1, 'must be a non-empty string'),
  parameters: ParametersSchema.optional(),
});

// `inputs` may be empty or left out: a model with no inputs (a graph of constants) is called with
// `[]` or `{}`. Whether the inputs fit the model is the signature's business (validateRequest).
/** The request's JSON (the whole body, or the binary extension's header), as the decoder checks it. */
export const RequestHeader = z.object({
  id: z.string().optional(),
  parameters: ParametersSchema.optional(),
  inputs: z.array(InputHeader).default([]),
  outputs: z.array(OutputHeader).optional(),
});

/** A checked request header. */
export type RequestHeader = z.infer<typeof RequestHeader>;

/**
 * The header as {@link RequestHeader} would return it, when `json` has the common shape and
 * passes every rule of the schema; undefined when it does not (the caller then runs the schema,
 * which accepts or words the error). It never accepts what the schema refuses
 * (test/serving/request-header.test.ts compares the two on generated headers).
 *
 * The schema returns copies without unknown keys; this returns `json` itself, unknown keys and
 * all, so callers read the declared fields only. It declines, rather than copies, a `parameters`
 * object with a `__proto__` key (the schema's copy drops it) and a header without `inputs`.
 */
export function checkRequestHeader(json: unknown): RequestHeader | undefined {
  if (!isObject(json)) return undefined;
  const { id, parameters, inputs, outputs } = json as Record<string, unknown>;
  if (id !== undefined && typeof id !== 'string') return undefined;
  if (parameters !== undefined && !isParameters(parameters)) return undefined;
  if (!Array.isArray(inputs)) return undefined;
  for (let i = 0; i < inputs.length; i++) if (!isInput(inputs[i])) return undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) return undefined;
    for (let i = 0; i < outputs.length; i++) if (!isOutput(outputs[i])) return undefined;
  }
  return json as RequestHeader;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInput(value: unknown): boolean {
  if (!isObject(value)) return false;
  const { name, datatype, shape, parameters } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0 || typeof datatype !== 'string') return false;
  if (!Array.isArray(shape) || shape.length > MAX_DIMENSIONS) return false;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_DIMENSION) return false;
  }
  return parameters === undefined || isParameters(parameters);
}

function isOutput(value: unknown): boolean {
  if (!isObject(value)) return false;
  const { name, parameters } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0) return false;
  return parameters === undefined || isParameters(parameters);
}

function isParameters(value: unknown): boolean {
  if (!isObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (key === '__proto__') return false;
    const v: unknown = (value as Record<string, unknown>)[key];
    if (typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  }
  return true;
}
