/**
 * The gRPC face of the Open Inference Protocol v2 (`inference.GRPCInferenceService`) on
 * @grpc/grpc-js. It shares the inference service, and so the batcher and metrics, with REST.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { toStratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { RequestTrace } from '../../monitor/request-trace.ts';
import type { Tracing } from '../../monitor/tracing.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import type { AuditSink } from '../../audit/audit-sink.ts';
import { recordDenied } from '../denied-requests.ts';
import type { Authorizer } from '../permissions.ts';
import { GRPC_METHODS, type GrpcContext, type GrpcMethod } from './grpc-methods.ts';

const PROTO_PATH = fileURLToPath(new URL('./grpc_predict_v2.proto', import.meta.url));

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  readonly service: InferenceService;
  readonly logger: Logger;
  readonly authorizer: Authorizer;
  readonly maxBytesElementBytes: number;
  /** Largest message accepted (bytes). */
  readonly maxMessageBytes: number;
  /** TLS credentials (updated in place on a certificate reload). Absent: plaintext. */
  readonly credentials?: grpc.ServerCredentials;
  /** OpenTelemetry tracing of ModelInfer calls. @default off */
  readonly tracing?: Tracing;
  /** Where refused calls (UNAUTHENTICATED, PERMISSION_DENIED) are recorded. */
  readonly audit?: AuditSink;
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

/**
 * Runs a call under its server span, continuing the caller's `traceparent` (metadata) and sending
 * the span's back in the initial metadata.
 */
async function traced(
  tracing: Tracing,
  call: grpc.ServerUnaryCall<unknown, unknown>,
  run: (trace: RequestTrace | undefined) => unknown,
): Promise<unknown> {
  const started = tracing.startRequest({
    name: 'inference.GRPCInferenceService/ModelInfer',
    headers: call.metadata.getMap() as Record<string, string>,
    attributes: { 'rpc.system': 'grpc', 'rpc.method': 'ModelInfer' },
  });
  const out = new grpc.Metadata();
  out.set('traceparent', started.traceparent);
  call.sendMetadata(out);
  try {
    const result = await run(started.trace);
    started.trace?.end();
    return result;
  } catch (error) {
    started.trace?.end(error);
    throw error;
  }
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

  const context: GrpcContext = {
    service,
    maxBytesElementBytes: options.maxBytesElementBytes,
    ...(options.tracing !== undefined && { tracing: options.tracing }),
  };
  function unary(method: GrpcMethod): Handler<unknown, unknown> {
    return (call, callback) => {
      let release: (() => void) | undefined;
      const run = async (): Promise<unknown> => {
        if (method.permission !== 'public') {
          const model =
            (call.request as { name?: string; model_name?: string }).model_name ??
            (call.request as { name?: string }).name;
          try {
            const granted = await authorizer({
              permission: method.permission,
              headers: call.metadata.getMap() as Record<string, string>,
              ...(model && { model }),
            });
            release = granted.release;
          } catch (error) {
            recordDenied(options.audit, logger, { error, resource: `grpc ${method.name}`, source: call.getPeer() });
            throw error;
          }
        }
        const { tracing } = context;
        if (tracing === undefined || method.name !== 'ModelInfer') {
          return method.handle(call.request as never, call.metadata, context);
        }
        return traced(tracing, call, (trace) =>
          method.handle(call.request as never, call.metadata, trace === undefined ? context : { ...context, trace }),
        );
      };
      run().then(
        (result) => {
          release?.();
          callback(null, result);
        },
        (error: unknown) => {
          release?.();
          const e = toStratumError(error);
          if (e.code === 'INTERNAL') logger.error({ err: e.cause ?? e }, 'internal error in a gRPC call');
          callback({ code: e.grpcStatus, details: e.message });
        },
      );
    };
  }

  // Every method of the service needs a declaration (and so a permission): one missing would
  // answer UNIMPLEMENTED at best, so it fails here, at start-up.
  const declared = new Map(GRPC_METHODS.map((m) => [m.name, m]));
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(definition.service)) {
    const method = declared.get(name);
    if (method === undefined) throw new Error(`gRPC method ${name} has no entry in GRPC_METHODS`);
    handlers[name] = unary(method);
  }
  server.addService(definition.service, handlers);

  let closing: Promise<void> | undefined;
  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(
          `${host.includes(':') ? `[${host}]` : host}:${port}`,
          options.credentials ?? grpc.ServerCredentials.createInsecure(),
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
