/**
 * Starts a worker thread whose entry is a TypeScript module. The main thread runs the sources
 * through tsx; a worker does not inherit module hooks registered through tsx's API, and Node 20
 * ignores `--import` in a worker's execArgv, so a tiny bootstrap registers tsx inside the worker
 * before importing the entry.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts `entry` (a `.ts` file URL) in a new worker. */
export function startTsWorker(entry: URL, options: Omit<WorkerOptions, 'eval' | 'execArgv'> = {}): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsx)})` +
    `.then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })` +
    `.catch((error) => { console.error(error); process.exit(1); });`;
  return new Worker(bootstrap, { ...options, eval: true, execArgv: [] });
}
