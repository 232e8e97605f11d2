/**
 * Keeps the served model versions in step with the model repository: loads, reloads and unloads
 * on request (the repository extension) or when the folder changes (polling). Each model's versions
 * are a version table (`version-table.ts`): a new version is loaded and warmed before it takes
 * traffic; the one it replaces is drained, then unloaded.
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
import type { SourceIndexEntry } from './model-source.ts';
import type { ModelVersion } from './model-version.ts';
import { createVersionTable, type VersionContents, type VersionTable } from './version-table.ts';
import type { WarmupRequests } from './warmup.ts';
import { parseWarmupRequests } from './warmup-requests.ts';

interface ModelEntry {
  readonly versions: VersionTable<string>;
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
  index(): Promise<SourceIndexEntry[]>;
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
        versions: createVersionTable<string>({
          model: name,
          pool,
          metrics,
          logger,
          logFields: { model: name },
          nextGeneration: () => ++generation,
        }),
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
    await loadFromRepository({ dir, config, name, entry: entryFor(name) });
  }

  async function doUnload(name: string): Promise<void> {
    const entry = models.get(name);
    if (entry === undefined) return;
    await Promise.all([...entry.versions.slots.keys()].map((version) => entry.versions.retire(version)));
    entry.reason = 'unloaded';
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
      if (!present.has(name) && entry.versions.slots.size > 0) {
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
            entry.versions.slots.size === 0 &&
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

    resolve: (name, version) => resolveVersion({ name, entry: models.get(name), version }),
    readyVersions: (name) => models.get(name)?.versions.readyVersions() ?? [],
    knows: (name) => models.has(name),

    modelNames() {
      return [...models.entries()]
        .filter(([, e]) => e.versions.slots.size > 0)
        .map(([name]) => name)
        .sort();
    },

    async index() {
      const names = new Set(await listRepositoryModels(dir).catch(() => [] as string[]));
      for (const name of models.keys()) names.add(name);
      return [...names].sort().flatMap((name) => indexRows(name, models.get(name)));
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

/**
 * Reads a model's folder and brings its versions in step: the versions its policy selects are
 * loaded (or reloaded when their file or the config changed), the others retired.
 * @throws StratumError when the folder, its config.json or a selected version cannot be loaded.
 */
async function loadFromRepository(options: {
  dir: string;
  config: Readonly<Config>;
  name: string;
  entry: ModelEntry;
}): Promise<void> {
  const { dir, config, name, entry } = options;
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
    warmupRequests = await readDeclaredWarmup({
      dir,
      name,
      file: resolved.warmup.requests,
      maxBytesElement: config.maxBytesElementBytes,
    });
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
    if (!configChanged && entry.versions.isCurrent(v.version, v.stamp)) continue;
    const read = async (): Promise<VersionContents> => ({
      bytes: await readFile(v.file),
      config: resolved,
      ...(warmupRequests !== undefined && { warmupRequests }),
    });
    // Versions are independent: each swaps in once warm, and the handle it replaces drains in
    // the background while the next version loads.
    await entry.versions.replace([{ key: v.version, stamp: v.stamp, read }]).catch((error: unknown) => {
      failures.push(`version ${v.version}: ${(error as Error).message}`);
    });
  }
  const keep = new Set(wanted.map((v) => v.version));
  // A wanted version that failed (for instance a model.onnx still being copied in) must not
  // take the versions it replaces down with it: they keep serving until a later load succeeds.
  if (failures.length > 0) {
    for (const [version, slot] of entry.versions.slots) if (slot.state === 'READY') keep.add(version);
  }
  await Promise.all(
    [...entry.versions.slots.keys()]
      .filter((version) => !keep.has(version))
      .map((version) => entry.versions.retire(version)),
  );
  entry.reason = failures.join('; ');
  if (failures.length > 0) {
    throw new StratumError('INVALID_MODEL', `model "${name}" failed to load: ${entry.reason}`);
  }
}

function fingerprint(configStamp: string, versions: readonly { version: string; stamp: string }[]): string {
  return `${configStamp}|${versions.map((v) => `${v.version}@${v.stamp}`).join(',')}`;
}

/** The sample requests a model's config.json declares, read and decoded. */
async function readDeclaredWarmup(options: {
  dir: string;
  name: string;
  file: string | undefined;
  maxBytesElement: number;
}): Promise<WarmupRequests | undefined> {
  const { dir, name, file } = options;
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
  const requests = parseWarmupRequests({ text, origin, maxBytesElement: options.maxBytesElement });
  return { source: 'requests', requests };
}

/**
 * The ready version of a model to serve: the one asked for, else the highest.
 * @throws StratumError MODEL_NOT_FOUND, VERSION_NOT_FOUND or MODEL_NOT_READY.
 */
function resolveVersion(options: {
  name: string;
  entry: ModelEntry | undefined;
  version: string | undefined;
}): ModelVersion {
  const { name, entry, version } = options;
  if (entry === undefined || (entry.versions.slots.size === 0 && entry.reason === '')) {
    throw new StratumError('MODEL_NOT_FOUND', `unknown model "${name}"`, { details: { model: name } });
  }
  const slots = entry.versions.slots;
  if (version !== undefined) {
    const slot = slots.get(version);
    if (slot === undefined && slots.size === 0) {
      throw new StratumError(
        'MODEL_NOT_READY',
        `model "${name}" has no ready version${entry.reason ? ` (${entry.reason})` : ''}`,
        {
          retryAfterSeconds: 1,
        },
      );
    }
    if (slot === undefined) {
      const known = [...slots.keys()];
      throw new StratumError(
        'VERSION_NOT_FOUND',
        `model "${name}" has no version "${version}"; available: [${known.join(', ')}]`,
        { details: { model: name, version } },
      );
    }
    if (slot.state !== 'READY' || slot.handle === undefined) {
      throw new StratumError(
        'MODEL_NOT_READY',
        `model "${name}" version ${version} is ${slot.state}${slot.reason ? `: ${slot.reason}` : ''}`,
        {
          retryAfterSeconds: 1,
        },
      );
    }
    return slot.handle;
  }
  let best: ModelVersion | undefined;
  for (const slot of slots.values()) {
    if (
      slot.state === 'READY' &&
      slot.handle !== undefined &&
      (best === undefined || Number(slot.handle.version) > Number(best.version))
    ) {
      best = slot.handle;
    }
  }
  if (best === undefined) {
    const states = [...slots.values()].map((v) => v.state);
    const why = states.includes('LOADING')
      ? 'is loading'
      : `has no ready version${entry.reason ? ` (${entry.reason})` : ''}`;
    throw new StratumError('MODEL_NOT_READY', `model "${name}" ${why}`, { retryAfterSeconds: 1 });
  }
  return best;
}

/** A model's rows of the repository index. */
function indexRows(name: string, entry: ModelEntry | undefined): SourceIndexEntry[] {
  if (entry === undefined || entry.versions.slots.size === 0) {
    return [{ name, state: 'UNAVAILABLE', ...(entry?.reason ? { reason: entry.reason } : {}) }];
  }
  return [...entry.versions.slots.entries()]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([version, slot]) => ({
      name,
      version,
      state: slot.state,
      ...(slot.reason ? { reason: slot.reason } : {}),
      ...(slot.state === 'READY' &&
        slot.handle !== undefined &&
        slot.handle.warmup.failures > 0 && { warmup: slot.handle.warmup }),
    }));
}
