/**
 * Starts the Stratum server under test as its own process (`node bin/stratum.js serve …`) on free
 * loopback ports, with the server flags and per-model `config.json` of one configuration, and
 * waits for `/v2/health/ready`. It serves the fixture folder with the registry off (so no
 * `.stratum/` appears in the repository), or the registry on a temporary store.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessGroup } from '../process/process-group.ts';
import { freePort } from '../process/free-port.ts';
import type { BenchModel } from '../workload.ts';

/** One server configuration of the bench. */
export interface StratumSettings {
  /** Short name for tables, e.g. `w2·t1·d0`. */
  readonly label: string;
  /** `--workers` */
  readonly workers: number;
  /** `--intra-op-threads` */
  readonly intraOpThreads: number;
  /** config.json `dynamicBatching.maxQueueDelayMicroseconds` (omitted: the server's default). */
  readonly maxQueueDelayMicroseconds?: number;
  /** config.json `dynamicBatching.preferredBatchSizes`. */
  readonly preferredBatchSizes?: readonly number[];
  /** config.json `maxBatchSize`. */
  readonly maxBatchSize?: number;
  /** config.json `inlineRunMaxMicroseconds` (omitted: the server's default, off). */
  readonly inlineRunMaxMicroseconds?: number;
  /** `--front-ends` (omitted: the server's default, `auto`). */
  readonly frontEnds?: number | 'auto';
}

/** A running server. */
export interface StratumProcess {
  readonly pid: number;
  readonly httpUrl: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly settings: StratumSettings;
  stop(): Promise<void>;
}

/** Where the registry keeps its metadata and artifacts. */
export interface RegistryStores {
  /** `--database-url`, e.g. `sqlite:/tmp/…/stratum.db` */
  readonly databaseUrl: string;
  /** `--artifacts-url`, e.g. `file:/tmp/…/artifacts` */
  readonly artifactsUrl: string;
}

/** Options of {@link startStratum}. */
export interface StartStratumOptions {
  readonly group: ProcessGroup;
  /** The fixture repository (config.json files are (re)written into it); omitted: no `--models`. */
  readonly repoDir?: string;
  readonly models: readonly BenchModel[];
  /** Serve the registry from these stores; omitted: `--no-registry`. */
  readonly registry?: RegistryStores;
  readonly settings: StratumSettings;
  /** @default 90_000 */
  readonly readyTimeoutMs?: number;
  /** More `serve` flags (e.g. `--database-url` for the embedded job queue). */
  readonly extraArgs?: readonly string[];
  /**
   * The server's environment (settings without a flag, such as `STRATUM_TRACING`), to which
   * {@link SERVER_GLIBC_TUNABLES} is added unless it sets `GLIBC_TUNABLES`. @default this process's
   */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The allocator setting the image runs the server with (`Dockerfile`): blocks of 1 MiB and more get
 * their own mapping, returned when freed. Without it glibc keeps the memory of unloaded sessions in
 * its heaps (docs/BENCHMARKS.md, "Memory: 100 load/unload cycles"). A `GLIBC_TUNABLES` in the
 * bench's environment, even an empty one, is passed on instead: `GLIBC_TUNABLES= npm run bench`
 * measures the server without it.
 */
export const SERVER_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=1048576';

/** The `GLIBC_TUNABLES` servers started without an `env` of their own run with, for reports. */
export function serverGlibcTunables(): string {
  return serverEnv(undefined)['GLIBC_TUNABLES'] ?? '';
}

/** The server's environment: the caller's (or this process's), with the image's allocator setting. */
function serverEnv(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const base = env ?? process.env;
  return base['GLIBC_TUNABLES'] === undefined ? { ...base, GLIBC_TUNABLES: SERVER_GLIBC_TUNABLES } : base;
}

/** Writes each model's config.json for `settings` (or removes nothing: an empty object keeps defaults). */
async function writeModelConfigs(
  repoDir: string,
  models: readonly BenchModel[],
  settings: StratumSettings,
): Promise<void> {
  const batching: Record<string, unknown> = {};
  if (settings.maxQueueDelayMicroseconds !== undefined)
    batching['maxQueueDelayMicroseconds'] = settings.maxQueueDelayMicroseconds;
  if (settings.preferredBatchSizes !== undefined) batching['preferredBatchSizes'] = settings.preferredBatchSizes;
  const config: Record<string, unknown> = {};
  if (settings.maxBatchSize !== undefined) config['maxBatchSize'] = settings.maxBatchSize;
  if (settings.inlineRunMaxMicroseconds !== undefined)
    config['inlineRunMaxMicroseconds'] = settings.inlineRunMaxMicroseconds;
  if (Object.keys(batching).length > 0) config['dynamicBatching'] = batching;
  for (const model of models) await writeFile(join(repoDir, model, 'config.json'), `${JSON.stringify(config)}\n`);
}

/** Starts the server and waits until it is ready. */
export async function startStratum(options: StartStratumOptions): Promise<StratumProcess> {
  const { group, settings, repoDir, registry } = options;
  if (repoDir !== undefined) await writeModelConfigs(repoDir, options.models, settings);
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const child = group.spawnNode(
    [
      'bin/stratum.js',
      'serve',
      ...(repoDir === undefined ? [] : ['--models', repoDir]),
      ...(registry === undefined
        ? ['--no-registry']
        : ['--database-url', registry.databaseUrl, '--artifacts-url', registry.artifactsUrl]),
      '--http-port',
      String(httpPort),
      '--grpc-port',
      String(grpcPort),
      '--workers',
      String(settings.workers),
      '--intra-op-threads',
      String(settings.intraOpThreads),
      '--no-watch',
      ...(settings.frontEnds === undefined ? [] : ['--front-ends', String(settings.frontEnds)]),
      '--log-level',
      'warn',
      ...(options.extraArgs ?? []),
    ],
    serverEnv(options.env),
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  child.stdout?.resume();
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = performance.now() + (options.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`stratum exited with ${child.exitCode} before it was ready: ${stderr}`);
    try {
      const response = await fetch(`${httpUrl}/v2/health/ready`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await group.stop(child);
      throw new Error(`stratum was not ready within ${options.readyTimeoutMs ?? 90_000} ms: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid as number, httpUrl, httpPort, grpcPort, settings, stop: () => group.stop(child, 10_000) };
}
