/**
 * Warming a model version up before it takes traffic: every instance runs once per warm-up batch
 * size (the first run of a session allocates and plans, so the first real request would pay for
 * it), with synthetic inputs (zeros, or random values in a declared range) or with sample requests
 * (a model folder's declared file, or the rows a training run stored with its version).
 *
 * A warm-up that fails does not keep the version from serving: zeros are not a valid input for
 * every model (a shape, an index, a divisor, a string to parse), and such a model still answers
 * real requests. The report says what ran and why it failed; the caller logs and exposes it.
 */
import { mulberry32 } from '../random/mulberry32.ts';
import type { WireTensor } from '../runtime/messages.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import { DATATYPES, type Datatype, elementCount, INT_RANGES, type NumericArray } from '../tensor/datatypes.ts';
import type { ResolvedWarmup } from './model-config.ts';
import type { Signature, TensorSpec } from '../tensor/signature.ts';
import type { InferInput, InferRequest } from './types.ts';
import { validateRequest } from './validate-request.ts';

/** Where warm-up inputs came from. */
export type WarmupSource = 'zeros' | 'random' | 'requests' | 'samples' | 'none';

/** Sample requests to warm up with, instead of synthetic inputs. */
export interface WarmupRequests {
  /** `requests`: a model folder's declared file; `samples`: rows stored by a training run. */
  readonly source: 'requests' | 'samples';
  readonly requests: readonly InferRequest[];
}

/** What a warm-up did. */
export interface WarmupReport {
  readonly source: WarmupSource;
  /** Runs attempted (per instance and batch size, or per instance and request). */
  readonly runs: number;
  readonly failures: number;
  /** Why the first failed run failed. */
  readonly error?: string;
}

/** Options of {@link runWarmup}. */
export interface WarmupOptions {
  readonly key: string;
  readonly pool: RuntimePool;
  readonly signature: Signature;
  readonly instances: number;
  /** Whether the version stacks requests along dim 0 (synthetic inputs then use the batch sizes). */
  readonly batched: boolean;
  readonly settings: ResolvedWarmup;
  /** Replaces the synthetic inputs when given and not empty. */
  readonly requests?: WarmupRequests;
  /** `model "m" version 1`, for messages. */
  readonly target: string;
}

/** A line for a status or a log when the warm-up failed, else undefined. */
export function warmupFailure(report: WarmupReport): string | undefined {
  if (report.failures === 0) return undefined;
  return `warm-up with ${report.source} failed (${report.failures} of ${report.runs} runs), serving anyway: ${report.error ?? 'no reason given'}`;
}

/** A warm-up that ran nothing. */
export const NO_WARMUP: WarmupReport = Object.freeze({ source: 'none', runs: 0, failures: 0 });

/**
 * Warms every instance up. Never throws for a failed run: the failure is in the report.
 *
 * @example
 * ```ts
 * const report = await runWarmup({ key, pool, signature, instances: 2, batched: true, settings, target })
 * if (report.failures > 0) logger.warn({ ...report }, 'warm-up failed; serving anyway')
 * ```
 */
export async function runWarmup(options: WarmupOptions): Promise<WarmupReport> {
  const samples = options.requests;
  if (samples !== undefined && samples.requests.length > 0) return warmWithRequests(options, samples);
  return warmWithSynthetic(options);
}

async function warmWithRequests(options: WarmupOptions, samples: WarmupRequests): Promise<WarmupReport> {
  const { key, pool, signature, instances, batched, target } = options;
  const fetches = signature.outputs.map((o) => o.name);
  let runs = 0;
  let failures = 0;
  let error: string | undefined;
  for (const [index, request] of samples.requests.entries()) {
    for (let instance = 0; instance < instances; instance++) {
      runs++;
      try {
        const validated = validateRequest({ request, signature, batched, target });
        await pool.run({ key, instance, feeds: freshFeeds(signature.inputs, validated.inputs), fetches });
      } catch (err) {
        failures++;
        error ??= `${samples.source} request ${index + 1}: ${(err as Error).message}`;
        break;
      }
    }
  }
  return { source: samples.source, runs, failures, ...(error !== undefined && { error }) };
}

