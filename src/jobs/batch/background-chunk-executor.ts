/**
 * Runs batch chunks in a background thread of the lowest CPU priority (`chunk-thread.ts`), for a
 * process that serves online inference beside its jobs (`stratum serve`). On the main thread a
 * chunk would read, parse and convert thousands of rows between online requests, and its model
 * runs would queue beside theirs in the serving runtime pool; in the background thread, at nice
 * 19 with session threads of its own, the kernel gives online inference the cores whenever it
 * wants them and the batch the rest. The thread starts with the first chunk and ends when the
 * executor closes. (onnxruntime starts one thread for the whole process the first time a session
 * is created anywhere; it takes the priority of its creator, so a process that serves models —
 * loaded at start, at normal priority — keeps that thread at normal priority.)
 */
import { fromThreadFailure } from '../../errors/thread-failure.ts';
import { StratumError } from '../../errors/index.ts';
import { BACKGROUND_NICENESS } from '../../runtime/thread-priority.ts';
import { createWorkerPool, describeLoss, type WorkerPool } from '../../runtime/worker-pool.ts';
import type { ThreadStores } from '../thread-job.ts';
import type { ChunkExecutor } from './chunk-executor.ts';
import {
  CHUNK_THREAD_CLOSE,
  CHUNK_THREAD_READY,
  type ChunkThreadData,
  type ChunkThreadReply,
  type ChunkThreadRequest,
} from './chunk-thread-messages.ts';
import type { BatchPlan } from './batch-plan.ts';
import type { OutputColumn } from './output-columns.ts';
import type { ChunkResult } from './run-chunk.ts';

/** Options of {@link backgroundChunkExecutor}. */
export interface BackgroundChunkExecutorOptions {
  /** Session threads the background thread runs models in. @default 1 */
  readonly workers?: number;
  /** The nice value of the background threads. @default BACKGROUND_NICENESS (19) */
  readonly niceness?: number;
  /** Where registry models are read from; without it only `.onnx` file models run. */
  readonly stores?: ThreadStores;
  /** @default 'warn' */
  readonly logLevel?: string;
}

/** A background thread for chunks; see the module comment. */
export function backgroundChunkExecutor(options: BackgroundChunkExecutorOptions = {}): ChunkExecutor {
  const workerData: ChunkThreadData = {
    niceness: options.niceness ?? BACKGROUND_NICENESS,
    workers: Math.max(1, options.workers ?? 1),
    stores: options.stores,
    logLevel: options.logLevel ?? 'warn',
  };
  let pool: WorkerPool<ChunkThreadRequest, ChunkThreadReply> | undefined;
  let closed: Promise<void> | undefined;
  const started = (): WorkerPool<ChunkThreadRequest, ChunkThreadReply> =>
    (pool ??= createWorkerPool<ChunkThreadRequest, ChunkThreadReply>({
      entry: new URL('./chunk-thread.ts', import.meta.url),
      size: 1,
      name: 'stratum-batch-chunks',
      workerData: () => workerData,
      keepAlive: 'while-busy',
      repliesInOrder: false,
      readySignal: CHUNK_THREAD_READY,
      // The thread holds onnxruntime sessions: it ends by itself after releasing them.
      shutdown: { message: CHUNK_THREAD_CLOSE },
      lostError: (_request, loss) =>
        new StratumError(
          'INTERNAL',
          `the batch chunk thread: ${describeLoss(loss, { worker: 'chunk thread', closedBecause: 'the executor was closed' })}`,
        ),
    }));

  const open = (): WorkerPool<ChunkThreadRequest, ChunkThreadReply> => {
    if (closed !== undefined) throw new StratumError('SHUTTING_DOWN', 'the batch chunk executor is closed');
    return started();
  };

  /** Sends a request the signal can stop: the thread stops it and replies, and the reply is awaited. */
  async function ask(request: ChunkThreadRequest, signal: AbortSignal): Promise<unknown> {
    signal.throwIfAborted();
    const threads = open();
    const onAbort = (): void => {
      threads.request(0, { id: threads.nextId(), op: 'abort', run: request.id }).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await threads.request(0, request);
      signal.throwIfAborted();
      if (!reply.ok) throw replyError(reply);
      return reply.result;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
  const nextId = (): number => open().nextId();

  return {
    async plan({ spec, signal }) {
      return (await ask({ id: nextId(), op: 'plan', spec }, signal)) as BatchPlan;
    },
    async columns({ spec, plan }) {
      const never = new AbortController().signal;
      return (await ask({ id: nextId(), op: 'columns', spec, plan }, never)) as readonly OutputColumn[];
    },
    async run({ spec, plan, chunk, signal }) {
      return (await ask({ id: nextId(), op: 'run', spec, plan, chunk }, signal)) as ChunkResult;
    },
    close() {
      closed ??= pool?.close() ?? Promise.resolve();
      return closed;
    },
  };
}

/** The error a thread replied with, as the StratumError it was. */
function replyError(reply: Extract<ChunkThreadReply, { ok: false }>): StratumError {
  return fromThreadFailure(reply);
}
