/**
 * Per-principal request limits on this replica: a token bucket (sustained requests per second
 * with a burst) and a cap on requests in flight. Over either, RATE_LIMITED (429) with
 * Retry-After. Limits are per replica: N replicas admit up to N times a key's rate.
 */
import { StratumError } from '../errors/index.ts';
import type { ApiKeyLimits } from '../store/api-key-store.ts';

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** @default performance.now */
  readonly now?: () => number;
}

/** The limiter. */
export interface RateLimiter {
  /**
   * Admits one request of `principal` under `limits`; returns what frees its concurrency slot
   * (call once when the request ends), or undefined when no slot was taken.
   * @throws StratumError RATE_LIMITED with retryAfterSeconds.
   */
  admit(principal: string, limits: ApiKeyLimits): (() => void) | undefined;
  /** Requests of `principal` in flight now. */
  inFlight(principal: string): number;
}

interface State {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  refilled: number;
  inFlight: number;
}

/** Creates a limiter (one per server). */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const states = new Map<string, State>();

  function stateOf(principal: string, burst: number): State {
    let state = states.get(principal);
    if (state === undefined) {
      state = { tokens: burst, refilled: now(), inFlight: 0 };
      states.set(principal, state);
    }
    return state;
  }

  return {
    admit(principal, limits) {
      const rate = limits.requestsPerSecond;
      const cap = limits.maxConcurrent;
      if (rate === undefined && cap === undefined) return undefined;
      const burst = limits.burst ?? Math.max(1, rate ?? 1);
      const state = stateOf(principal, burst);
      if (cap !== undefined && state.inFlight >= cap) {
        throw new StratumError('RATE_LIMITED', `${principal} has ${state.inFlight} requests in flight, its limit`, {
          retryAfterSeconds: 1,
          details: { maxConcurrent: cap },
        });
      }
      if (rate !== undefined) {
        const t = now();
        state.tokens = Math.min(burst, state.tokens + ((t - state.refilled) / 1000) * rate);
        state.refilled = t;
        if (state.tokens < 1) {
          throw new StratumError('RATE_LIMITED', `${principal} is over its rate of ${rate} requests per second`, {
            retryAfterSeconds: Math.max(1, Math.ceil((1 - state.tokens) / rate)),
            details: { requestsPerSecond: rate, burst },
          });
        }
        state.tokens -= 1;
      }
      if (cap === undefined) return undefined;
      state.inFlight += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        state.inFlight -= 1;
      };
    },
    inFlight: (principal) => states.get(principal)?.inFlight ?? 0,
  };
}
