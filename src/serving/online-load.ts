/**
 * How many online inference requests (REST and gRPC, not `infer-async` jobs) this process is
 * serving right now — routed to a model and not yet answered by it — across every model. Background work asks it for room
 * before it takes more: the asynchronous inference worker claims a job only while the online load
 * is light, so a burst of queued work cannot crowd the event loop that online requests need.
 */
import { StratumError } from '../errors/index.ts';

/** The online load, as background work sees it. */
export interface OnlineLoad {
  /** Online requests being served. */
  readonly inFlight: number;
  /**
   * Resolves once at most `limit` online requests are in flight (at once when that is so now);
   * rejects with the signal's reason when it aborts first.
   */
  whenAtMost(limit: number, signal?: AbortSignal): Promise<void>;
}

/** The counter the inference service keeps. */
export interface OnlineLoadCounter extends OnlineLoad {
  /** An online request started; call the returned function once when it ends. */
  begin(): () => void;
}

interface Waiter {
  readonly limit: number;
  readonly resolve: () => void;
}

/** A counter at zero. */
export function createOnlineLoad(): OnlineLoadCounter {
  let inFlight = 0;
  const waiters = new Set<Waiter>();
  const release = (): void => {
    for (const waiter of waiters) {
      if (inFlight <= waiter.limit) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  return {
    get inFlight() {
      return inFlight;
    },
    begin() {
      inFlight++;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        inFlight--;
        if (waiters.size > 0) release();
      };
    },
    whenAtMost(limit, signal) {
      if (signal?.aborted === true) return Promise.reject(abortReason(signal));
      if (inFlight <= limit) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          waiters.delete(waiter);
          reject(abortReason(signal as AbortSignal));
        };
        const waiter: Waiter = {
          limit,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        waiters.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new StratumError('SHUTTING_DOWN', 'stopped waiting for the online load to ease');
}
