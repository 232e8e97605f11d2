/**
 * The shared-memory command channel between a training thread and its shard workers: one
 * `Int32Array` of control words in a SharedArrayBuffer. The caller writes a command's operation
 * and arguments, bumps the generation and wakes the workers with `Atomics.notify`; each worker
 * runs the command on its own rows, counts itself done and notifies back. Commands are tiny and
 * frequent (one per tree split), so they avoid `postMessage` and its event-loop round trip.
 */
import process from 'node:process';
import { StratumError } from '../../errors/index.ts';
import { createWorkerPool, type WorkerPoolOptions } from '../../runtime/worker-pool.ts';

/** Control word indices. */
export const CONTROL = Object.freeze({
  /** Command counter; workers wait for it to change. */
  generation: 0,
  /** Workers finished with the current command. */
  done: 1,
  /** Set to 1 by a worker whose command threw (the message is in the error bytes). */
  failed: 2,
  /** Workers started and waiting for commands. */
  ready: 3,
  /** Workers whose thread has ended. */
  exited: 4,
  /** The operation code. */
  op: 5,
  /** First argument; arguments are integers. */
  args: 6,
  /** Control words in all. */
  length: 16,
} as const);

/** Bytes reserved for a worker's error message (UTF-8 JSON `{ code, message }`). */
export const ERROR_BYTES = 4096;

/** Writes `error` into `bytes` as JSON, truncated to fit. */
export function writeError(bytes: Uint8Array, error: unknown): void {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  const encoded = new TextEncoder().encode(JSON.stringify({ code, message: message.slice(0, 1000) }));
  bytes.fill(0);
  bytes.set(encoded.subarray(0, bytes.length));
}

/** Reads what {@link writeError} wrote; `undefined` when nothing was. */
export function readError(bytes: Uint8Array): { code: string; message: string } | undefined {
  const end = bytes.indexOf(0);
  if (end === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end))) as {
      code: string;
      message: string;
    };
  } catch {
    return { code: 'INTERNAL', message: 'unreadable worker error' };
  }
}

/** A worker's side of the channel: runs `handle` for every command until `stop` is the op. */
export function serveCommands(args: {
  control: Int32Array;
  errorBytes: Uint8Array;
  stop: number;
  handle: (op: number, control: Int32Array) => void;
}): void {
  const { control, errorBytes, stop, handle } = args;
  let seen = Atomics.load(control, CONTROL.generation);
  Atomics.add(control, CONTROL.ready, 1);
  Atomics.notify(control, CONTROL.ready);
  for (;;) {
    Atomics.wait(control, CONTROL.generation, seen);
    seen = Atomics.load(control, CONTROL.generation);
    const op = Atomics.load(control, CONTROL.op);
    if (op === stop) return;
    try {
      handle(op, control);
    } catch (error) {
      // Only the first failure is kept; the caller reads it once every worker is done.
      if (Atomics.compareExchange(control, CONTROL.failed, 0, 1) === 0) writeError(errorBytes, error);
    }
    Atomics.add(control, CONTROL.done, 1);
    Atomics.notify(control, CONTROL.done);
  }
}

/** Blocks until `control[index]` reaches `target` or a worker thread ended; returns which happened. */
export function waitForCount(args: {
  control: Int32Array;
  index: number;
  target: number;
  timeoutMs?: number;
}): 'reached' | 'exited' | 'timed-out' {
  const { control, index, target } = args;
  const deadline = args.timeoutMs === undefined ? Infinity : Date.now() + args.timeoutMs;
  for (;;) {
    const value = Atomics.load(control, index);
    if (value >= target) return 'reached';
    if (Atomics.load(control, CONTROL.exited) > 0) return 'exited';
    const left = deadline - Date.now();
    if (left <= 0) return 'timed-out';
    // Bounded waits, so an exit that raced the check above is still seen.
    Atomics.wait(control, index, value, Math.min(left, 1000));
  }
}

