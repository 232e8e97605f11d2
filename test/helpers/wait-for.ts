/**
 * Waiting for a state, never for a duration. A test that sleeps "long enough" fails on the day the
 * machine is slower than the author's; a test that polls a state (a status, a metric, a count)
 * passes as soon as the state holds and fails only when it never does. The limit is therefore
 * generous: it bounds a hung test, it is not a performance target.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/** The default limit of {@link waitFor} (ms): far beyond any state change a test waits for. */
export const WAIT_LIMIT_MS = 60_000;

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Gives up after this long (ms). @default WAIT_LIMIT_MS */
  readonly limitMs?: number;
  /** Pause between probes (ms); 0 probes again on the next turn of the event loop. @default 10 */
  readonly everyMs?: number;
}

/**
 * Resolves with the first value of `probe` that is neither `undefined` nor `false`; rejects,
 * naming `what`, when none came within the limit.
 *
 * @example
 * await waitFor('version 2 to serve', async () => (await infer()).model_version === '2');
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const limitMs = options.limitMs ?? WAIT_LIMIT_MS;
  const everyMs = options.everyMs ?? 10;
  const deadline = performance.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    if (everyMs === 0) await nextTurn();
    else await sleep(everyMs);
  }
}
