/**
 * Transport ceiling: the same frameworks as Stratum (Fastify 5 with Stratum's settings for REST,
 * Stratum's own gRPC server on node:http2 with its service definition for gRPC) answering every inference request with
 * a canned copy of Stratum's real response for that model and format — same status, headers and
 * body size, no decoding, no inference. Whatever Stratum loses against this is its own work.
 *
 *   node --import tsx bench/references/transport-server.ts --canned canned.json
 * prints {"httpPort": N, "grpcPort": M}
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FastifyRequest } from 'fastify';
import protobuf from 'protobufjs';
import { INFERENCE_PROTO_PATH, loadInferenceCodecs } from '../../src/api/grpc/grpc-codec.ts';
import { createGrpcHttp2Server, type GrpcReply, type GrpcUnaryCall } from '../../src/api/grpc/grpc-http2-server.ts';
import { GrpcStatus } from '../../src/errors/index.ts';
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

const ModelInferResponse = new protobuf.Root()
  .loadSync(INFERENCE_PROTO_PATH, { keepCase: true })
  .lookupType('inference.ModelInferResponse');

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

// gRPC: the same node:http2 gRPC server and protobufjs codec as Stratum's. Each request is decoded
// and the canned response object encoded on every call, as Stratum's would be.
const infer = loadInferenceCodecs().find((codec) => codec.name === 'ModelInfer');
if (infer === undefined) throw new Error('the service has no ModelInfer method');
const grpcCanned = new Map(
  Object.entries(canned.grpc).map(([model, b64]) => [
    model,
    ModelInferResponse.toObject(ModelInferResponse.decode(Buffer.from(b64, 'base64'))),
  ]),
);
const server = createGrpcHttp2Server({
  maxMessageBytes: 64 * 1024 * 1024,
  handlers: new Map([
    [
      infer.path,
      (call: GrpcUnaryCall): GrpcReply => {
        const response = grpcCanned.get(infer.decodeRequest(call.message)['model_name'] as string);
        if (response === undefined) return { status: GrpcStatus.NOT_FOUND, details: 'unknown model' };
        return { status: 0, message: infer.encodeResponse(response) };
      },
    ],
  ]),
});
const grpcPort = await server.listen('127.0.0.1', 0);
await serveAndAnnounce(app, { grpcPort }, () => server.close());