/** The caller's side of the channel over the worker threads it started. */
export interface CommandChannel {
  /**
   * Runs `op` with integer `args` on every worker while `local` runs on this thread, and returns
   * once all are done. The first command waits for the workers to start.
   * @throws StratumError INTERNAL when a worker threw, exited or did not start (the channel is then closed).
   */
  run(op: number, args: readonly number[], local: () => void): void;
  /** Tells the workers to stop and terminates their threads; idempotent. */
  close(): Promise<void>;
}

/** The worker threads a channel starts, on the shared worker pool. */
export type CommandWorkers = Pick<WorkerPoolOptions<never>, 'entry' | 'size' | 'name' | 'workerData' | 'onExit'>;

/** Options for {@link commandChannel}. */
export interface CommandChannelOptions {
  /** The workers to start, each running {@link serveCommands} over `control`. */
  readonly workers: CommandWorkers;
  /** Control words shared with the workers (`CONTROL.length` of them). */
  readonly control: Int32Array;
  /** Error bytes shared with the workers. */
  readonly errorBytes: Uint8Array;
  /** The op that makes {@link serveCommands} return. */
  readonly stop: number;
  /** Names the workers in error messages, e.g. "GBDT worker". */
  readonly label: string;
  /** How long the first command waits for the workers to start. @default 60000 */
  readonly startTimeoutMs?: number;
}

/** Starts the worker threads and wraps them in a {@link CommandChannel}. */
export function commandChannel(options: CommandChannelOptions): CommandChannel {
  const { control, errorBytes, stop, label } = options;
  // No message ever crosses: commands go through `control`. The threads never keep the process
  // alive (this thread blocks on them in Atomics.wait instead), and the pool listens for their
  // 'error' events, so a late one never becomes an uncaught exception.
  const pool = createWorkerPool({ ...options.workers, keepAlive: 'never' });
  const size = options.workers.size;
  let closed: Promise<void> | undefined;
  let ready = false;
  const close = (): Promise<void> => {
    if (closed === undefined) {
      Atomics.store(control, CONTROL.op, stop);
      Atomics.add(control, CONTROL.generation, 1);
      Atomics.notify(control, CONTROL.generation);
      closed = pool.close();
    }
    return closed;
  };
  const fail = (message: string): never => {
    void close();
    throw new StratumError('INTERNAL', `${label}: ${message}`);
  };
  const run = (op: number, args: readonly number[], local: () => void): void => {
    if (closed !== undefined) throw new StratumError('INTERNAL', `${label}: used after close()`);
    // Waiting for start-up only at the first command lets the caller prepare data meanwhile.
    if (!ready) {
      const timeoutMs = options.startTimeoutMs ?? 60_000;
      const started = waitForCount({ control, index: CONTROL.ready, target: size, timeoutMs });
      if (started !== 'reached') fail(`threads did not start (${started})`);
      ready = true;
    }
    control.set(args, CONTROL.args);
    Atomics.store(control, CONTROL.op, op);
    Atomics.store(control, CONTROL.done, 0);
    Atomics.add(control, CONTROL.generation, 1);
    Atomics.notify(control, CONTROL.generation);
    let localError: unknown;
    try {
      local();
    } catch (error) {
      localError = error;
    }
    const outcome = waitForCount({ control, index: CONTROL.done, target: size });
    if (outcome !== 'reached') fail('a worker thread exited during the command');
    if (Atomics.load(control, CONTROL.failed) !== 0) {
      fail(`a worker thread failed: ${readError(errorBytes)?.message ?? 'unknown error'}`);
    }
    if (localError !== undefined) {
      void close();
      throw localError;
    }
  };
  return { run, close };
}

/** Registers the exit signal a worker gives its caller; call first thing in a worker entry. */
export function signalExit(control: Int32Array): void {
  process.on('exit', () => {
    Atomics.add(control, CONTROL.exited, 1);
    Atomics.notify(control, CONTROL.done);
    Atomics.notify(control, CONTROL.ready);
  });
}
