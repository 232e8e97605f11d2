/**
 * The loaded versions of one served name (a folder model, a deployment) and the one sequence that
 * changes them: load → warm → swap → drain → unload. A version takes traffic only once it is warm;
 * the one it replaces keeps serving until then, and is drained (its queued and running requests
 * finish) before its sessions are released. A failed warm-up is recorded on the version and in its
 * slot's reason, and the version serves anyway. The folder repository (`model-manager.ts`) and the
 * registry's deployments (`src/deploy`) both change their versions through this table.
 */
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import type { ResolvedModelConfig } from './model-config.ts';
import { loadModelVersion, type ModelVersion } from './model-version.ts';
import { type WarmupRequests, warmupFailure } from './warmup.ts';

/** A version's state, named as in the repository extension. */
export type VersionState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

/** One version of the table. */
export interface VersionSlot {
  readonly state: VersionState;
  /** Why it is unavailable, or how its warm-up failed when it is ready; '' otherwise. */
  readonly reason: string;
  /** What the ready handle was loaded from (file stamps, serving settings). */
  readonly stamp: string;
  /** The handle that serves: set when READY, also while a reload of a READY version loads. */
  readonly handle: ModelVersion | undefined;
}

/** What a version is loaded from. */
export interface VersionContents {
  /** The ONNX model. */
  readonly bytes: Uint8Array;
  readonly config: ResolvedModelConfig;
  /** Sample requests that warm it up instead of the configured synthetic inputs. */
  readonly warmupRequests?: WarmupRequests;
}

/** A version to load, or to reload when its stamp changed. */
export interface VersionLoad<K> {
  readonly key: K;
  /** What the version is loaded from; see {@link VersionTable.isCurrent}. */
  readonly stamp: string;
  /** Reads the model and its settings; called when the load starts. */
  readonly read: () => Promise<VersionContents>;
}

/** Options of {@link createVersionTable}. */
export interface VersionTableOptions {
  /** The name requests address: the folder model's or the deployment's. */
  readonly model: string;
  readonly pool: RuntimePool;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  /** Fields of every log line about a version besides `version`, such as `{ deployment: name }`. */
  readonly logFields: Readonly<Record<string, string>>;
  /** Prefix of the pool keys, so that two sources never share one. @default '' */
  readonly keyPrefix?: string;
  /** A number unique among the pool keys of this prefix and model, for the pool key. */
  readonly nextGeneration: () => number;
  /**
   * Runs on each version once its warm-up is done and before it is swapped in (a deployment
   * replays recent live requests). Must not throw.
   * @default none
   */
  readonly afterWarmup?: (handle: ModelVersion) => Promise<void>;
}

/** Options of {@link VersionTable.replace}. */
export interface ReplaceOptions {
  /** Runs in the same synchronous step as the swap (a deployment switches its plan there). */
  readonly onSwap?: () => void;
}

/** The versions of one served name. */
export interface VersionTable<K> {
  /** Every slot, whatever its state, in insertion order. */
  readonly slots: ReadonlyMap<K, VersionSlot>;
  /** The handle of a READY version. */
  ready(key: K): ModelVersion | undefined;
  /** READY versions, ascending by version number. */
  readyVersions(): ModelVersion[];
  /** Whether `key` is READY with a handle loaded from `stamp` (so loading it again changes nothing). */
  isCurrent(key: K, stamp: string): boolean;
  /**
   * Loads and warms each version of `loads` in turn while the current ones keep serving, swaps
   * them all in at once, and starts draining and unloading the handles they replace (`released`
   * settles when that is done, and never rejects).
   * On a failure, the versions this call loaded are unloaded, the ones they would have replaced
   * keep serving, the slots without a handle become UNAVAILABLE with the reason, and the error
   * is thrown.
   */
  replace(loads: readonly VersionLoad<K>[], options?: ReplaceOptions): Promise<{ released: Promise<void> }>;
  /**
   * Takes a version out of service: it goes UNLOADING at once (requests addressed to it get
   * 503), its queue drains, its sessions are released, and its slot is removed.
   */
  retire(key: K): Promise<void>;
  /** Retires every version (whatever fails). */
  close(): Promise<void>;
}

