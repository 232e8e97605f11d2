/**
 * A worker thread of the compute ceiling: one onnxruntime session created with the server's session
 * options, running `session.run` back to back on a pre-made batch — the most a session worker
 * could do if requests cost nothing to receive, batch and answer.
 */
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** Main → worker. */
export type CeilingRequest =
  | { readonly op: 'load'; readonly bytes: Uint8Array; readonly intraOpThreads: number }
  | { readonly op: 'run'; readonly dims: readonly number[]; readonly warmupMs: number; readonly durationMs: number };

/** Worker → main. */
export type CeilingResponse =
  | { readonly op: 'loaded' }
  | { readonly op: 'ran'; readonly runs: number; readonly seconds: number; readonly runMs: readonly number[] }
  | { readonly op: 'error'; readonly message: string };

if (parentPort === null) throw new Error('ceiling-worker must run in a worker thread');
const port = parentPort;
let session: ort.InferenceSession | undefined;

port.on('message', (message: CeilingRequest) => {
  handle(message).then(
    (response) => port.postMessage(response),
    (error: unknown) => port.postMessage({ op: 'error', message: String(error) } satisfies CeilingResponse),
  );
});

async function handle(message: CeilingRequest): Promise<CeilingResponse> {
  if (message.op === 'load') {
    session = await ort.InferenceSession.create(message.bytes, {
      intraOpNumThreads: message.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return { op: 'loaded' };
  }
  if (session === undefined) throw new Error('no session');
  const count = message.dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = Math.sin(i) * 0.5;
  const feeds = { [session.inputNames[0] as string]: new ort.Tensor('float32', data, message.dims) };
  const warmEnd = performance.now() + message.warmupMs;
  while (performance.now() < warmEnd) await session.run(feeds);
  const runMs: number[] = [];
  const start = performance.now();
  const end = start + message.durationMs;
  let now = start;
  while (now < end) {
    const t = now;
    await session.run(feeds);
    now = performance.now();
    runMs.push(now - t);
  }
  return { op: 'ran', runs: runMs.length, seconds: (now - start) / 1000, runMs };
}
