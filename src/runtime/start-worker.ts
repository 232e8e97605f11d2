/**
 * Starts a worker thread from a module beside its caller, named by its TypeScript source
 * (`new URL('./session-worker.ts', import.meta.url)`).
 *
 * The package runs compiled JavaScript: there the entry is the `.js` file `tsc` wrote beside the
 * caller, and the worker starts with no loader at all. Tests, benchmarks and scripts run the
 * sources through tsx; a worker does not inherit module hooks registered through tsx's API and
 * Node 20 ignores `--import` in a worker's execArgv, so there a tiny bootstrap registers tsx inside
 * the worker before importing the entry (≈ 0.3–0.5 s a worker, which the compiled path avoids).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** True when this module is compiled JavaScript, i.e. the package's `dist/`, not the sources. */
const COMPILED = import.meta.url.endsWith('.js');

/** Starts `entry` (a `.ts` file URL beside the caller's source) in a new worker. */
export function startWorker(entry: URL, options: Omit<WorkerOptions, 'eval' | 'execArgv'> = {}): Worker {
  if (COMPILED) return new Worker(compiledEntry(entry), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsx)})` +
    `.then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })` +
    `.catch((error) => { console.error(error); process.exit(1); });`;
  return new Worker(bootstrap, { ...options, eval: true, execArgv: [] });
}

/** The compiled file of a source entry: `tsc` rewrites import specifiers, not URL literals. */
export function compiledEntry(entry: URL): URL {
  return entry.pathname.endsWith('.ts') ? new URL(entry.href.replace(/\.ts$/, '.js')) : entry;
}
