/**
 * The process-level collective as the trainers need it: synchronous, because a tree grows in a
 * synchronous loop (`grow-tree.ts`) that asks for a summed histogram at every node. A worker
 * thread (`collective-thread.ts`) holds the Redis connections; this thread posts each operation
 * and blocks in `Atomics.wait` until the reply is there, then takes it with
 * `receiveMessageOnPort`: a few tens of microseconds over the Redis round trip itself.
 */
import { MessageChannel, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { StratumError, type ErrorCode } from '../../errors/index.ts';
import { startWorker } from '../../runtime/start-worker.ts';
import type { CollectiveReply, CollectiveRequest, CollectiveThreadData } from './collective-thread.ts';
import type { CollectiveStats, RedisCollectiveOptions } from './redis-collective.ts';
import { CONTROL, waitForCount } from './shard-protocol.ts';

/** {@link CollectiveStats} plus the training thread's side. */
export interface SyncCollectiveStats extends CollectiveStats {
  /**
   * Milliseconds the training thread spent blocked in operations (joining included): Redis
   * round trips and transfers, and waiting for slower ranks to arrive.
   */
  readonly blockedMs: number;
}

/** One rank's blocking handle on its group; call the operations in the same order on every rank. */
export interface SyncCollective {
  readonly rank: number;
  readonly worldSize: number;
  readonly group: string;
  /** Blocks until every rank has opened. @throws StratumError COLLECTIVE_FAILED naming the missing ranks. */
  join(): void;
  /** Replaces `values` with their element-wise sum over every rank (bit-identical on every rank). */
  allreduceSum(values: Float64Array): void;
  /** Rank `root`'s bytes on every rank. @default root 0 */
  broadcast(bytes: Uint8Array | undefined, root?: number): Uint8Array;
  barrier(): void;
  /** Bytes and messages this rank exchanged so far, and how long this thread was blocked in operations. */
  stats(): SyncCollectiveStats;
  /**
   * Leaves the group and ends the thread; with `error`, the other ranks fail with it. Idempotent.
   */
  close(error?: unknown): Promise<void>;
}

const ENTRY = new URL('./collective-thread.ts', import.meta.url);

/** How long start-up (thread, tsx in development, Redis connections) may take. */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts this rank's collective thread and claims the rank. Returns at once; the first operation
 * blocks until the thread is up.
 * @throws StratumError BAD_REQUEST for a bad rank, world size, group or URL.
 */
export function startSyncCollective(options: RedisCollectiveOptions): SyncCollective {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL.length * 4));
  const { port1, port2 } = new MessageChannel();
  const data: CollectiveThreadData = { options, control, replies: port2 };
  const worker: Worker = startWorker(ENTRY, { workerData: data, transferList: [port2] });
  // The training thread waits on `control`, never on the event loop: the thread must not hold the process.
  worker.unref();
  port1.unref();
  let crash: Error | undefined;
  worker.on('error', (error) => {
    crash = error;
  });
  let started = false;
  let blockedMs = 0;
  let closed: Promise<void> | undefined;
  const label = `distributed training group "${options.group}", rank ${options.rank}`;

  const take = (): unknown => {
    const received = receiveMessageOnPort(port1);
    const reply = received?.message as CollectiveReply | undefined;
    if (reply === undefined)
      throw new StratumError('COLLECTIVE_FAILED', `${label}: the collective thread sent no reply`);
    if (!reply.ok) throw new StratumError(knownCode(reply.code), reply.message);
    return reply.value;
  };
  const awaitFlag = (index: number, timeoutMs?: number): void => {
    const outcome = waitForCount({ control, index, target: 1, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    if (outcome === 'reached') return;
    const why = outcome === 'exited' ? `ended${crash === undefined ? '' : ` (${crash.message})`}` : 'did not start';
    throw new StratumError('COLLECTIVE_FAILED', `${label}: the collective thread ${why}`);
  };
  const call = (request: CollectiveRequest): unknown => {
    if (closed !== undefined) throw new StratumError('COLLECTIVE_FAILED', `${label}: used after close()`);
    if (!started) {
      awaitFlag(CONTROL.ready, START_TIMEOUT_MS);
      started = true;
      take();
    }
    const begun = performance.now();
    Atomics.store(control, CONTROL.done, 0);
    worker.postMessage(request);
    awaitFlag(CONTROL.done);
    if (request.op !== 'stats') blockedMs += performance.now() - begun;
    return take();
  };

  return {
    rank: options.rank,
    worldSize: options.worldSize,
    group: options.group,
    join: () => void call({ op: 'join' }),
    allreduceSum: (values) => {
      values.set(call({ op: 'allreduce', values }) as Float64Array);
    },
    broadcast: (bytes, root = 0) => call({ op: 'broadcast', bytes, root }) as Uint8Array,
    barrier: () => void call({ op: 'barrier' }),
    stats: () => ({ ...(call({ op: 'stats' }) as CollectiveStats), blockedMs }),
    close: (error) => {
      closed ??= (async () => {
        const exited = once(worker, 'exit');
        // Held from here on: nothing else keeps the event loop alive while the thread leaves the group.
        worker.ref();
        try {
          // A rank that fails early (bad data) still tells the others, once its thread is up.
          const deadline = Date.now() + START_TIMEOUT_MS;
          while (Atomics.load(control, CONTROL.ready) === 0 && Atomics.load(control, CONTROL.exited) === 0) {
            if (Date.now() > deadline) break;
            await waitWhileZero(control, CONTROL.ready);
          }
          if (Atomics.load(control, CONTROL.exited) === 0 && Atomics.load(control, CONTROL.ready) === 1) {
            Atomics.store(control, CONTROL.done, 0);
            const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error);
            worker.postMessage({ op: 'close', ...(message !== undefined && { error: message }) });
            // The thread answers once its keys are gone; the wait is bounded by its own timeouts.
            while (Atomics.load(control, CONTROL.done) === 0 && Atomics.load(control, CONTROL.exited) === 0) {
              await waitWhileZero(control, CONTROL.done);
            }
          }
        } finally {
          port1.close();
          await worker.terminate();
          await exited;
        }
      })();
      return closed;
    },
  };
}

/**
 * Resolves once `array[index]` is not 0 or after a second, without blocking the event loop:
 * `Atomics.waitAsync` (Node >= 16), which the ES2023 library this project compiles against does not declare.
 */
async function waitWhileZero(array: Int32Array, index: number): Promise<void> {
  const atomics = Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { value: unknown };
  };
  await atomics.waitAsync(array, index, 0, 1000).value;
}

function knownCode(code: string): ErrorCode {
  return code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'COLLECTIVE_FAILED';
}
