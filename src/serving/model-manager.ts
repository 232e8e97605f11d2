/**
 * Keeps the served model versions in step with the model repository: loads, reloads and unloads
 * on request (the repository extension) or when the folder changes (polling). A new version is
 * loaded and warmed before it takes traffic; the one it replaces is drained, then unloaded.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import { resolveModelConfig } from './model-config.ts';
import { listRepositoryModels, readRepositoryModel, selectVersions } from './model-repository.ts';
import { loadModelVersion, type ModelVersion } from './model-version.ts';
import { type WarmupReport, type WarmupRequests, warmupFailure } from './warmup.ts';
import { parseWarmupRequests } from './warmup-requests.ts';

/** A version's state, named as in the repository extension. */
export type VersionState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

/** One row of the repository index. */
export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: VersionState;
  readonly reason?: string;
  /** The warm-up of a ready version, when it failed (also summarised in `reason`). */
  readonly warmup?: WarmupReport;
}

interface VersionEntry {
  state: VersionState;
  reason: string;
  stamp: string;
  handle: ModelVersion | undefined;
}

interface ModelEntry {
  readonly versions: Map<string, VersionEntry>;
  configStamp: string;
  /** Unloaded through the API: the watcher leaves it alone until it is loaded again. */
  pinnedUnloaded: boolean;
  /** Last repository fingerprint acted on by the watcher. */
  fingerprint: string;
  lock: Promise<unknown>;
  reason: string;
}

/** Options of {@link createModelManager}. */
export interface ModelManagerOptions {
  readonly dir: string;
  readonly config: Readonly<Config>;
  readonly pool: RuntimePool;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
}

/** The model manager. */
export interface ModelManager {
  /** Loads every model in the repository; failures are logged, not thrown. */
  loadAll(): Promise<void>;
  /** Loads or reloads a model from the repository. */
  loadModel(name: string): Promise<void>;
  /** Unloads every version of a model (draining in-flight requests first). */
  unloadModel(name: string): Promise<void>;
  /**
   * The ready version to serve.
   * @throws StratumError MODEL_NOT_FOUND, VERSION_NOT_FOUND or MODEL_NOT_READY.
   */
  resolve(name: string, version?: string): ModelVersion;
  /** Ready versions of a model, ascending. */
  readyVersions(name: string): ModelVersion[];
  /** Names of the models with at least one version known to the manager. */
  modelNames(): string[];
  /** Whether the manager has heard of the model (loaded, loading or failed). */
  knows(name: string): boolean;
  /** Every model in the repository and its versions' states. */
  index(): Promise<IndexEntry[]>;
  /** Starts polling the repository folder. */
  watch(intervalMs: number): void;
  close(): Promise<void>;
}

