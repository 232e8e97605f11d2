/**
 * Shared helpers of the REST suites: error-reply assertions, the binary tensor extension's framing
 * in both directions, and reference outputs from onnxruntime-node run directly on the fixture
 * bytes the server loads.
 */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { ERROR_CODES, type ErrorCode } from '../../../src/errors/codes.ts';
import { FIXTURES, type FixtureName } from '../../../src/onnx/fixtures.ts';
import type { StratumServer } from '../../../src/server/stratum-server.ts';
import type { Tolerance } from '../../helpers/assert-close.ts';
import { injectJson } from '../../helpers/test-server.ts';

/** What {@link injectJson} resolves to. */
export type Reply = Awaited<ReturnType<typeof injectJson>>;

/** An output tensor of a JSON inference response. */
export interface JsonOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly data?: unknown[];
  readonly parameters?: Record<string, unknown>;
}

/** The JSON part of an inference response. */
export interface InferReply {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: JsonOutput[];
}

/**
 * Asserts an error reply: the status of `code` in the catalogue, a JSON body whose `error` is a
 * non-empty string containing every fragment of `includes`, and the code itself.
 */
export function assertError(res: Reply, options: { code: ErrorCode; includes?: readonly string[] }): string {
  const body = res.json as { error?: unknown; code?: unknown } | undefined;
  const context = `reply ${res.status} ${res.raw.toString('utf8').slice(0, 300)}`;
  assert.equal(res.status, ERROR_CODES[options.code].http, context);
  assert.ok(body !== undefined && typeof body.error === 'string' && body.error.length > 0, `error string: ${context}`);
  assert.equal(body.code, options.code, context);
  for (const fragment of options.includes ?? []) {
    assert.ok(
      body.error.includes(fragment),
      `error ${JSON.stringify(body.error)} should include ${JSON.stringify(fragment)}`,
    );
  }
  return body.error;
}

/** Deterministic MLP input rows in [0, 1). */
export function mlpRows(rows: number, seed = 0): number[] {
  return Array.from({ length: rows * 784 }, (_, i) => ((i * 7919 + seed * 104_729) % 1000) / 1000);
}

/** A valid MLP request body. */
export function mlpRequest(rows = 1, seed = 0): object {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 784], data: mlpRows(rows, seed) }] };
}

/** Asserts that a valid MLP request still succeeds (the server survived what came before). */
export async function assertServesMlp(server: StratumServer): Promise<void> {
  const res = await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest(2, 3) });
  assert.equal(res.status, 200, res.raw.toString('utf8').slice(0, 300));
  const out = (res.json as InferReply).outputs[0];
  assert.deepEqual(out?.shape, [2, 10]);
}

const sessions = new Map<FixtureName, Promise<ort.InferenceSession>>();

/** An onnxruntime-node session over the same fixture bytes the server loads (one per fixture). */
export function referenceSession(name: FixtureName): Promise<ort.InferenceSession> {
  let session = sessions.get(name);
  if (session === undefined) {
    session = ort.InferenceSession.create(FIXTURES[name].build());
    sessions.set(name, session);
  }
  return session;
}

/** Runs a fixture directly in onnxruntime-node and returns every output as a plain array. */
export async function referenceRun(
  name: FixtureName,
  feeds: Record<string, { type: ort.Tensor.Type; data: ort.Tensor.DataType; dims: readonly number[] }>,
): Promise<Record<string, { dims: readonly number[]; data: unknown[] }>> {
  const session = await referenceSession(name);
  const tensors: Record<string, ort.Tensor> = {};
  for (const [key, f] of Object.entries(feeds)) tensors[key] = new ort.Tensor(f.type, f.data, f.dims);
  const results = await session.run(tensors);
  const out: Record<string, { dims: readonly number[]; data: unknown[] }> = {};
  for (const [key, t] of Object.entries(results))
    out[key] = { dims: t.dims, data: Array.from(t.data as ArrayLike<unknown>) };
  return out;
}

/** How close a served output must be to onnxruntime run directly (for `assertClose`). */
export const TOLERANCE: Tolerance = Object.freeze({ atol: 1e-5, rtol: 1e-5 });

/** A request body in the binary tensor extension: JSON header, then the blobs in order. */
export function binaryBody(
  header: object,
  blobs: readonly Uint8Array[],
  padding = '',
): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header) + padding, 'utf8');
  return {
    body: Buffer.concat([json, ...blobs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))]),
    headerLength: json.length,
  };
}

/** POSTs a binary-extension body. */
export function injectBinary(
  server: StratumServer,
  options: { url: string; header: object; blobs: readonly Uint8Array[]; padding?: string },
): Promise<Reply> {
  const { body, headerLength } = binaryBody(options.header, options.blobs, options.padding);
  return injectJson(server, {
    url: options.url,
    body,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
  });
}

/** A binary-extension response split into its JSON header and each binary output's bytes. */
export function parseBinaryReply(res: Reply): { json: InferReply; blobs: Map<string, Buffer> } {
  const raw = res.headers['inference-header-content-length'];
  assert.equal(typeof raw, 'string', 'Inference-Header-Content-Length on the response');
  const headerLength = Number(raw);
  const json = JSON.parse(res.raw.subarray(0, headerLength).toString('utf8')) as InferReply;
  const blobs = new Map<string, Buffer>();
  let offset = headerLength;
  for (const o of json.outputs) {
    const size = o.parameters?.['binary_data_size'];
    if (size === undefined) continue;
    assert.equal(typeof size, 'number');
    blobs.set(o.name, res.raw.subarray(offset, offset + (size as number)));
    offset += size as number;
  }
  assert.equal(offset, res.raw.length, 'the binary blobs account for the whole body');
  return { json, blobs };
}

/** Copies bytes into a fresh, aligned buffer and views them as `Ctor`. */
export function view<T>(bytes: Uint8Array, Ctor: new (buffer: ArrayBuffer) => T): T {
  // new Uint8Array(bytes) copies; Buffer#slice would not (it is a view into a shared pool).
  return new Ctor(new Uint8Array(bytes).buffer);
}

/** BYTES elements in the binary encoding: each a 4-byte little-endian length, then the bytes. */
export function encodeBytesElements(values: readonly string[]): Buffer {
  return Buffer.concat(
    values.map((s) => {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return Buffer.concat([len, b]);
    }),
  );
}

/** Decodes BYTES elements from the binary encoding. */
export function decodeBytesElements(bytes: Buffer): string[] {
  const out: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const len = bytes.readUInt32LE(offset);
    out.push(bytes.subarray(offset + 4, offset + 4 + len).toString('utf8'));
    offset += 4 + len;
  }
  return out;
}

/** The `model_stats[0]` of a model's statistics. */
export async function modelStats(
  server: StratumServer,
  model: string,
): Promise<{ inference_count: number; execution_count: number; batch_stats: { batch_size: number }[] }> {
  const res = await injectJson(server, { url: `/v2/models/${model}/stats` });
  assert.equal(res.status, 200);
  const stats = (
    res.json as {
      model_stats: { inference_count: number; execution_count: number; batch_stats: { batch_size: number }[] }[];
    }
  ).model_stats[0];
  assert.ok(stats, `stats of ${model}`);
  return stats;
}
