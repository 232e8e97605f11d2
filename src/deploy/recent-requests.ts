/**
 * A few recent live requests of a deployment, kept to warm up the versions it loads next: zeros
 * warm the kernels, recent requests also warm the shapes traffic really has.
 */
import type { Logger } from '../logging/logger.ts';
import type { ModelVersion } from '../serving/model-version.ts';
import type { InferRequest } from '../serving/types.ts';
import { cloneRequest } from './clone-request.ts';

const RECENT_REQUESTS = 8;
/** Times the recorded requests are replayed at once after the one-by-one pass. */
const WARMUP_ROUNDS = 4;
/** Once the ring is full, one routed request in this many replaces the oldest recorded one. */
const RECORD_EVERY = 64;

/** Options of {@link createRecentRequests}. */
export interface RecentRequestsOptions {
  /** The deployment's name, for log lines. */
  readonly name: string;
  readonly logger: Logger;
}

/** The ring of recent requests. */
export interface RecentRequests {
  /**
   * Whether to record the routed request about to run (asked once per routed request): until the
   * ring is full every one, then now and then, so that requests are not copied on every call.
   */
  wanted(): boolean;
  /** Records a copy (the caller's own: it is never run, only copied again by {@link replay}). */
  record(copy: InferRequest): void;
  /** Runs the recorded requests on a freshly loaded version: once each, then all together a few times. */
  replay(handle: ModelVersion): Promise<void>;
}

/** Creates an empty ring. */
export function createRecentRequests(options: RecentRequestsOptions): RecentRequests {
  const { name, logger } = options;
  const recent: InferRequest[] = [];
  let routedCount = 0;

  return {
    wanted: () => recent.length < RECENT_REQUESTS || ++routedCount % RECORD_EVERY === 0,

    record(copy) {
      if (recent.length >= RECENT_REQUESTS) recent.shift();
      recent.push(copy);
    },

    async replay(handle) {
      const version = Number(handle.version);
      // Once each, then all together a few times over, so that the batch sizes load forms run too.
      for (const request of recent) {
        await handle.infer(cloneRequest(request), 'warmup').catch((error: unknown) => {
          logger.debug({ deployment: name, version, reason: (error as Error).message }, 'warm-up request failed');
        });
      }
      const together = Array.from({ length: WARMUP_ROUNDS }, () => recent).flat();
      await Promise.allSettled(together.map((request) => handle.infer(cloneRequest(request), 'warmup')));
    },
  };
}
