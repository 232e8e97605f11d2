/**
 * Decodes a REST inference request (`POST …/infer`): JSON, or the binary tensor extension's JSON
 * header followed by raw tensor bytes.
 */
import { z } from 'zod';
import { formatIssues } from '../../errors/format-issues.ts';
import { StratumError } from '../../errors/index.ts';
import { DATATYPE_NAMES, isDatatype, type TensorValues } from '../../tensor/datatypes.ts';
import { withoutUndefined } from '../../util/without-undefined.ts';
import type { InferInput, InferRequest, Parameters, RequestedOutput } from '../types.ts';
import { decodeBinaryTensor } from './tensor-binary.ts';
import { readInferJson } from './json-tensor-reader.ts';
import { decodeJsonTensor, describe } from './tensor-json.ts';

const ParameterValue = z.union([z.string(), z.number(), z.boolean()]);
const ParametersSchema = z.record(z.string(), ParameterValue);

const MAX_DIMENSION = 2 ** 31 - 1;

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
    .max(32, 'may have at most 32 dimensions'),
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

type RequestHeader = z.infer<typeof RequestHeader>;

/** What to decode. */
export interface RestInferBody {
  /** The whole request body. */
  readonly body: Buffer;
  /** `Inference-Header-Content-Length`, when the binary extension is used. */
  readonly headerLength?: number;
  /** Largest BYTES element accepted. */
  readonly maxBytesElement: number;
}

/**
 * Decodes and structurally validates a REST inference request.
 * @throws StratumError INVALID_JSON, BAD_REQUEST, INVALID_INPUT or INVALID_PARAMETER.
 */
export function decodeRestInferRequest(source: RestInferBody): InferRequest {
  const { body, headerLength } = source;
  if (headerLength !== undefined && headerLength > body.length) {
    throw new StratumError(
      'BAD_REQUEST',
      `Inference-Header-Content-Length is ${headerLength} but the body has only ${body.length} bytes`,
    );
  }
  const jsonEnd = headerLength ?? body.length;
  const header = parseHeader(body.subarray(0, jsonEnd));
  let offset = jsonEnd;
  const inputs: InferInput[] = header.inputs.map((input, index) => {
    const datatype = input.datatype;
    if (!isDatatype(datatype)) {
      throw new StratumError(
        'INVALID_INPUT',
        `input "${input.name}": unknown datatype ${JSON.stringify(datatype)}; expected one of ${DATATYPE_NAMES.join(', ')}`,
      );
    }
    const binarySize = input.parameters?.['binary_data_size'];
    let data: TensorValues;
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isInteger(binarySize) || binarySize < 0) {
        throw new StratumError(
          'INVALID_PARAMETER',
          `input "${input.name}": binary_data_size must be a non-negative integer, got ${describe(binarySize)}`,
        );
      }
      if (input.data !== undefined) {
        throw new StratumError('INVALID_INPUT', `input "${input.name}": has both "data" and binary_data_size`);
      }
      if (headerLength === undefined) {
        throw new StratumError(
          'BAD_REQUEST',
          `input "${input.name}": binary_data_size is set but the request has no Inference-Header-Content-Length header`,
        );
      }
      if (offset + binarySize > body.length) {
        throw new StratumError(
          'BAD_REQUEST',
          `input "${input.name}": binary_data_size ${binarySize} runs past the end of the body (${body.length - offset} bytes left)`,
        );
      }
      const bytes = body.subarray(offset, offset + binarySize);
      offset += binarySize;
      data = decodeBinaryTensor({
        name: input.name,
        datatype,
        shape: input.shape,
        bytes,
        maxBytesElement: source.maxBytesElement,
      });
    } else {
      if (input.data === undefined) {
        throw new StratumError(
          'INVALID_INPUT',
          `input "${input.name}" (inputs[${index}]): has no "data" and no binary_data_size parameter`,
        );
      }
      data = decodeJsonTensor({
        name: input.name,
        datatype,
        shape: input.shape,
        data: input.data,
        maxBytesElement: source.maxBytesElement,
      });
    }
    return withoutUndefined({ name: input.name, datatype, shape: input.shape, data, parameters: input.parameters });
  });
  if (offset !== body.length) {
    throw new StratumError(
      'BAD_REQUEST',
      `the body has ${body.length - offset} bytes after the JSON header that no input's binary_data_size accounts for`,
    );
  }
  return buildRequest(header, inputs);
}

