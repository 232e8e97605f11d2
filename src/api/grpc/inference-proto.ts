/**
 * The service definition for @grpc/grpc-js clients (the demo, the tests, any Node OIP client):
 * the same .proto the server decodes with, loaded by @grpc/proto-loader.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { INFERENCE_PROTO_PATH } from './grpc-codec.ts';

/** Loads the service definition (`proto.inference.GRPCInferenceService` is the client class). */
export function loadInferenceProto(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(INFERENCE_PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}
