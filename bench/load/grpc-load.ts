/**
 * Closed-loop gRPC load generator (a child process of the bench): `--concurrency` virtual users,
 * each with one outstanding unary `ModelInfer` call at a time, spread over `--channels` HTTP/2
 * connections. The request is framed once (the body file holds a serialized ModelInferRequest).
 * One call per connection first goes through `node:http2` and its reply is decoded and checked;
 * the loop then runs on raw HTTP/2 connections (grpc-h2-connection.ts) that send the constant
 * request and read frame headers only, so the generator costs less CPU than the server it loads
 * (grpc-js, the generator before, used more than the server: docs/BENCHMARKS.md).
 *
 *   node --import tsx bench/load/grpc-load.ts --port 8001 --body req.pb --concurrency 64
 */
import { readFileSync } from 'node:fs';
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';
import { INFERENCE_PROTO_PATH } from '../../src/api/grpc/grpc-codec.ts';
import { frameMessage, readUnaryFrame } from '../../src/api/grpc/grpc-wire.ts';
import { type GrpcH2Connection, openGrpcH2Connection } from './grpc-h2-connection.ts';
import { createLatencyRecorder } from './latency-recorder.ts';
import { finishRun, measureSelf, openWindow } from './load-result.ts';

const DRAIN_TIMEOUT_MS = 5000;
const HEADERS: OutgoingHttpHeaders = Object.freeze({
  ':method': 'POST',
  ':path': '/inference.GRPCInferenceService/ModelInfer',
  'content-type': 'application/grpc',
  te: 'trailers',
});

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
const framed = frameMessage(readFileSync(values.body));

/** One unary call through node:http2; resolves with the response body (framed) when the status is OK. */
function call(session: ClientHttp2Session): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(HEADERS);
    const chunks: Buffer[] = [];
    let status: unknown;
    let message: unknown;
    stream.on('response', (headers) => {
      // A trailers-only response carries the status in its headers.
      status = headers['grpc-status'];
      message = headers['grpc-message'];
    });
    stream.on('trailers', (trailers) => {
      status = trailers['grpc-status'];
      message = trailers['grpc-message'];
    });
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('close', () => {
      if (status === '0') resolve(Buffer.concat(chunks));
      else reject(new Error(`grpc-status ${String(status)}: ${decodeURIComponent(String(message ?? ''))}`));
    });
    stream.end(framed);
  });
}

function open(): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1 << 20 } });
    session.once('error', reject);
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => undefined);
      session.setLocalWindowSize(16 << 20);
      resolve(session);
    });
  });
}

async function main(): Promise<void> {
  const sessions = await Promise.all(Array.from({ length: channels }, open));
  const closeSessions = (): void => {
    for (const s of sessions) s.close();
  };
  try {
    const response = new protobuf.Root()
      .loadSync(INFERENCE_PROTO_PATH, { keepCase: true })
      .lookupType('inference.ModelInferResponse');
    for (const session of sessions) {
      const frame = readUnaryFrame(await call(session));
      if (typeof frame === 'string') throw new Error(`validation call: response body is not one message (${frame})`);
      const first = response.toObject(response.decode(frame.message)) as {
        outputs?: unknown[];
        raw_output_contents?: unknown[];
      };
      if ((first.outputs?.length ?? 0) === 0 || (first.raw_output_contents?.length ?? 0) === 0) {
        throw new Error(`validation call returned no raw outputs: ${JSON.stringify(first).slice(0, 300)}`);
      }
    }
  } finally {
    closeSessions();
  }
  const path = HEADERS[':path'] as string;
  const connections = await Promise.all(
    Array.from({ length: channels }, () => openGrpcH2Connection({ port, path, framed })),
  );
  const closeAll = (): void => {
    for (const c of connections) c.close();
  };

  const latencies = createLatencyRecorder();
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const window = openWindow(Number(values['warmup-ms']), Number(values['duration-ms']));
  const self = measureSelf(window);

  const user = async (connection: GrpcH2Connection): Promise<void> => {
    while (performance.now() < window.end) {
      const start = performance.now();
      try {
        if (!(await connection.call())) throw new Error('call failed (no reply message, or the stream was reset)');
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
  const users = Array.from({ length: concurrency }, (_, i) => user(connections[i % channels] as GrpcH2Connection));
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