interface MutableSlot {
  state: VersionState;
  reason: string;
  stamp: string;
  handle: ModelVersion | undefined;
}

/** Creates an empty table. */
export function createVersionTable<K>(options: VersionTableOptions): VersionTable<K> {
  const { model, pool, metrics, logger, logFields } = options;
  const slots = new Map<K, MutableSlot>();

  /** load → warm (→ the caller's extra warm-up). */
  async function loadOne(load: VersionLoad<K>): Promise<ModelVersion> {
    const version = String(load.key);
    const contents = await load.read();
    const handle = await loadModelVersion({
      model,
      version,
      bytes: contents.bytes,
      config: contents.config,
      pool,
      metrics: metrics.forVersion(model, version),
      generation: options.nextGeneration(),
      ...(options.keyPrefix !== undefined && { keyPrefix: options.keyPrefix }),
      ...(contents.warmupRequests !== undefined && { warmupRequests: contents.warmupRequests }),
    });
    if (handle.warmup.failures > 0) {
      logger.warn({ ...logFields, version, warmup: handle.warmup }, 'warm-up failed; the version serves anyway');
    }
    await options.afterWarmup?.(handle);
    return handle;
  }

  function slotFor(key: K, stamp: string): MutableSlot {
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = { state: 'LOADING', reason: '', stamp, handle: undefined };
      slots.set(key, slot);
    } else if (slot.state !== 'READY') {
      slot.state = 'LOADING';
    }
    return slot;
  }

  async function release(handles: readonly ModelVersion[]): Promise<void> {
    const results = await Promise.allSettled(handles.map((h) => h.unload()));
    for (const result of results) {
      if (result.status === 'rejected') logger.warn({ ...logFields, err: result.reason }, 'unload failed');
    }
  }

  async function retire(key: K): Promise<void> {
    const slot = slots.get(key);
    if (slot === undefined) return;
    const handle = slot.handle;
    if (handle === undefined) {
      slots.delete(key);
      return;
    }
    slot.state = 'UNLOADING';
    try {
      await handle.unload();
    } finally {
      slot.handle = undefined;
      if (slots.get(key) === slot) slots.delete(key);
      logger.info({ ...logFields, version: String(key) }, 'model version unloaded');
    }
  }

  return {
    slots,
    ready(key) {
      const slot = slots.get(key);
      return slot?.state === 'READY' ? slot.handle : undefined;
    },
    readyVersions() {
      return [...slots.values()]
        .filter((slot) => slot.state === 'READY' && slot.handle !== undefined)
        .map((slot) => slot.handle as ModelVersion)
        .sort((a, b) => Number(a.version) - Number(b.version));
    },
    isCurrent(key, stamp) {
      const slot = slots.get(key);
      return slot?.state === 'READY' && slot.stamp === stamp;
    },

    async replace(loads, replaceOptions) {
      const fresh: { slot: MutableSlot; handle: ModelVersion; stamp: string }[] = [];
      for (const load of loads) {
        const slot = slotFor(load.key, load.stamp);
        try {
          fresh.push({ slot, handle: await loadOne(load), stamp: load.stamp });
        } catch (error) {
          const reason = (error as Error).message;
          await Promise.allSettled(fresh.map((f) => f.handle.unload()));
          for (const unserved of [slot, ...fresh.map((f) => f.slot)].filter((s) => s.handle === undefined)) {
            unserved.state = 'UNAVAILABLE';
            unserved.reason = reason;
          }
          logger.error({ ...logFields, version: String(load.key), reason }, 'model version failed to load');
          throw error;
        }
      }
      const replaced: ModelVersion[] = [];
      for (const { slot, handle, stamp } of fresh) {
        if (slot.handle !== undefined) replaced.push(slot.handle);
        slot.handle = handle;
        slot.stamp = stamp;
        slot.state = 'READY';
        slot.reason = warmupFailure(handle.warmup) ?? '';
        logger.info({ ...logFields, version: handle.version, batched: handle.batched }, 'model version ready');
      }
      replaceOptions?.onSwap?.();
      return { released: release(replaced) };
    },

    retire,

    async close() {
      await Promise.allSettled([...slots.keys()].map((key) => retire(key)));
    },
  };
}
