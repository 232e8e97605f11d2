// Times a worker thread's start: from `new Worker` to the session worker's ready message
// (onnxruntime loaded). `source` starts it as the CLI did before the compiled package (tsx
// registered in the main thread through its API, the worker bootstrapping tsx itself); `compiled`
// starts dist/runtime/session-worker.js with no loader. Run with plain `node` (a process started
// with `--import tsx` passes that loader on to its workers):
//   node bench/startup/worker-start.js <source|compiled> <count>   → the times in ms, as JSON
import { register } from 'tsx/esm/api';

const [mode = 'compiled', count = '5'] = process.argv.slice(2);
const READY = 'stratum-session-worker-ready'; // src/runtime/messages.ts WORKER_READY

let startWorker;
let entry;
if (mode === 'source') {
  register();
  ({ startWorker } = await import('../../src/runtime/start-worker.ts'));
  entry = new URL('../../src/runtime/session-worker.ts', import.meta.url);
} else {
  ({ startWorker } = await import('../../dist/runtime/start-worker.js'));
  entry = new URL('../../dist/runtime/session-worker.ts', import.meta.url);
}

const times = [];
for (let i = 0; i < Number(count); i++) {
  const start = performance.now();
  const worker = startWorker(entry);
  await new Promise((resolve, reject) => {
    worker.on('message', (message) => message === READY && resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
  times.push(performance.now() - start);
  await worker.terminate();
}
process.stdout.write(JSON.stringify(times));
