/**
 * Counting this process's OS threads (Linux), to prove that worker threads end: they are unref'd,
 * so Node's resource list misses them. A terminated worker's thread exits a little later, and
 * later still on a busy machine, so tests wait for the count to come down (a state) instead of
 * sampling it after a pause.
 */
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { waitFor } from './wait-for.ts';

/** Threads of this process now. */
export function osThreads(): number {
  const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (match === null) throw new Error('no thread count in /proc/self/status');
  return Number(match[1]);
}

// libuv starts its whole thread pool on the first asynchronous file operation: start it now, so
// that it is part of the baseline rather than appearing later and passing for a leak.
await stat(import.meta.dirname);

/**
 * Threads of this process when this module was first imported: before any test of the file
 * started a worker (each test file runs in a process of its own).
 */
export const BASELINE_THREADS = osThreads();

/**
 * Waits until the process has at most `limit` threads (default: the baseline): every worker
 * thread started since has ended. Fails, naming the counts, if that never happens.
 */
export async function threadsEnded(limit = BASELINE_THREADS): Promise<void> {
  await waitFor(`the worker threads to end (at most ${limit} threads)`, () => osThreads() <= limit).catch(
    (error: unknown) => {
      throw new Error(`${(error as Error).message}: ${osThreads()} threads are running`);
    },
  );
}
