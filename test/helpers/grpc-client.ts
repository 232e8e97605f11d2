/** A promise-based OIP gRPC client for tests, built from the server's own .proto. */
import * as grpc from '@grpc/grpc-js';
import type { TestContext } from 'node:test';
import { loadInferenceProto } from '../../src/api/grpc/inference-proto.ts';

/** Calls an RPC by name. */
export type GrpcCall = <T = Record<string, unknown>>(method: string, request: object) => Promise<T>;

/** Connects to 127.0.0.1:`port` and closes the channel after the test. */
export function connectGrpc(t: TestContext, port: number): GrpcCall {
  const proto = loadInferenceProto();
  const Client = (proto['inference'] as grpc.GrpcObject)['GRPCInferenceService'] as grpc.ServiceClientConstructor;
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  return (method, request) =>
    new Promise((resolve, reject) => {
      const fn = client[method] as (req: object, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
      fn.call(client, request, (err, res) => (err ? reject(err) : resolve(res as never)));
    });
}
