/**
 * The gRPC face of the Open Inference Protocol v2 (`inference.GRPCInferenceService`) on
 * @grpc/grpc-js. It shares the inference service, and so the batcher and metrics, with REST.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { StratumError, toStratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type GrpcInferRequest,
} from '../../serving/protocol/grpc-infer.ts';
import type { Authorizer, Permission } from '../permissions.ts';

const PROTO_PATH = fileURLToPath(new URL('./grpc_predict_v2.proto', import.meta.url));

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  readonly service: InferenceService;
  readonly logger: Logger;
  readonly authorizer: Authorizer;
  readonly maxBytesElementBytes: number;
  /** Largest message accepted (bytes). */
  readonly maxMessageBytes: number;
}

/** The gRPC server. */
export interface GrpcServer {
  /** Binds and starts; resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, lets in-flight calls finish (up to `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** Loads the service definition (shared by server and test clients). */
export function loadInferenceProto(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Builds the server. */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { service, logger, authorizer } = options;
  const proto = loadInferenceProto();
  const definition = (proto['inference'] as grpc.GrpcObject)['GRPCInferenceService'] as grpc.ServiceClientConstructor;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  });

  function unary<Req, Res>(
    permission: Permission,
    body: (request: Req, metadata: grpc.Metadata) => Res | Promise<Res>,
  ): Handler<Req, Res> {
    return (call, callback) => {
      const run = async (): Promise<Res> => {
        if (permission !== 'public') {
          const model =
            (call.request as { name?: string; model_name?: string }).model_name ??
            (call.request as { name?: string }).name;
          await authorizer({
            permission,
            headers: call.metadata.getMap() as Record<string, string>,
            ...(model && { model }),
          });
        }
        return body(call.request, call.metadata);
      };
      run().then(
        (result) => callback(null, result),
        (error: unknown) => {
          const e = toStratumError(error);
          if (e.code === 'INTERNAL') logger.error({ err: e.cause ?? e }, 'internal error in a gRPC call');
          callback({ code: e.grpcStatus, details: e.message });
        },
      );
    };
  }

  server.addService(definition.service, {
    ServerLive: unary('public', () => ({ live: service.live() })),
    ServerReady: unary('public', () => ({ ready: service.ready() })),
    ModelReady: unary<{ name: string; version: string }, unknown>('models:read', (r) => ({
      ready: service.modelReady(r.name, r.version || undefined),
    })),
    ServerMetadata: unary('public', () => service.serverMetadata()),
    ModelMetadata: unary<{ name: string; version: string }, unknown>('models:read', (r) =>
      service.modelMetadata(r.name, r.version || undefined),
    ),
    ModelInfer: unary<GrpcInferRequest, unknown>('models:infer', async (r, metadata) => {
      if (r.model_name === '') throw new StratumError('BAD_REQUEST', 'model_name is required');
      const request = decodeGrpcInferRequest(r, options.maxBytesElementBytes);
      const response = await service.infer({
        model: r.model_name,
        request,
        protocol: 'grpc',
        headers: metadata.getMap() as Record<string, string>,
        ...(r.model_version !== '' && { version: r.model_version }),
      });
      return encodeGrpcInferResponse(response, r.raw_input_contents.length > 0);
    }),
  });

  let closing: Promise<void> | undefined;
  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(
          `${host.includes(':') ? `[${host}]` : host}:${port}`,
          grpc.ServerCredentials.createInsecure(),
          (error, bound) => (error ? reject(error) : resolve(bound)),
        );
      });
    },
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
