/**
 * Converts `infer_async` JSON bodies to the binary form in a thread of their own
 * (`infer-async-body-thread.ts`), so that a stream of asynchronous submissions does not
 * spend the event loop parsing numbers while online requests wait. A bad body fails with the same
 * error the REST decoder gives on the main thread (it is the same decoder).
 */
import { fromThreadFailure } from '../errors/thread-failure.ts';
import { StratumError } from '../errors/index.ts';
import { createWorkerPool, describeLoss, type WorkerPool } from '../runtime/worker-pool.ts';
import type { BodyReply, BodyRequest } from './infer-async-body-messages.ts';

/** A body in the binary extension's form. */
export interface BinaryBody {
  readonly body: Buffer;
  readonly headerLength: number;
}

/** The decoder; `close()` ends its thread. */
export interface InferAsyncDecoder {
  /**
   * The binary form of a JSON inference body.
   * @throws StratumError INVALID_JSON, BAD_REQUEST, INVALID_INPUT or INVALID_PARAMETER, as the REST decoder.
   */
  toBinary(body: Buffer, maxBytesElement: number): Promise<BinaryBody>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** A decoder whose thread starts with the first body. */
export function createInferAsyncDecoder(): InferAsyncDecoder {
  let pool: WorkerPool<BodyRequest, BodyReply> | undefined;
  let closed: Promise<void> | undefined;
  return {
    async toBinary(body, maxBytesElement) {
      if (closed !== undefined) throw new StratumError('SHUTTING_DOWN', 'the server is shutting down');
      pool ??= createWorkerPool<BodyRequest, BodyReply>({
        entry: new URL('./infer-async-body-thread.ts', import.meta.url),
        size: 1,
        name: 'stratum-infer-async-bodies',
        keepAlive: 'while-busy',
        lostError: (_request, loss) =>
          new StratumError(
            'INTERNAL',
            `the infer_async body thread: ${describeLoss(loss, { worker: 'body thread', closedBecause: 'the server is shutting down' })}`,
          ),
      });
      // Copied, not transferred: a small body may be a view into Node's shared buffer pool.
      const reply = await pool.request(0, { id: pool.nextId(), body, maxBytesElement });
      if (!reply.ok) {
        throw fromThreadFailure(reply);
      }
      return {
        body: Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength),
        headerLength: reply.headerLength,
      };
    },
    close() {
      closed ??= pool?.close() ?? Promise.resolve();
      return closed;
    },
  };
}
