/**
 * A shared-memory channel whose commands are cut into numbered blocks that the calling thread and
 * its workers claim one at a time (an atomic compare-and-swap on one control word) until none is
 * left. Who sums a block never changes what it sums, so a caller that writes each block's result
 * to its own slot and adds the slots in block order gets the same bits from any thread count, and
 * a thread that is late (still starting, or descheduled on a busy machine) just claims fewer
 * blocks: the caller never waits for a worker to start, only for blocks a worker has claimed.
 */
import { StratumError } from '../../errors/index.ts';
import { createWorkerPool } from '../../runtime/worker-pool.ts';
import { readError, waitForCount, writeError, type CommandWorkers } from './shard-protocol.ts';

/**
 * Control word indices; `done` and `exited` sit where `shard-protocol`'s `CONTROL` has them, so
 * its `signalExit` and `waitForCount` serve this channel too.
 */
export const BLOCK_CONTROL = Object.freeze({
  /** Command counter; workers wait for it to change. */
  generation: 0,
  /** Blocks of the current command finished. */
  done: 1,
  /** Set to 1 by a thread whose block threw (the message is in the error bytes). */
  failed: 2,
  /** The claim word: generation (high 16 bits), block count (8 bits), next unclaimed block (low 8 bits). */
  claim: 3,
  /** Workers whose thread has ended. */
  exited: 4,
  /** The operation code. */
  op: 5,
  /** First argument; arguments are integers. */
  args: 6,
  /** Control words in all. */
  length: 16,
} as const);

/** Most blocks a command can have (the claim word's 8 bits). */
export const MAX_BLOCKS = 255;

/**
 * Claims the next block of the command of generation `generation`, or returns -1 when every block
 * is claimed or the command is no longer current. The block count travels in the claim word
 * itself, so a late thread never claims a block of a command it read the arguments of too late.
 */
function claimBlock(control: Int32Array, generation: number): number {
  for (;;) {
    const word = Atomics.load(control, BLOCK_CONTROL.claim);
    if (word >>> 16 !== (generation & 0xffff)) return -1;
    const next = word & 0xff;
    if (next >= ((word >>> 8) & 0xff)) return -1;
    if (Atomics.compareExchange(control, BLOCK_CONTROL.claim, word, word + 1) === word) return next;
  }
}

/** Runs one claimed block, recording a failure instead of throwing, and counts it done. */
function runBlock(args: { control: Int32Array; errorBytes: Uint8Array; work: () => void }): void {
  const { control, errorBytes, work } = args;
  try {
    work();
  } catch (error) {
    // Only the first failure is kept; the caller reads it once every block is done.
    if (Atomics.compareExchange(control, BLOCK_CONTROL.failed, 0, 1) === 0) writeError(errorBytes, error);
  }
  Atomics.add(control, BLOCK_CONTROL.done, 1);
  Atomics.notify(control, BLOCK_CONTROL.done);
}

/** A worker's side: claims and runs blocks of every command until `stop` is the op. */
export function serveBlocks(args: {
  control: Int32Array;
  errorBytes: Uint8Array;
  stop: number;
  /** Runs block `block` of a command with operation `op` (its arguments are in `control`). */
  handle: (op: number, block: number) => void;
}): void {
  const { control, errorBytes, stop, handle } = args;
  // A worker that starts while a command runs joins it at once (its claims check the generation).
  let seen = Atomics.load(control, BLOCK_CONTROL.generation);
  for (;;) {
    const op = Atomics.load(control, BLOCK_CONTROL.op);
    if (op === stop) return;
    for (let block = claimBlock(control, seen); block >= 0; block = claimBlock(control, seen)) {
      const claimed = block;
      runBlock({ control, errorBytes, work: () => handle(op, claimed) });
    }
    Atomics.wait(control, BLOCK_CONTROL.generation, seen);
    seen = Atomics.load(control, BLOCK_CONTROL.generation);
  }
}

