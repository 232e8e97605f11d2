/**
 * A worker for the worker-pool tests. `hold` is answered only at the next `release`; `sum`
 * answers with the sum of a transferred Float32Array; `exit` ends the thread; `crash` throws
 * outside any handler. With a `gate` in workerData the ready signal waits until `gate[0]` is 1
 * (a native module loading), `gate[1]` counts ready signals sent and `gate[2]` close messages seen.
 */
import process from 'node:process';
import { parentPort, workerData } from 'node:worker_threads';
import { TEST_WORKER_READY, type TestReply, type TestRequest, type TestWorkerData } from './pool-test-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('pool-test-worker.ts must run in a worker thread');
const { index, gate, ignoreClose } = workerData as TestWorkerData;

if (gate !== undefined) {
  while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0);
  Atomics.add(gate, 1, 1);
}
port.postMessage(TEST_WORKER_READY);

const held: { readonly id: number; readonly value?: unknown }[] = [];
port.on('message', (request: TestRequest | 'close') => {
  if (request === 'close') {
    if (gate !== undefined) Atomics.add(gate, 2, 1);
    if (ignoreClose !== true) port.close();
    return;
  }
  const reply = (to: { readonly id: number }, value: unknown): void =>
    port.postMessage({ id: to.id, worker: index, value } satisfies TestReply);
  switch (request.op) {
    case 'echo':
      return reply(request, request.value);
    case 'hold':
      held.push(request);
      return;
    case 'release':
      for (const h of held.splice(0)) reply(h, h.value);
      return reply(request, request.value);
    case 'sum':
      return reply(
        request,
        request.data.reduce((a, b) => a + b, 0),
      );
    case 'exit':
      process.exit(3);
      return;
    case 'crash':
      setImmediate(() => {
        throw new Error('the test worker crashed');
      });
  }
});
