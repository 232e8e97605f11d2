/**
 * Closed-loop gRPC load generator (a child process of the bench): `--concurrency` virtual users,
 * each with one outstanding unary `ModelInfer` call at a time, spread over `--channels` HTTP/2
 * connections. The request is encoded once (the body file holds a serialized ModelInferRequest)
 * and responses are not decoded in the loop, so the generator's CPU goes to grpc-js itself.
 *
 *   node --import tsx bench/load/grpc-load.ts --port 8001 --body req.pb --concurrency 64
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceProto } from '../../src/api/grpc/inference-proto.ts';
import { createLatencyRecorder } from './latency-recorder.ts';
import { finishRun, measureSelf, openWindow } from './load-result.ts';

const METHOD = '/inference.GRPCInferenceService/ModelInfer';
const DRAIN_TIMEOUT_MS = 5000;
const identity = (value: Buffer): Buffer => value;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    body: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    channels: { type: 'string' },
    'warmup-ms': { type: 'string', default: '1000' },
    'duration-ms': { type: 'string', default: '3000' },
  },
  strict: true,
});

const port = Number(values.port);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(port) || values.body === undefined || !(concurrency >= 1)) {
  process.stderr.write('grpc-load: --port, --body and a positive --concurrency are required\n');
  process.exit(2);
}
const channels = Math.max(1, Math.min(concurrency, Number(values.channels ?? Math.min(concurrency, 4))));
const request = readFileSync(values.body);

function call(client: grpc.Client): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(METHOD, identity, identity, request, (error, response) =>
      error || response === undefined ? reject(error ?? new Error('empty response')) : resolve(response),
    );
  });
}

async function main(): Promise<void> {
  const options = {
    // Separate subchannel pools: each client gets its own HTTP/2 connection.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  };
  const clients = Array.from(
    { length: channels },
    () => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options),
  );
  const closeAll = (): void => {
    for (const c of clients) c.close();
  };
  try {
    const definition = (loadInferenceProto()['inference'] as grpc.GrpcObject)[
      'GRPCInferenceService'
    ] as grpc.ServiceClientConstructor;
    const decode = (
      definition.service['ModelInfer'] as grpc.MethodDefinition<
        unknown,
        { outputs?: unknown[]; raw_output_contents?: unknown[] }
      >
    ).responseDeserialize;
    for (const client of clients) {
      const first = decode(await call(client));
      if ((first.outputs?.length ?? 0) === 0 || (first.raw_output_contents?.length ?? 0) === 0) {
        throw new Error(`validation call returned no raw outputs: ${JSON.stringify(first).slice(0, 300)}`);
      }
    }
  } catch (error) {
    closeAll();
    throw error;
  }

  const latencies = createLatencyRecorder();
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const window = openWindow(Number(values['warmup-ms']), Number(values['duration-ms']));
  const self = measureSelf(window);

  const user = async (client: grpc.Client): Promise<void> => {
    while (performance.now() < window.end) {
      const start = performance.now();
      try {
        await call(client);
        const now = performance.now();
        if (now >= window.measureStart && now <= window.end) {
          completed++;
          latencies.record(now - start);
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  const users = Array.from({ length: concurrency }, (_, i) => user(clients[i % channels] as grpc.Client));
  await finishRun({
    window,
    self,
    drained: Promise.all(users),
    drainMs: DRAIN_TIMEOUT_MS,
    close: closeAll,
    tally: () => ({ completed, errors, firstError, latency: latencies.summary() }),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`grpc-load: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
