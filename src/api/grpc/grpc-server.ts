/**
 * The gRPC face of the Open Inference Protocol v2 (`inference.GRPCInferenceService`): each method
 * of GRPC_METHODS behind the permission hook, decoded and encoded with the service's .proto, on the
 * `node:http2` gRPC server. It shares the inference service, and so the batcher and metrics, with
 * REST.
 */
import type { IncomingHttpHeaders, SecureServerOptions } from 'node:http2';
import type { Server as TlsServer } from 'node:tls';
import type { AuditSink } from '../../audit/audit-sink.ts';
import { StratumError, toStratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { Tracing } from '../../monitor/tracing.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import { recordDenied } from '../denied-requests.ts';
import type { Authorizer } from '../permissions.ts';
import { loadInferenceCodecs, type MethodCodec } from './grpc-codec.ts';
import {
  createGrpcHttp2Server,
  type GrpcReply,
  type GrpcUnaryCall,
  type GrpcUnaryHandler,
} from './grpc-http2-server.ts';
import { GRPC_METHODS, type GrpcContext, type GrpcMethod } from './grpc-methods.ts';

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  readonly service: InferenceService;
  readonly logger: Logger;
  readonly authorizer: Authorizer;
  readonly maxBytesElementBytes: number;
  /** Largest message accepted (bytes). */
  readonly maxMessageBytes: number;
  /**
   * TLS options of `http2.createSecureServer` (certificate, key, CA, client-certificate policy).
   * Absent: plaintext. A reload goes through {@link GrpcServer.tlsServer}.
   */
  readonly tls?: SecureServerOptions;
  /** OpenTelemetry tracing of ModelInfer calls. @default off */
  readonly tracing?: Tracing;
  /** Where refused calls (UNAUTHENTICATED, PERMISSION_DENIED) are recorded. */
  readonly audit?: AuditSink;
}

/** The gRPC server. */
export interface GrpcServer {
  /** Binds and starts; resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** The TLS server (for `setSecureContext` on a certificate reload); undefined in plaintext. */
  readonly tlsServer: TlsServer | undefined;
  /** Stops accepting, lets in-flight calls finish (up to `graceMs`), then closes. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** Builds the server. */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { logger } = options;
  // Every method of the service needs a declaration (and so a permission): one missing would
  // answer UNIMPLEMENTED at best, so it fails here, at start-up.
  const declared = new Map(GRPC_METHODS.map((m) => [m.name, m]));
  const handlers = new Map<string, GrpcUnaryHandler>();
  for (const codec of loadInferenceCodecs()) {
    const method = declared.get(codec.name);
    if (method === undefined) throw new Error(`gRPC method ${codec.name} has no entry in GRPC_METHODS`);
    handlers.set(codec.path, unaryHandler({ method, codec, options }));
  }
  const server = createGrpcHttp2Server({
    handlers,
    maxMessageBytes: options.maxMessageBytes,
    ...(options.tls !== undefined && { tls: options.tls }),
    onError: (error) => logger.error({ err: error }, 'internal error in a gRPC call'),
  });
  return {
    listen: (host, port) => server.listen(host, port),
    tlsServer: server.tlsServer,
    close: (graceMs) => server.close(graceMs),
  };
}

/** One method: decode → authorize → (trace) → handle → encode; every failure becomes a status. */
function unaryHandler(input: { method: GrpcMethod; codec: MethodCodec; options: GrpcServerOptions }): GrpcUnaryHandler {
  const { method, codec, options } = input;
  const { tracing, logger } = options;
  const context: GrpcContext = {
    service: options.service,
    maxBytesElementBytes: options.maxBytesElementBytes,
    ...(tracing !== undefined && { tracing }),
  };
  const traced = tracing !== undefined && method.name === 'ModelInfer';

  const fail = (error: unknown, metadata: Readonly<Record<string, string>> | undefined): GrpcReply => {
    const e = toStratumError(error);
    if (e.code === 'INTERNAL') logger.error({ err: e.cause ?? e }, 'internal error in a gRPC call');
    return { status: e.grpcStatus, details: e.message, ...(metadata !== undefined && { metadata }) };
  };

  return async (call: GrpcUnaryCall): Promise<GrpcReply> => {
    let release: (() => void) | undefined;
    let metadata: Readonly<Record<string, string>> | undefined;
    try {
      const request = decode(codec, call.message);
      if (method.permission !== 'public') release = await authorize({ call, request, method, options });
      let result: unknown;
      if (traced) {
        const started = tracing.startRequest({
          name: `${codec.path.slice(1)}`,
          headers: call.metadata,
          attributes: { 'rpc.system': 'grpc', 'rpc.method': method.name },
        });
        metadata = { traceparent: started.traceparent };
        const trace = started.trace;
        try {
          result = await method.handle(
            request as never,
            call.metadata,
            trace === undefined ? context : { ...context, trace },
          );
          trace?.end();
        } catch (error) {
          trace?.end(error);
          throw error;
        }
      } else {
        result = await method.handle(request as never, call.metadata, context);
      }
      return {
        status: 0,
        message: codec.encodeResponse(result as object),
        ...(metadata !== undefined && { metadata }),
      };
    } catch (error) {
      return fail(error, metadata);
    } finally {
      release?.();
    }
  };
}

function decode(codec: MethodCodec, message: Buffer): Record<string, unknown> {
  try {
    return codec.decodeRequest(message);
  } catch (error) {
    throw new StratumError(
      'BAD_REQUEST',
      `the request is not a valid message of ${codec.path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Asks the permission hook; a refusal is recorded in the audit log and rethrown. */
async function authorize(input: {
  call: GrpcUnaryCall;
  request: Record<string, unknown>;
  method: GrpcMethod;
  options: GrpcServerOptions;
}): Promise<(() => void) | undefined> {
  const { call, request, method, options } = input;
  const model = modelOf(request);
  try {
    const granted = await options.authorizer({
      permission: method.permission as Exclude<GrpcMethod['permission'], 'public'>,
      headers: call.metadata as IncomingHttpHeaders,
      ...(model !== undefined && { model }),
    });
    return granted.release;
  } catch (error) {
    recordDenied(options.audit, options.logger, { error, resource: `grpc ${method.name}`, source: call.peer });
    throw error;
  }
}

function modelOf(request: Record<string, unknown>): string | undefined {
  const name = request['model_name'] ?? request['name'];
  return typeof name === 'string' && name !== '' ? name : undefined;
}
