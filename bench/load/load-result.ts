/**
 * What a load-generator child prints (one JSON line on stdout) and the closed-loop timing both
 * generators share: a warm-up window whose responses are discarded, then a measurement window.
 * A parent that cannot know the run's length up front (the rollouts phase) gives a long window
 * and ends it with SIGUSR2.
 */
import { performance } from 'node:perf_hooks';
import type { LatencySummary } from './latency-recorder.ts';

/** The result of one load run, as printed by `rest-load.ts` and `grpc-load.ts`. */
export interface LoadResult {
  /** Completed 2xx/OK responses inside the measurement window. */
  readonly completed: number;
  /** Non-2xx responses or failed calls inside the whole run. */
  readonly errors: number;
  /** First error message seen, if any. */
  readonly firstError?: string;
  /** Error messages (status and the start of the body) and how often each was seen; at most 20 kinds. */
  readonly errorKinds?: Readonly<Record<string, number>>;
  /**
   * Requests still unanswered when the run closed its connections (the drain after the window
   * ended ran out): neither completed nor errors, so a stalled server shows here.
   */
  readonly unfinished?: number;
  /** Length of the measurement window (s). */
  readonly seconds: number;
  /** completed / seconds. */
  readonly throughput: number;
  readonly latency: LatencySummary;
  /** The generator's own CPU time over the measurement window, as % of one core. */
  readonly cpuPercent: number;
  /** Event-loop utilisation of the generator over the measurement window (0–1). */
  readonly elu: number;
}

/** The measurement window of a closed loop. */
export interface LoadWindow {
  /** performance.now() at which measuring starts. */
  readonly measureStart: number;
  /** performance.now() after which no request is sent (moved earlier by {@link endOnSignal}). */
  end: number;
}

/** The signal that ends an open-ended run's window early. */
export const END_SIGNAL = 'SIGUSR2';

/**
 * Ends `window` now when the process receives {@link END_SIGNAL}; resolves then. A parent that
 * decides how long the load lasts starts the generator with a long window and signals it.
 */
export function endOnSignal(window: LoadWindow): Promise<void> {
  return new Promise((resolve) => {
    process.once(END_SIGNAL, () => {
      window.end = Math.min(window.end, performance.now());
      resolve();
    });
  });
}

/** Starts the window `warmupMs` from now, lasting `durationMs`. */
export function openWindow(warmupMs: number, durationMs: number): LoadWindow {
  const now = performance.now();
  return { measureStart: now + warmupMs, end: now + warmupMs + durationMs };
}

/** A progress line a generator prints before its result, so the parent can sample the server. */
export interface LoadEvent {
  readonly event: 'measure-start' | 'measure-end';
}

function announce(event: LoadEvent['event']): void {
  process.stdout.write(`${JSON.stringify({ event } satisfies LoadEvent)}\n`);
}

/**
 * Announces the measurement window's start and samples the generator's CPU and event-loop
 * utilisation from then; the returned function (called at the window's end) announces the end and
 * returns the samples.
 */
export function measureSelf(window: LoadWindow): () => { cpuPercent: number; elu: number } {
  let cpu0 = process.cpuUsage();
  let elu0 = performance.eventLoopUtilization();
  let t0 = performance.now();
  const timer = setTimeout(
    () => {
      announce('measure-start');
      cpu0 = process.cpuUsage();
      elu0 = performance.eventLoopUtilization();
      t0 = performance.now();
    },
    Math.max(0, window.measureStart - performance.now()),
  );
  return () => {
    clearTimeout(timer);
    announce('measure-end');
    const cpu = process.cpuUsage(cpu0);
    const elapsedMs = performance.now() - t0;
    return {
      cpuPercent: elapsedMs > 0 ? ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 : 0,
      elu: performance.eventLoopUtilization(elu0).utilization,
    };
  };
}

/** Prints the result as the one JSON line the orchestrator reads. */
export function printResult(result: LoadResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** What a closed loop has counted when its window ends. */
export interface LoadTally {
  readonly completed: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly errorKinds?: Readonly<Record<string, number>>;
  /** Requests in flight when the connections were closed. */
  readonly unfinished?: number;
  readonly latency: LatencySummary;
}

/**
 * Ends a closed-loop run the same way for every generator: wait for the window's end, sample the
 * generator's own CPU, give in-flight requests up to `drainMs` to finish, close, print the result.
 */
export async function finishRun(options: {
  readonly window: LoadWindow;
  /** Settles when the window was ended early ({@link endOnSignal}). */
  readonly ended?: Promise<unknown>;
  readonly self: () => { cpuPercent: number; elu: number };
  readonly drained: Promise<unknown>;
  readonly drainMs: number;
  readonly close: () => void;
  readonly tally: () => LoadTally;
}): Promise<void> {
  const { window } = options;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, window.end - performance.now())))),
    ...(options.ended === undefined ? [] : [options.ended]),
  ]);
  clearTimeout(timer);
  const usage = options.self();
  await Promise.race([options.drained, new Promise((resolve) => setTimeout(resolve, options.drainMs).unref())]);
  options.close();
  const seconds = (window.end - window.measureStart) / 1000;
  const { completed, errors, firstError, errorKinds, unfinished, latency } = options.tally();
  printResult({
    completed,
    errors,
    ...(unfinished !== undefined && unfinished > 0 && { unfinished }),
    ...(firstError !== undefined && { firstError }),
    ...(errorKinds !== undefined && Object.keys(errorKinds).length > 0 && { errorKinds }),
    seconds,
    throughput: completed / seconds,
    latency,
    ...usage,
  });
}