async function warmWithSynthetic(options: WarmupOptions): Promise<WarmupReport> {
  const { key, pool, signature, instances, batched, settings } = options;
  if (settings.batchSizes.length === 0) return NO_WARMUP;
  const sizes = batched ? settings.batchSizes : [1];
  const source = settings.data === 'zeros' ? 'zeros' : 'random';
  const random = settings.data === 'zeros' ? undefined : settings.data.random;
  const next = mulberry32(random?.seed ?? 1);
  const fetches = signature.outputs.map((o) => o.name);
  let runs = 0;
  for (const size of sizes) {
    for (let instance = 0; instance < instances; instance++) {
      const feeds = signature.inputs.map((spec) => {
        const dims = spec.shape.map((d, i) => (d === -1 ? (i === 0 && batched ? size : 1) : d));
        const data =
          random === undefined
            ? zeros(spec.datatype, elementCount(dims))
            : randomValues({ datatype: spec.datatype, count: elementCount(dims), range: random, next });
        return { name: spec.name, type: DATATYPES[spec.datatype].ort, dims, data };
      });
      runs++;
      try {
        await pool.run({ key, instance, feeds, fetches });
      } catch (err) {
        // The same inputs fail the same way at other sizes and on other instances: stop here.
        const shapes = feeds.map((f) => `"${f.name}" [${f.dims.join(',')}]`).join(', ');
        return { source, runs, failures: 1, error: `${source} inputs ${shapes}: ${(err as Error).message}` };
      }
    }
  }
  return { source, runs, failures: 0 };
}

// Each run transfers its feeds to a worker, so a request replayed on several instances needs its
// own buffers every time.
function freshFeeds(specs: readonly TensorSpec[], inputs: readonly InferInput[]): WireTensor[] {
  const utf8 = new TextDecoder();
  return specs.map((spec, index) => {
    const input = inputs[index] as InferInput;
    const data = Array.isArray(input.data)
      ? input.data.map((b) => utf8.decode(b))
      : (input.data as NumericArray as Float32Array).slice();
    return { name: spec.name, type: DATATYPES[spec.datatype].ort, dims: [...input.shape], data };
  });
}

function zeros(datatype: Datatype, count: number): WireTensor['data'] {
  const Ctor = DATATYPES[datatype].array;
  return Ctor === null ? new Array<string>(count).fill('') : new Ctor(count);
}

/**
 * Uniform values in `[min, max]`: integers are drawn from the integers of the range (clamped to the
 * datatype's), booleans are fair coins, and strings hold the decimal text of a number in the range
 * (so a model that parses strings gets parseable ones).
 */
function randomValues(options: {
  datatype: Datatype;
  count: number;
  range: { readonly min: number; readonly max: number };
  next: () => number;
}): WireTensor['data'] {
  const { datatype, count, range, next } = options;
  const uniform = (): number => range.min + next() * (range.max - range.min);
  switch (datatype) {
    case 'FP32':
      return Float32Array.from({ length: count }, uniform);
    case 'FP64':
      return Float64Array.from({ length: count }, uniform);
    case 'FP16':
      return Uint16Array.from({ length: count }, () => halfBits(uniform()));
    case 'BOOL':
      return Uint8Array.from({ length: count }, () => (next() < 0.5 ? 0 : 1));
    case 'BYTES':
      return Array.from({ length: count }, () => String(Math.fround(uniform())));
    case 'INT64':
    case 'UINT64': {
      const lo = Math.ceil(datatype === 'UINT64' ? Math.max(0, range.min) : range.min);
      const hi = Math.max(lo, Math.floor(range.max));
      const draw = (): bigint => BigInt(lo + Math.floor(next() * (hi - lo + 1)));
      return datatype === 'INT64'
        ? BigInt64Array.from({ length: count }, draw)
        : BigUint64Array.from({ length: count }, draw);
    }
    default: {
      const [typeLo, typeHi] = INT_RANGES[datatype] ?? [0, 0];
      const lo = Math.min(typeHi, Math.max(typeLo, Math.ceil(range.min)));
      const hi = Math.max(lo, Math.min(typeHi, Math.floor(range.max)));
      const out = new (DATATYPES[datatype].array as Int32ArrayConstructor)(count);
      for (let i = 0; i < count; i++) out[i] = lo + Math.floor(next() * (hi - lo + 1));
      return out;
    }
  }
}

/** IEEE half-precision bits of `value`, rounded to nearest (ties away from zero is close enough for warm-up data). */
function halfBits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (Number.isNaN(value)) return 0x7e00;
  if (abs >= 65520) return sign | 0x7c00;
  if (abs < 2 ** -24) return sign;
  if (abs < 2 ** -14) return sign | Math.round(abs / 2 ** -24);
  const exponent = Math.floor(Math.log2(abs));
  const mantissa = Math.round((abs / 2 ** exponent - 1) * 1024);
  // Rounding up the mantissa may carry into the exponent (1.9999 → 2.0).
  return mantissa === 1024 ? sign | ((exponent + 16) << 10) : sign | ((exponent + 15) << 10) | mantissa;
}
