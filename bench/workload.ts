/**
 * The benchmarked models and the exact request bytes every row of the bench sends: one batch-1
 * request per model in each wire format (REST JSON, REST binary tensor extension, gRPC with
 * raw_input_contents), written once to files the load generators read.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { loadInferenceProto } from '../src/api/grpc/inference-proto.ts';
import { FIXTURES } from '../src/onnx/fixtures.ts';
import { seededRandom } from '../src/onnx/fixtures/seeded-random.ts';

/** The models the bench serves. */
export const BENCH_MODELS = Object.freeze(['mlp', 'cnn', 'transformer'] as const);
/** A benchmarked model. */
export type BenchModel = (typeof BENCH_MODELS)[number];

/** The wire formats; `json` and `binary` are REST. */
export const PROTOCOLS = Object.freeze(['json', 'binary', 'grpc'] as const);
/** A wire format. */
export type Protocol = (typeof PROTOCOLS)[number];

/** A request body on disk. */
export interface RequestFile {
  readonly path: string;
  /** Inference-Header-Content-Length (binary only). */
  readonly headerLength?: number;
}

/**
 * `load/rest-load.ts`'s arguments naming the server's port, `model`'s inference route and the
 * request body (with its binary header's length when it has one).
 */
export function restLoadTarget(port: number, model: string, file: RequestFile): string[] {
  return [
    '--port',
    String(port),
    '--path',
    `/v2/models/${model}/infer`,
    '--body',
    file.path,
    ...(file.headerLength === undefined ? [] : ['--header-length', String(file.headerLength)]),
  ];
}

/** The request files of one model. */
export type ModelRequests = Readonly<Record<Protocol, RequestFile>>;

/** The single input of a model, at batch 1. */
export function inputOf(model: BenchModel): { name: string; shape: number[] } {
  const spec = FIXTURES[model].inputs[0];
  if (spec?.shape === undefined) throw new Error(`fixture ${model} has no input with a shape`);
  return { name: spec.name, shape: spec.shape.map((d) => (typeof d === 'number' ? d : 1)) };
}

/** Writes the three request bodies of `model` into `dir`. */
export async function writeRequests(dir: string, model: BenchModel): Promise<ModelRequests> {
  const { name, shape } = inputOf(model);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = seededRandom(7).uniform({ length: count, limit: 1 });
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);

  const json = JSON.stringify({ inputs: [{ name, shape, datatype: 'FP32', data: Array.from(data) }] });
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name, shape, datatype: 'FP32', parameters: { binary_data_size: raw.byteLength } }],
      parameters: { binary_data_output: true },
    }),
  );
  const definition = (loadInferenceProto()['inference'] as grpc.GrpcObject)[
    'GRPCInferenceService'
  ] as grpc.ServiceClientConstructor;
  const serialize = (definition.service['ModelInfer'] as grpc.MethodDefinition<object, unknown>).requestSerialize;
  const grpcBody = serialize({
    model_name: model,
    inputs: [{ name, datatype: 'FP32', shape }],
    raw_input_contents: [raw],
  });

  const files: ModelRequests = {
    json: { path: join(dir, `${model}.json`) },
    binary: { path: join(dir, `${model}.bin`), headerLength: header.byteLength },
    grpc: { path: join(dir, `${model}.pb`) },
  };
  await writeFile(files.json.path, json);
  await writeFile(files.binary.path, Buffer.concat([header, raw]));
  await writeFile(files.grpc.path, grpcBody);
  return files;
}