/** Creates the manager for one repository folder. */
export function createModelManager(options: ModelManagerOptions): ModelManager {
  const { dir, config, pool, metrics, logger } = options;
  const models = new Map<string, ModelEntry>();
  let generation = 0;
  let watchTimer: NodeJS.Timeout | undefined;
  let watching: Promise<void> | undefined;
  let closed = false;

  function entryFor(name: string): ModelEntry {
    let entry = models.get(name);
    if (entry === undefined) {
      entry = {
        versions: new Map(),
        configStamp: '',
        pinnedUnloaded: false,
        fingerprint: '',
        lock: Promise.resolve(),
        reason: '',
      };
      models.set(name, entry);
    }
    return entry;
  }

  /** Runs `task` after every earlier operation on the same model. */
  function serialized<T>(name: string, task: () => Promise<T>): Promise<T> {
    const entry = entryFor(name);
    const run = entry.lock.then(task, task);
    entry.lock = run.catch(() => undefined);
    return run;
  }

  async function doLoad(name: string): Promise<void> {
    if (closed) throw new StratumError('SHUTTING_DOWN', 'the server is shutting down');
    const entry = entryFor(name);
    let repo;
    try {
      repo = await readRepositoryModel(dir, name);
    } catch (error) {
      entry.reason = (error as Error).message;
      throw error;
    }
    entry.fingerprint = fingerprint(repo.configStamp, repo.versions);
    const resolved = resolveModelConfig(repo.config, config);
    let warmupRequests: WarmupRequests | undefined;
    try {
      warmupRequests = await readDeclaredWarmup(name, resolved.warmup.requests);
    } catch (error) {
      entry.reason = (error as Error).message;
      throw error;
    }
    const wanted = selectVersions(repo.versions, resolved.versionPolicy);
    if (wanted.length === 0) {
      entry.reason = `no version folder of "${name}" matching its version policy holds a model.onnx`;
      throw new StratumError('INVALID_MODEL', entry.reason);
    }
    const configChanged = repo.configStamp !== entry.configStamp;
    entry.configStamp = repo.configStamp;
    const failures: string[] = [];
    for (const v of wanted) {
      const existing = entry.versions.get(v.version);
      if (existing?.state === 'READY' && existing.stamp === v.stamp && !configChanged) continue;
      const ve: VersionEntry = existing ?? { state: 'LOADING', reason: '', stamp: v.stamp, handle: undefined };
      if (existing === undefined || existing.state !== 'READY') ve.state = 'LOADING';
      entry.versions.set(v.version, ve);
      try {
        const bytes = await readFile(v.file);
        const handle = await loadModelVersion({
          model: name,
          version: v.version,
          bytes,
          config: resolved,
          pool,
          metrics: metrics.forVersion(name, v.version),
          generation: ++generation,
          ...(warmupRequests !== undefined && { warmupRequests }),
        });
        const previous = ve.handle;
        ve.handle = handle;
        ve.state = 'READY';
        ve.reason = warmupFailure(handle.warmup) ?? '';
        ve.stamp = v.stamp;
        if (handle.warmup.failures > 0) {
          logger.warn(
            { model: name, version: v.version, warmup: handle.warmup },
            'warm-up failed; the version serves anyway',
          );
        }
        logger.info({ model: name, version: v.version, batched: handle.batched }, 'model version ready');
        if (previous !== undefined)
          void previous.unload().catch((err: unknown) => logger.warn({ err }, 'unload failed'));
      } catch (error) {
        const reason = (error as Error).message;
        failures.push(`version ${v.version}: ${reason}`);
        if (ve.handle === undefined) {
          ve.state = 'UNAVAILABLE';
          ve.reason = reason;
        }
        logger.error({ model: name, version: v.version, reason }, 'model version failed to load');
      }
    }
    const keep = new Set(wanted.map((v) => v.version));
    // A wanted version that failed (for instance a model.onnx still being copied in) must not
    // take the versions it replaces down with it: they keep serving until a later load succeeds.
    if (failures.length > 0) {
      for (const [version, ve] of entry.versions) if (ve.state === 'READY') keep.add(version);
    }
    await Promise.all(
      [...entry.versions.entries()]
        .filter(([version]) => !keep.has(version))
        .map(([version, ve]) => retire(name, version, ve)),
    );
    entry.reason = failures.join('; ');
    if (failures.length > 0) {
      throw new StratumError('INVALID_MODEL', `model "${name}" failed to load: ${entry.reason}`);
    }
  }

  /** The sample requests a model's config.json declares, read and decoded. */
  async function readDeclaredWarmup(name: string, file: string | undefined): Promise<WarmupRequests | undefined> {
    if (file === undefined) return undefined;
    const origin = `${name}/${file}`;
    let text: string;
    try {
      text = await readFile(join(dir, name, file), 'utf8');
    } catch (error) {
      throw new StratumError(
        'INVALID_MODEL',
        `${origin}: cannot read the warm-up requests that config.json declares: ${(error as Error).message}`,
      );
    }
    const requests = parseWarmupRequests({ text, origin, maxBytesElement: config.maxBytesElementBytes });
    return { source: 'requests', requests };
  }

  async function retire(name: string, version: string, ve: VersionEntry): Promise<void> {
    const entry = models.get(name);
    if (ve.handle === undefined) {
      entry?.versions.delete(version);
      return;
    }
    ve.state = 'UNLOADING';
    try {
      await ve.handle.unload();
    } finally {
      ve.handle = undefined;
      entry?.versions.delete(version);
      logger.info({ model: name, version }, 'model version unloaded');
    }
  }

  async function doUnload(name: string): Promise<void> {
    const entry = models.get(name);
    if (entry === undefined) return;
    await Promise.all([...entry.versions.entries()].map(([version, ve]) => retire(name, version, ve)));
    entry.reason = 'unloaded';
  }

  function fingerprint(configStamp: string, versions: readonly { version: string; stamp: string }[]): string {
    return `${configStamp}|${versions.map((v) => `${v.version}@${v.stamp}`).join(',')}`;
  }

  async function poll(): Promise<void> {
    let names: string[];
    try {
      names = await listRepositoryModels(dir);
    } catch (error) {
      logger.warn({ err: error, dir }, 'cannot read the model repository');
      return;
    }
    const present = new Set(names);
    for (const name of names) {
      const entry = entryFor(name);
      if (entry.pinnedUnloaded) continue;
      let current: string;
      try {
        const repo = await readRepositoryModel(dir, name);
        current = fingerprint(repo.configStamp, repo.versions);
      } catch (error) {
        current = `error:${(error as Error).message}`;
      }
      if (current === entry.fingerprint) continue;
      entry.fingerprint = current;
      await serialized(name, () => doLoad(name)).catch((error: unknown) =>
        logger.warn({ model: name, reason: (error as Error).message }, 'reload after repository change failed'),
      );
    }
    for (const [name, entry] of models) {
      if (!present.has(name) && entry.versions.size > 0) {
        await serialized(name, () => doUnload(name));
        models.delete(name);
      }
    }
  }

  return {
    async loadAll() {
      const names = await listRepositoryModels(dir);
      for (const name of names) {
        await serialized(name, () => doLoad(name)).catch((error: unknown) =>
          logger.error({ model: name, reason: (error as Error).message }, 'model failed to load'),
        );
      }
    },

    loadModel(name) {
      return serialized(name, async () => {
        entryFor(name).pinnedUnloaded = false;
        try {
          await doLoad(name);
        } catch (error) {
          const entry = models.get(name);
          if (
            entry !== undefined &&
            entry.versions.size === 0 &&
            error instanceof StratumError &&
            error.code === 'MODEL_NOT_FOUND'
          ) {
            models.delete(name);
          }
          throw error;
        }
      });
    },

    unloadModel(name) {
      if (!models.has(name)) return Promise.reject(new StratumError('MODEL_NOT_FOUND', `no model "${name}" is loaded`));
      return serialized(name, async () => {
        entryFor(name).pinnedUnloaded = true;
        await doUnload(name);
      });
    },

    resolve(name, version) {
      const entry = models.get(name);
      if (entry === undefined || (entry.versions.size === 0 && entry.reason === '')) {
        throw new StratumError('MODEL_NOT_FOUND', `unknown model "${name}"`, { details: { model: name } });
      }
      if (version !== undefined) {
        const ve = entry.versions.get(version);
        if (ve === undefined && entry.versions.size === 0) {
          throw new StratumError(
            'MODEL_NOT_READY',
            `model "${name}" has no ready version${entry.reason ? ` (${entry.reason})` : ''}`,
            {
              retryAfterSeconds: 1,
            },
          );
        }
        if (ve === undefined) {
          const known = [...entry.versions.keys()];
          throw new StratumError(
            'VERSION_NOT_FOUND',
            `model "${name}" has no version "${version}"; available: [${known.join(', ')}]`,
            { details: { model: name, version } },
          );
        }
        if (ve.state !== 'READY' || ve.handle === undefined) {
          throw new StratumError(
            'MODEL_NOT_READY',
            `model "${name}" version ${version} is ${ve.state}${ve.reason ? `: ${ve.reason}` : ''}`,
            {
              retryAfterSeconds: 1,
            },
          );
        }
        return ve.handle;
      }
      let best: ModelVersion | undefined;
      for (const ve of entry.versions.values()) {
        if (
          ve.state === 'READY' &&
          ve.handle !== undefined &&
          (best === undefined || Number(ve.handle.version) > Number(best.version))
        ) {
          best = ve.handle;
        }
      }
      if (best === undefined) {
        const states = [...entry.versions.values()].map((v) => v.state);
        const why = states.includes('LOADING')
          ? 'is loading'
          : `has no ready version${entry.reason ? ` (${entry.reason})` : ''}`;
        throw new StratumError('MODEL_NOT_READY', `model "${name}" ${why}`, { retryAfterSeconds: 1 });
      }
      return best;
    },

    readyVersions(name) {
      const entry = models.get(name);
      if (entry === undefined) return [];
      return [...entry.versions.values()]
        .filter((ve) => ve.state === 'READY' && ve.handle !== undefined)
        .map((ve) => ve.handle as ModelVersion)
        .sort((a, b) => Number(a.version) - Number(b.version));
    },

    knows: (name) => models.has(name),

    modelNames() {
      return [...models.entries()]
        .filter(([, e]) => e.versions.size > 0)
        .map(([name]) => name)
        .sort();
    },

    async index() {
      const names = new Set(await listRepositoryModels(dir).catch(() => [] as string[]));
      for (const name of models.keys()) names.add(name);
      const rows: IndexEntry[] = [];
      for (const name of [...names].sort()) {
        const entry = models.get(name);
        if (entry === undefined || entry.versions.size === 0) {
          rows.push({ name, state: 'UNAVAILABLE', ...(entry?.reason ? { reason: entry.reason } : {}) });
          continue;
        }
        for (const [version, ve] of [...entry.versions.entries()].sort(([a], [b]) => Number(a) - Number(b))) {
          rows.push({
            name,
            version,
            state: ve.state,
            ...(ve.reason ? { reason: ve.reason } : {}),
            ...(ve.state === 'READY' &&
              ve.handle !== undefined &&
              ve.handle.warmup.failures > 0 && { warmup: ve.handle.warmup }),
          });
        }
      }
      return rows;
    },

    watch(intervalMs) {
      if (watchTimer !== undefined || closed) return;
      watchTimer = setInterval(() => {
        if (watching !== undefined) return;
        watching = poll().finally(() => {
          watching = undefined;
        });
      }, intervalMs);
      watchTimer.unref();
    },

    async close() {
      if (closed) return;
      closed = true;
      if (watchTimer !== undefined) clearInterval(watchTimer);
      await watching;
      await Promise.allSettled([...models.keys()].map((name) => serialized(name, () => doUnload(name))));
    },
  };
}
