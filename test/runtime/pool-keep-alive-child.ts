/**
 * A process for the keep-alive test: a `while-busy` pool answers one request that the worker
 * holds until a second one releases it, prints the reply and is left open. The process must wait
 * for the reply and then end by itself.
 */
import { createWorkerPool } from '../../src/runtime/worker-pool.ts';
import { TEST_WORKER_ENTRY, type TestReply, type TestRequest } from './pool-test-protocol.ts';

const pool = createWorkerPool<TestRequest, TestReply>({
  entry: TEST_WORKER_ENTRY,
  size: 1,
  name: 'keep-alive-child',
  workerData: (index) => ({ index }),
  keepAlive: 'while-busy',
});
// Nothing but the pool holds the event loop while the first reply is owed.
void pool.request(0, { id: pool.nextId(), op: 'hold', value: 'held reply' }).then((reply) => {
  process.stdout.write(`${String(reply.value)}\n`);
});
void pool.request(0, { id: pool.nextId(), op: 'release' });