/** The caller's side of a block channel. */
export interface BlockChannel {
  /**
   * Runs blocks `0 … blocks − 1` of `op` with integer `args`: this thread runs `local(block)` for
   * the blocks it claims, the workers theirs; returns once every block is done.
   * @throws StratumError INTERNAL when a worker's block threw or a worker thread ended (the
   * channel is then closed); a block that threw on this thread rethrows its error.
   */
  run(command: { op: number; args: readonly number[]; blocks: number; local: (block: number) => void }): void;
  /** Tells the workers to stop and terminates their threads; idempotent. */
  close(): Promise<void>;
}

/** Options for {@link blockChannel}. */
export interface BlockChannelOptions {
  /** The workers to start, each running {@link serveBlocks} over `control`. */
  readonly workers: CommandWorkers;
  /** Control words shared with the workers (`BLOCK_CONTROL.length` of them). */
  readonly control: Int32Array;
  /** Error bytes shared with the workers. */
  readonly errorBytes: Uint8Array;
  /** The op that makes {@link serveBlocks} return. */
  readonly stop: number;
  /** Names the workers in error messages, e.g. "linear worker". */
  readonly label: string;
}

/** Starts the worker threads (without waiting for them) and wraps them in a {@link BlockChannel}. */
export function blockChannel(options: BlockChannelOptions): BlockChannel {
  const { control, errorBytes, stop, label } = options;
  // No message ever crosses: commands go through `control`. The threads never keep the process
  // alive (this thread blocks on them in Atomics.wait instead), and the pool listens for their
  // 'error' events, so a late one never becomes an uncaught exception.
  const pool = createWorkerPool({ ...options.workers, keepAlive: 'never' });
  let generation = Atomics.load(control, BLOCK_CONTROL.generation);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closed === undefined) {
      Atomics.store(control, BLOCK_CONTROL.op, stop);
      Atomics.add(control, BLOCK_CONTROL.generation, 1);
      Atomics.notify(control, BLOCK_CONTROL.generation);
      closed = pool.close();
    }
    return closed;
  };
  const fail = (message: string): never => {
    void close();
    throw new StratumError('INTERNAL', `${label}: ${message}`);
  };
  const run: BlockChannel['run'] = ({ op, args, blocks, local }) => {
    if (closed !== undefined) throw new StratumError('INTERNAL', `${label}: used after close()`);
    if (!(Number.isInteger(blocks) && blocks >= 1 && blocks <= MAX_BLOCKS)) {
      throw new StratumError('INTERNAL', `${label}: ${blocks} blocks, expected 1 to ${MAX_BLOCKS}`);
    }
    generation = (generation + 1) | 0;
    // Everything a worker reads is written before the generation that sends it there.
    for (let i = 0; i < args.length; i++) Atomics.store(control, BLOCK_CONTROL.args + i, args[i] as number);
    Atomics.store(control, BLOCK_CONTROL.op, op);
    Atomics.store(control, BLOCK_CONTROL.done, 0);
    Atomics.store(control, BLOCK_CONTROL.claim, ((generation & 0xffff) << 16) | (blocks << 8));
    Atomics.store(control, BLOCK_CONTROL.generation, generation);
    Atomics.notify(control, BLOCK_CONTROL.generation);
    let localError: unknown;
    for (let block = claimBlock(control, generation); block >= 0; block = claimBlock(control, generation)) {
      try {
        local(block);
      } catch (error) {
        localError ??= error;
      }
      Atomics.add(control, BLOCK_CONTROL.done, 1);
    }
    // Blocks a worker claimed may still be running: wait for those (never for a worker to start).
    const outcome = waitForCount({ control, index: BLOCK_CONTROL.done, target: blocks });
    // A worker only ends when closed: one that ended (even one this thread did not wait for) is a fault.
    if (outcome !== 'reached' || Atomics.load(control, BLOCK_CONTROL.exited) > 0) fail('a worker thread ended');
    if (Atomics.load(control, BLOCK_CONTROL.failed) !== 0) {
      fail(`a worker thread failed: ${readError(errorBytes)?.message ?? 'unknown error'}`);
    }
    if (localError !== undefined) {
      void close();
      throw localError;
    }
  };
  return { run, close };
}
