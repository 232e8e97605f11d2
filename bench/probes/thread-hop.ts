/**
 * Probe: what one main-thread → worker → main-thread hop costs on this machine, the hop every
 * Stratum batch makes. Ping-pongs a message carrying a transferred tensor-sized buffer with an
 * idle worker (it sleeps between messages, as a session worker does at low load) and reports the
 * round-trip latency and the CPU the main thread spends per `postMessage`. `--gap-ms` idles both
 * threads between round trips, as a server at concurrency 1 does between requests: on a small VM an
 * idle vCPU is slow to wake, and that, not the message itself, is most of a hop's cost.
 *
 *   node --import tsx bench/probes/thread-hop.ts [--bytes 3136] [--count 20000] [--gap-ms 0.5]
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: '3136' },
    count: { type: 'string', default: '20000' },
    'gap-ms': { type: 'string', default: '0' },
  },
  strict: true,
});
const bytes = Number(values.bytes);
const count = Number(values.count);
const gapMs = Number(values['gap-ms']);

const worker = new Worker(
  `const { parentPort } = require('node:worker_threads');
   parentPort.on('message', (m) => parentPort.postMessage(m, [m.data.buffer]));`,
  { eval: true },
);
const roundTrips = new Float64Array(count);
let sendCpuUs = 0;
for (let i = 0; i < count; i++) {
  if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  const data = new Float32Array(bytes / 4);
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const reply = new Promise((resolve) => worker.once('message', resolve));
  worker.postMessage({ id: i, key: 'mlp:1#1', data, fetches: ['logits'] }, [data.buffer]);
  const cpu = process.cpuUsage(cpu0);
  sendCpuUs += cpu.user + cpu.system;
  await reply;
  roundTrips[i] = (performance.now() - start) * 1000;
}
await worker.terminate();
const sorted = roundTrips.sort();
const at = (q: number): number => sorted[Math.floor(q * (count - 1))] as number;
process.stdout.write(
  `${JSON.stringify({
    bytes,
    count,
    gapMs,
    roundTripUs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / count },
    postMessageCpuUs: sendCpuUs / count,
  })}\n`,
);
