/**
 * The batch models a worker process has loaded, shared by the chunk jobs of a batch that run here
 * one after another or at once: a chunk of 10,000 rows should not pay for creating sessions. A
 * model stays loaded while a chunk uses it, and the last few idle ones stay for the next chunk.
 */
import type { Registry } from '../../registry/registry.ts';
import type { RuntimePool } from '../../runtime/runtime-pool.ts';
import type { BatchPlan } from './batch-plan.ts';
import { type BatchSession, openBatchSession } from './batch-session.ts';
import type { BatchSpec } from './batch-spec.ts';
import { loadPlannedModel } from './batch-model.ts';

/** Idle models kept loaded. */
const KEEP_IDLE = 2;

/** A session borrowed from the cache; `release()` gives it back. */
export interface BorrowedSession {
  readonly session: BatchSession;
  release(): void;
}

/** The cache. */
export interface SessionCache {
  borrow(options: { spec: BatchSpec; plan: BatchPlan }): Promise<BorrowedSession>;
  /** Unloads every model. Idempotent. */
  close(): Promise<void>;
}

interface Entry {
  readonly session: Promise<BatchSession>;
  users: number;
  lastUsed: number;
}

/** Creates a cache over `runtime`. */
export function createSessionCache(options: { runtime: RuntimePool; registry?: Registry | undefined }): SessionCache {
  const entries = new Map<string, Entry>();
  let tick = 0;
  const evictIdle = (): void => {
    const idle = [...entries].filter(([, e]) => e.users === 0).sort((a, b) => b[1].lastUsed - a[1].lastUsed);
    for (const [key, entry] of idle.slice(KEEP_IDLE)) {
      entries.delete(key);
      void entry.session.then((s) => s.close()).catch(() => undefined);
    }
  };
  return {
    async borrow({ spec, plan }) {
      const key = JSON.stringify([plan.model, plan.source.columns, spec.inputs, spec.outputs, spec.passThrough]);
      let entry = entries.get(key);
      if (entry === undefined) {
        const session = loadPlannedModel({ planned: plan.model, registry: options.registry }).then((model) =>
          openBatchSession({ runtime: options.runtime, model, spec, source: plan.source }),
        );
        entry = { session, users: 0, lastUsed: tick++ };
        entries.set(key, entry);
        session.catch(() => entries.delete(key));
      }
      entry.users++;
      const held = entry;
      try {
        const session = await held.session;
        let released = false;
        return {
          session,
          release() {
            if (released) return;
            released = true;
            held.users--;
            held.lastUsed = tick++;
            evictIdle();
          },
        };
      } catch (error) {
        held.users--;
        throw error;
      }
    },
    async close() {
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map((e) => e.session.then((s) => s.close()).catch(() => undefined)));
    },
  };
}
