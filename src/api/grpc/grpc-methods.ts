/**
 * Every method of `inference.GRPCInferenceService`, declared once: its name, the permission it
 * needs and its handler. The gRPC server registers exactly these (and refuses to start when the
 * service has a method this list lacks); the permission table is derived from the same list.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { StratumError } from '../../errors/index.ts';
import type { RequestTrace } from '../../monitor/request-trace.ts';
import type { Tracing } from '../../monitor/tracing.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type GrpcInferRequest,
} from '../../serving/protocol/grpc-infer.ts';
import type { Permission } from '../permissions.ts';

/** What the handlers call. */
export interface GrpcContext {
  readonly service: InferenceService;
  readonly maxBytesElementBytes: number;
  /** OpenTelemetry tracing, when on: the server starts each ModelInfer call's span. */
  readonly tracing?: Tracing;
  /** The span of this call (set per call, when it is traced and sampled). */
  readonly trace?: RequestTrace;
}

/** One unary method. */
export interface GrpcMethod {
  /** The method's name in the service (`ModelInfer`). */
  readonly name: string;
  readonly permission: Permission;
  readonly handle: (request: never, metadata: IncomingHttpHeaders, context: GrpcContext) => unknown;
}

function method<Req>(declared: {
  name: string;
  permission: Permission;
  handle: (request: Req, metadata: IncomingHttpHeaders, context: GrpcContext) => unknown;
}): GrpcMethod {
  return Object.freeze(declared) as GrpcMethod;
}

type ModelRequest = { name: string; version: string };

/** Every method of the service. */
export const GRPC_METHODS: readonly GrpcMethod[] = Object.freeze([
  method({ name: 'ServerLive', permission: 'public', handle: (_r, _m, { service }) => ({ live: service.live() }) }),
  method({ name: 'ServerReady', permission: 'public', handle: (_r, _m, { service }) => ({ ready: service.ready() }) }),
  method<ModelRequest>({
    name: 'ModelReady',
    permission: 'models:read',
    handle: (r, _m, { service }) => ({ ready: service.modelReady(r.name, r.version || undefined) }),
  }),
  method({ name: 'ServerMetadata', permission: 'public', handle: (_r, _m, { service }) => service.serverMetadata() }),
  method<ModelRequest>({
    name: 'ModelMetadata',
    permission: 'models:read',
    handle: (r, _m, { service }) => {
      const { parameters, ...metadata } = service.modelMetadata(r.name, r.version || undefined);
      if (parameters === undefined) return metadata;
      return { ...metadata, parameters: { classes: { string_param: parameters.classes } } };
    },
  }),
  method<GrpcInferRequest>({
    name: 'ModelInfer',
    permission: 'models:infer',
    handle: async (r, metadata, { service, maxBytesElementBytes, trace }) => {
      if (r.model_name === '') throw new StratumError('BAD_REQUEST', 'model_name is required');
      const request = decodeGrpcInferRequest(r, maxBytesElementBytes);
      const response = await service.infer({
        model: r.model_name,
        request,
        protocol: 'grpc',
        headers: metadata,
        ...(r.model_version !== '' && { version: r.model_version }),
        ...(trace !== undefined && { trace }),
      });
      return encodeGrpcInferResponse(response, r.raw_input_contents.length > 0);
    },
  }),
]);

/** The permission table of the gRPC methods, one row per method. */
export const GRPC_METHOD_PERMISSIONS: readonly { readonly method: string; readonly permission: Permission }[] =
  Object.freeze(GRPC_METHODS.map(({ name, permission }) => Object.freeze({ method: name, permission })));
