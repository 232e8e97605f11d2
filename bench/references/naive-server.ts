/**
 * Naive server: what a first attempt looks like. Fastify (Stratum's settings) calls onnxruntime's
 * `session.run` once per request on the main thread: no batching, no worker threads. It accepts
 * the same REST JSON and binary-extension requests and answers in the same formats, with only the
 * checks a quick prototype would make.
 *
 *   node --import tsx bench/references/naive-server.ts --models <repo> --intra-op-threads 2
 * prints {"httpPort": N}
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyRequest } from 'fastify';
import * as ort from 'onnxruntime-node';
import { createBenchFastify, serveAndAnnounce } from './fastify-app.ts';

interface Input {
  name: string;
  shape: number[];
  datatype: string;
  data?: number[];
  parameters?: { binary_data_size?: number };
}

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    'intra-op-threads': { type: 'string', default: '2' },
    only: { type: 'string' },
  },
  strict: true,
});
if (values.models === undefined) throw new Error('--models <repo> is required');
const names = (values.only ?? 'mlp,cnn,transformer').split(',');
const sessions = new Map<string, ort.InferenceSession>();
for (const name of names) {
  const bytes = readFileSync(join(values.models, name, '1', 'model.onnx'));
  sessions.set(
    name,
    await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: Number(values['intra-op-threads']),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    }),
  );
}

const app = createBenchFastify();
app.post('/v2/models/:model/infer', async (req: FastifyRequest<{ Params: { model: string } }>, reply) => {
  const session = sessions.get(req.params.model);
  const body = req.body;
  if (session === undefined || !Buffer.isBuffer(body)) return reply.code(404).send({ error: 'unknown model' });
  const rawLength = req.headers['inference-header-content-length'];
  const binary = rawLength !== undefined;
  const headerLength = binary ? Number(rawLength) : body.length;
  const header = JSON.parse(body.toString('utf8', 0, headerLength)) as { inputs: Input[] };
  const input = header.inputs[0];
  if (input === undefined) return reply.code(400).send({ error: 'no input' });
  const data = binary
    ? new Float32Array(body.buffer.slice(body.byteOffset + headerLength, body.byteOffset + body.length))
    : Float32Array.from(input.data ?? []);
  const outputName = session.outputNames[0] as string;
  const result = await session.run({ [input.name]: new ort.Tensor('float32', data, input.shape) });
  const out = result[outputName] as ort.Tensor;
  const values = out.data as Float32Array;
  let json = `{"model_name":${JSON.stringify(req.params.model)},"model_version":"1","outputs":[{"name":"${outputName}","datatype":"FP32","shape":[${out.dims.join(',')}]`;
  if (!binary) {
    reply.header('content-type', 'application/json');
    return reply.send(`${json},"data":[${values.join(',')}]}]}`);
  }
  json += `,"parameters":{"binary_data_size":${values.byteLength}}}]}`;
  const head = Buffer.from(json);
  reply.header('content-type', 'application/octet-stream');
  reply.header('inference-header-content-length', String(head.length));
  return reply.send(Buffer.concat([head, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]));
});
await serveAndAnnounce(app);
