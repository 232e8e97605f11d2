/**
 * What the CPU probes share: a fresh `stratum serve` from a built root (one session worker, one
 * intra-op thread, optional environment), a load-generator run whose measuring window is announced
 * on stdout, and the server's CPU time read from /proc over exactly that window — the main thread
 * apart from every other thread (session worker, log thread, onnxruntime).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { LoadEvent, LoadResult } from '../load/load-result.ts';
import { freePort } from '../process/free-port.ts';
import { type CpuSnapshot, cpuSnapshot } from '../process/proc-stats.ts';
import { restLoadTarget } from '../workload.ts';

/** This checkout: the load generator and helpers run from here, whatever root is measured. */
export const BENCH_ROOT = resolve(import.meta.dirname, '..', '..');

/** One load run and the server's CPU seconds over its measuring window. */
export interface Measured {
  readonly load: LoadResult;
  readonly mainCpuSeconds: number;
  readonly otherCpuSeconds: number;
}

/** Runs `node args` from {@link BENCH_ROOT}, handing each stdout line to `onLine`. */
export function runNode(args: readonly string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: BENCH_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let end;
      while ((end = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
      }
    });
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

/** Loads `server` with `bench/load/rest-load.ts` and reads its CPU time over the measured window. */
export async function measure(
  server: { pid: number; port: number },
  request: { path: string; headerLength?: number },
  run: { model: string; concurrency: number; durationMs: number; warmupMs: number },
): Promise<Measured> {
  let start: CpuSnapshot | undefined;
  let end: CpuSnapshot | undefined;
  let load: LoadResult | undefined;
  await runNode(
    [
      '--import',
      'tsx',
      'bench/load/rest-load.ts',
      ...restLoadTarget(server.port, run.model, request),
      '--concurrency',
      String(run.concurrency),
      '--warmup-ms',
      String(run.warmupMs),
      '--duration-ms',
      String(run.durationMs),
    ],
    (line) => {
      if (line.startsWith('{"event"')) {
        const { event } = JSON.parse(line) as LoadEvent;
        if (event === 'measure-start') start = cpuSnapshot(server.pid);
        else end = cpuSnapshot(server.pid);
      } else if (line.startsWith('{')) load = JSON.parse(line) as LoadResult;
    },
  );
  if (start === undefined || end === undefined || load === undefined)
    throw new Error('the load generator said nothing');
  return { load, mainCpuSeconds: end.main - start.main, otherCpuSeconds: end.others - start.others };
}

/** Options of {@link startServer}. */
export interface ProbeServerOptions {
  /** A checkout with a built `dist/`. */
  readonly root: string;
  readonly repoDir: string;
  /** Added to this process's environment (STRATUM_* settings). @default none */
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags before the CLI (`--cpu-prof`, …). @default none */
  readonly nodeArgs?: readonly string[];
  /** Session workers. @default 1 */
  readonly workers?: number;
}

/** Starts `stratum serve` and waits until it is ready. */
export async function startServer(options: ProbeServerOptions): Promise<{ child: ChildProcess; port: number }> {
  const { root, repoDir } = options;
  const port = await freePort();
  const grpcPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      join(root, 'bin', 'stratum.js'),
      'serve',
      '--models',
      repoDir,
      '--no-registry',
      '--http-port',
      String(port),
      '--grpc-port',
      String(grpcPort),
      '--workers',
      String(options.workers ?? 1),
      '--intra-op-threads',
      '1',
      '--no-watch',
      '--log-level',
      'warn',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...options.env } },
  );
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`stratum (${root}) exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).ok) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`stratum (${root}) never became ready`);
}

/** Stops a server started by {@link startServer} (SIGTERM, then waits for its exit). */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
