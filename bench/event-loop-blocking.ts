/**
 * Measures whether onnxruntime-node's `session.run` blocks the event loop, and what the runtime
 * pool (sessions in worker threads) leaves of that: event-loop delay (p50/p99/max) while the
 * transformer fixture runs batches of 8 back to back for two seconds, both ways.
 * Run: node --import tsx bench/event-loop-blocking.ts
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { createLogger } from '../src/logging/logger.ts';
import { FIXTURES } from '../src/onnx/fixtures.ts';
import { createRuntimePool } from '../src/runtime/runtime-pool.ts';

const BATCH = 8;
const SECONDS = 2;
const bytes = FIXTURES.transformer.build();
const makeInput = (): Float32Array => new Float32Array(BATCH * 64 * 128).fill(0.1);

async function measure(label: string, runOnce: () => Promise<unknown>): Promise<void> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let runs = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    await runOnce();
    runs++;
  }
  histogram.disable();
  const ms = (ns: number): string => (ns / 1e6).toFixed(2);
  process.stdout.write(
    `| ${label} | ${runs} | ${ms(histogram.percentile(50))} | ${ms(histogram.percentile(99))} | ${ms(histogram.max)} |\n`,
  );
}

process.stdout.write(
  '| where session.run runs | batches | loop delay p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- |\n',
);
const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
await measure('main thread (onnxruntime-node async API)', () =>
  session.run({ tokens: new ort.Tensor('float32', makeInput(), [BATCH, 64, 128]) }),
);
await session.release();

const pool = createRuntimePool({ workers: 1, logger: createLogger({ level: 'silent' }) });
await pool.load({ key: 't', bytes, instances: 1, settings: { intraOpThreads: 1, interOpThreads: 1 } });
await measure('runtime pool worker thread', () =>
  pool.run({
    key: 't',
    instance: 0,
    feeds: [{ name: 'tokens', type: 'float32', dims: [BATCH, 64, 128], data: makeInput() }],
    fetches: ['hidden'],
  }),
);
await pool.close();
