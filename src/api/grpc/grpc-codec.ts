/**
 * Encodes and decodes the messages of `inference.GRPCInferenceService` with protobufjs, from the
 * service's own .proto. Messages have the shape @grpc/proto-loader gives them (snake_case keys,
 * 64-bit integers as decimal strings, enums as names, defaults filled in, `oneof` names set), so
 * the method handlers read the same objects whichever library decoded them. `bytes` fields
 * (raw_input_contents) stay views of the received buffer: no copy.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** Where the service definition lives (beside this module, in src/ and in dist/). */
export const INFERENCE_PROTO_PATH = fileURLToPath(new URL('./grpc_predict_v2.proto', import.meta.url));

/** The service's full name, as it appears in each method's path. */
export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';

// The options @grpc/proto-loader is given by Stratum's clients (see inference-proto.ts).
const TO_OBJECT: protobuf.IConversionOptions = Object.freeze({
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The codec of one method. */
export interface MethodCodec {
  /** The method's name in the service (`ModelInfer`). */
  readonly name: string;
  /** `/inference.GRPCInferenceService/ModelInfer`. */
  readonly path: string;
  /** Decodes a request message; throws on bytes that are not one. */
  decodeRequest(bytes: Uint8Array): Record<string, unknown>;
  /** Encodes a response object; throws when it does not fit the message type. */
  encodeResponse(response: object): Uint8Array;
}

/** Every method of the service, with its codec, in the order of the .proto. */
export function loadInferenceCodecs(): readonly MethodCodec[] {
  const root = new protobuf.Root().loadSync(INFERENCE_PROTO_PATH, { keepCase: true });
  const service = root.lookupService(INFERENCE_SERVICE);
  return Object.freeze(
    service.methodsArray.map((method): MethodCodec => {
      const request = root.lookupType(method.requestType);
      const response = root.lookupType(method.responseType);
      return Object.freeze({
        name: method.name,
        path: `/${INFERENCE_SERVICE}/${method.name}`,
        decodeRequest: (bytes: Uint8Array) => request.toObject(request.decode(bytes), TO_OBJECT),
        encodeResponse: (value: object) => response.encode(response.fromObject(value)).finish(),
      });
    }),
  );
}
