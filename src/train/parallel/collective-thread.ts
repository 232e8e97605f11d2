/**
 * Worker-thread entry of the synchronous collective (`sync-collective.ts`): holds the Redis
 * connections of one rank and runs each operation the training thread posts. The reply goes on a
 * message port that the training thread reads synchronously (`receiveMessageOnPort`) once a
 * shared flag says it is there. This thread's event loop stays free while the training thread
 * blocks, so heartbeats and blocking reads go on during long histogram passes.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openRedisCollective, type Collective, type RedisCollectiveOptions } from './redis-collective.ts';
import { CONTROL, signalExit } from './shard-protocol.ts';

/** What the thread starts with. */
export interface CollectiveThreadData {
  readonly options: RedisCollectiveOptions;
  /** `CONTROL.length` words: `ready` once opened, `done` once a reply is on `replies`, `exited`. */
  readonly control: Int32Array;
  /** Where replies go. */
  readonly replies: MessagePort;
}

/** One operation, posted by the training thread (which then waits on `control`). */
export type CollectiveRequest =
  | { readonly op: 'allreduce'; readonly values: Float64Array }
  | { readonly op: 'broadcast'; readonly bytes: Uint8Array | undefined; readonly root: number }
  | { readonly op: 'join' | 'barrier' | 'stats' }
  | { readonly op: 'close'; readonly error?: string };

/** The answer to a request (or to start-up). */
export type CollectiveReply =
  | { readonly ok: true; readonly value?: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

const { options, control, replies } = workerData as CollectiveThreadData;
signalExit(control);

const reply = (message: CollectiveReply, flag: number): void => {
  replies.postMessage(message);
  Atomics.store(control, flag, 1);
  Atomics.notify(control, flag);
};
const failure = (error: unknown): CollectiveReply => ({
  ok: false,
  code: typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'COLLECTIVE_FAILED',
  message: error instanceof Error ? error.message : String(error),
});

async function handle(collective: Collective, request: CollectiveRequest): Promise<unknown> {
  switch (request.op) {
    case 'allreduce':
      return collective.allreduceSum(request.values);
    case 'broadcast':
      return collective.broadcast(request.bytes, request.root);
    case 'join':
      return collective.join();
    case 'barrier':
      return collective.barrier();
    case 'stats':
      return collective.stats();
    case 'close':
      return collective.close(request.error === undefined ? undefined : new Error(request.error));
  }
}

try {
  const collective = await openRedisCollective(options);
  // One request at a time: the training thread blocks until each is answered.
  parentPort?.on('message', (request: CollectiveRequest) => {
    handle(collective, request).then(
      (value) => {
        reply({ ok: true, value }, CONTROL.done);
        if (request.op === 'close') parentPort?.close();
      },
      (error: unknown) => reply(failure(error), CONTROL.done),
    );
  });
  reply({ ok: true }, CONTROL.ready);
} catch (error) {
  reply(failure(error), CONTROL.ready);
}
