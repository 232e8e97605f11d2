/**
 * Transport ceiling: the same frameworks as Stratum (Fastify 5 with Stratum's settings for REST,
 * @grpc/grpc-js with Stratum's service definition for gRPC) answering every inference request with
 * a canned copy of Stratum's real response for that model and format — same status, headers and
 * body size, no decoding, no inference. Whatever Stratum loses against this is its own work.
 *
 *   node --import tsx bench/references/transport-server.ts --canned canned.json
 * prints {"httpPort": N, "grpcPort": M}
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { FastifyRequest } from 'fastify';
import { loadInferenceProto } from '../../src/api/grpc/inference-proto.ts';
import type { CannedResponses } from './canned-responses.ts';
import { createBenchFastify, serveAndAnnounce } from './fastify-app.ts';

const { values } = parseArgs({ options: { canned: { type: 'string' } }, strict: true });
if (values.canned === undefined) throw new Error('--canned <file> is required');
const canned = JSON.parse(readFileSync(values.canned, 'utf8')) as CannedResponses;

const rest = new Map(
  Object.entries(canned.rest).map(([model, formats]) => [
    model,
    {
      json: { ...formats.json, body: Buffer.from(formats.json.bodyBase64, 'base64') },
      binary: { ...formats.binary, body: Buffer.from(formats.binary.bodyBase64, 'base64') },
    },
  ]),
);

const app = createBenchFastify();
app.post('/v2/models/:model/infer', async (req: FastifyRequest<{ Params: { model: string } }>, reply) => {
  const formats = rest.get(req.params.model);
  if (formats === undefined || !Buffer.isBuffer(req.body)) return reply.code(404).send({ error: 'unknown model' });
  const response = req.headers['inference-header-content-length'] === undefined ? formats.json : formats.binary;
  reply.header('content-type', response.contentType);
  if (response.headerLength !== undefined)
    reply.header('inference-header-content-length', String(response.headerLength));
  return reply.send(response.body);
});

// gRPC: requests are deserialized by the same proto-loader definition Stratum uses, and the canned
// response object is serialized by it on every call, as Stratum's would be.
const definition = (loadInferenceProto()['inference'] as grpc.GrpcObject)[
  'GRPCInferenceService'
] as grpc.ServiceClientConstructor;
const method = definition.service['ModelInfer'] as grpc.MethodDefinition<{ model_name: string }, object>;
const grpcCanned = new Map(
  Object.entries(canned.grpc).map(([model, b64]) => [model, method.responseDeserialize(Buffer.from(b64, 'base64'))]),
);
const server = new grpc.Server({
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
});
server.addService(definition.service, {
  ModelInfer: (call: grpc.ServerUnaryCall<{ model_name: string }, object>, callback: grpc.sendUnaryData<object>) => {
    const response = grpcCanned.get(call.request.model_name);
    if (response === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'unknown model' });
    else callback(null, response);
  },
});
const grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
    error ? reject(error) : resolve(port),
  ),
);
await serveAndAnnounce(app, { grpcPort }, () => new Promise((resolve) => server.tryShutdown(() => resolve())));