function parseHeader(bytes: Buffer): RequestHeader {
  let json: unknown;
  try {
    json = readInferJson(bytes);
  } catch (error) {
    throw new StratumError('INVALID_JSON', `the request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = RequestHeader.safeParse(json);
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid inference request: ${formatRequestIssues(parsed.error, json)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/**
 * Formats the envelope's issues, naming an input or output by its name rather than its position
 * (`input "x": shape[0] must be ≥ 0, got -1`); one without a usable name keeps its position.
 */
function formatRequestIssues(error: z.ZodError, json: unknown): string {
  return error.issues
    .map((issue) => {
      const [head, index, ...rest] = issue.path;
      if ((head !== 'inputs' && head !== 'outputs') || typeof index !== 'number')
        return formatIssues({ issues: [issue] });
      const entry = (json as Record<string, unknown[]>)[head]?.[index];
      const name = typeof entry === 'object' && entry !== null ? (entry as { name?: unknown }).name : undefined;
      const who =
        typeof name === 'string' && name !== ''
          ? `${head === 'inputs' ? 'input' : 'output'} ${JSON.stringify(name)}`
          : `${head}[${index}]`;
      const field = rest
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join('');
      if (field === '') return `${who}: ${issue.message}`;
      if (!/^(must|may) /.test(issue.message)) return `${who}: ${field}: ${issue.message}`;
      const value = valueAt(entry, rest);
      const got =
        value === undefined || typeof value === 'object'
          ? ''
          : `, got ${typeof value === 'number' ? String(value) : describe(value)}`;
      return `${who}: ${field} ${issue.message}${got}`;
    })
    .join('; ');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function buildRequest(header: RequestHeader, inputs: InferInput[]): InferRequest {
  const params = header.parameters;
  const binaryOutputs = readBool(params, 'binary_data_output') ?? false;
  const outputs: RequestedOutput[] | undefined = header.outputs?.map((o) => ({
    name: o.name,
    binary: readBool(o.parameters, 'binary_data', `output "${o.name}": `) ?? binaryOutputs,
  }));
  const priority = readInt(params, 'priority', 0);
  const timeout = readTimeout(params);
  let request: InferRequest = { inputs, binaryOutputs };
  if (header.id !== undefined) request = { ...request, id: header.id };
  if (params !== undefined) request = { ...request, parameters: params as Parameters };
  if (outputs !== undefined) request = { ...request, outputs };
  if (priority !== undefined) request = { ...request, priority };
  if (timeout !== undefined) request = { ...request, timeoutMicroseconds: timeout };
  return request;
}

/** Reads a boolean parameter. */
export function readBool(params: Parameters | undefined, key: string, where = ''): boolean | undefined {
  const value = params?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw new StratumError(
      'INVALID_PARAMETER',
      `${where}parameter "${key}" must be true or false, got ${describe(value)}`,
    );
  }
  return value;
}

/** Reads an integer parameter no smaller than `min`. */
export function readInt(params: Parameters | undefined, key: string, min: number): number | undefined {
  const value = params?.[key];
  if (value === undefined) return undefined;
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new StratumError(
      'INVALID_PARAMETER',
      `parameter "${key}" must be an integer ≥ ${min}, got ${describe(value)}`,
    );
  }
  return n;
}

/** Largest queue timeout (µs): Node's timers hold at most 2^31 − 1 ms and fire at once beyond it. */
export const MAX_TIMEOUT_MICROSECONDS = (2 ** 31 - 1) * 1000;

/** Reads the `timeout` parameter (µs). */
export function readTimeout(params: Parameters | undefined): number | undefined {
  const timeout = readInt(params, 'timeout', 0);
  if (timeout !== undefined && timeout > MAX_TIMEOUT_MICROSECONDS) {
    throw new StratumError(
      'INVALID_PARAMETER',
      `parameter "timeout" must be at most ${MAX_TIMEOUT_MICROSECONDS} µs (about 24 days), got ${timeout}; omit it for no timeout`,
    );
  }
  return timeout;
}
