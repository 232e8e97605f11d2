/**
 * The dynamic batcher of one model version. Requests wait in per-priority FIFO queues; whenever an
 * instance is free, a batch is cut from the head of the highest-priority queue: immediately when it
 * is full or has a preferred size, else once the oldest request has waited `maxQueueDelay`. While
 * every instance is busy, requests accumulate, so batches grow exactly when the load does.
 */
import { StratumError } from '../errors/index.ts';

/** Why a batch was cut. */
export type CutReason =
  'max_batch_size' | 'preferred_batch_size' | 'queue_delay' | 'adaptive_delay' | 'instance_free' | 'unbatched';

/** Batching settings of a model version. */
export interface BatcherSettings {
  /** Combine requests into batches (the model has a dynamic first dimension). */
  readonly batching: boolean;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMicroseconds: number;
  /** Ascending; batches of these sizes are cut without waiting. */
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueSize: number;
  readonly priorityLevels: number;
  readonly defaultPriority: number;
  /** Queue timeout applied when a request names none (µs, 0 = none). */
  readonly defaultTimeoutMicroseconds: number;
  /**
   * With no fixed delay: while another instance is busy, hold a small partial batch for up to
   * half the recent batch time. An idle model never waits.
   */
  readonly adaptiveQueueDelay: boolean;
  /** Execution slots. */
  readonly instances: number;
}

/** A request waiting for a batch. */
export interface BatchItem<T> {
  readonly payload: T;
  /** Rows along dim 0 (1 for unbatched models). */
  readonly rows: number;
  /** Only items with equal keys share a batch (their non-batch dimensions agree). */
  readonly shapeKey: string;
  /** When it was queued (ms, on the batcher's clock: `performance.now()` unless one was given). */
  readonly queuedAt: number;
}

/** A batch handed to the executor. */
export interface Batch<T> {
  readonly items: readonly BatchItem<T>[];
  readonly rows: number;
  readonly instance: number;
  readonly reason: CutReason;
}

/** Options of {@link createBatcher}. */
export interface BatcherOptions<T, R> {
  /** Name for messages, e.g. `model "mlp" version 1`. */
  readonly name: string;
  readonly settings: BatcherSettings;
  /** Runs a batch; resolves with one result per item, in order. */
  readonly execute: (batch: Batch<T>) => Promise<readonly R[]>;
  /**
   * The monotonic clock (ms) queue delays, timeouts and batch times are measured with. Tests
   * give a fake one, advanced together with fake timers, so that a delay is exact, not a race.
   * @default performance.now
   */
  readonly now?: () => number;
}

/** What {@link Batcher.submit} takes. */
export interface SubmitOptions<T> {
  readonly payload: T;
  readonly rows: number;
  readonly shapeKey: string;
  /** 1 is served first. @default settings.defaultPriority */
  readonly priority?: number;
  /** Queue timeout (µs); 0 or undefined uses the default. */
  readonly timeoutMicroseconds?: number;
}

/** The batcher. */
export interface Batcher<T, R> {
  submit(options: SubmitOptions<T>): Promise<R>;
  /** Requests waiting. */
  readonly queued: number;
  /** Batches running. */
  readonly running: number;
  /** Resolves once nothing is queued or running. */
  drain(): Promise<void>;
  /** Rejects everything still queued with `error` and accepts nothing more. */
  close(error: StratumError): void;
}

interface Entry<T, R> extends BatchItem<T> {
  state: 'queued' | 'taken' | 'expired';
  timer: NodeJS.Timeout | undefined;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/** Creates a batcher. */
export function createBatcher<T, R>(options: BatcherOptions<T, R>): Batcher<T, R> {
  const { settings, name } = options;
  const now = options.now ?? (() => performance.now());
  const queues: Entry<T, R>[][] = Array.from({ length: settings.priorityLevels }, () => []);
  const heads: number[] = new Array<number>(settings.priorityLevels).fill(0);
  const free: number[] = Array.from({ length: settings.instances }, (_, i) => settings.instances - 1 - i);
  const delayMs = settings.maxQueueDelayMicroseconds / 1000;
  let queued = 0;
  let running = 0;
  let delayTimer: NodeJS.Timeout | undefined;
  let delayImmediate: NodeJS.Immediate | undefined;
  // Moving averages of recent batches (rows, and ms from dispatch to completion).
  let recentRows = 0;
  let recentMs = 0;
  let closedWith: StratumError | undefined;
  let drainWaiters: (() => void)[] = [];

  function submit(submitted: SubmitOptions<T>): Promise<R> {
    if (closedWith !== undefined) return Promise.reject(closedWith);
    const priority = submitted.priority ?? settings.defaultPriority;
    if (!Number.isInteger(priority) || priority < 1 || priority > settings.priorityLevels) {
      return Promise.reject(
        new StratumError(
          'INVALID_PARAMETER',
          `parameter "priority" must be an integer from 1 (highest) to ${settings.priorityLevels} for ${name}, got ${priority}`,
        ),
      );
    }
    if (settings.batching && submitted.rows > settings.maxBatchSize) {
      return Promise.reject(
        new StratumError(
          'INVALID_INPUT',
          `the request carries a batch of ${submitted.rows} rows; ${name} accepts at most ${settings.maxBatchSize} (maxBatchSize)`,
        ),
      );
    }
    if (queued >= settings.maxQueueSize) {
      return Promise.reject(
        new StratumError(
          'QUEUE_FULL',
          `the queue of ${name} is full (${settings.maxQueueSize} requests); retry later`,
          {
            retryAfterSeconds: 1,
          },
        ),
      );
    }
    return new Promise<R>((resolve, reject) => {
      const entry: Entry<T, R> = {
        payload: submitted.payload,
        rows: submitted.rows,
        shapeKey: submitted.shapeKey,
        queuedAt: now(),
        state: 'queued',
        timer: undefined,
        resolve,
        reject,
      };
      const timeoutUs = submitted.timeoutMicroseconds || settings.defaultTimeoutMicroseconds;
      if (timeoutUs > 0) {
        entry.timer = setTimeout(() => expire(entry, timeoutUs), Math.max(1, Math.round(timeoutUs / 1000)));
      }
      (queues[priority - 1] as Entry<T, R>[]).push(entry);
      queued++;
      schedule();
    });
  }

  function expire(entry: Entry<T, R>, timeoutUs: number): void {
    if (entry.state !== 'queued') return;
    entry.state = 'expired';
    queued--;
    entry.reject(
      new StratumError(
        'QUEUE_TIMEOUT',
        `the request's timeout of ${timeoutUs} µs expired after ${Math.round((now() - entry.queuedAt) * 1000)} µs in the queue of ${name}`,
      ),
    );
    notifyDrained();
  }

  /** The first queued entry of the highest non-empty priority. */
  function head(): Entry<T, R> | undefined {
    for (let p = 0; p < queues.length; p++) {
      const q = queues[p] as Entry<T, R>[];
      let h = heads[p] as number;
      while (h < q.length && (q[h] as Entry<T, R>).state !== 'queued') h++;
      heads[p] = h;
      if (h > 1024 && h * 2 > q.length) {
        q.splice(0, h);
        heads[p] = 0;
        h = 0;
      }
      if (h < q.length) return q[h];
    }
    return undefined;
  }

  /** Up to maxBatchSize rows of entries compatible with `first`, in priority then arrival order. */
  function gather(first: Entry<T, R>, limit: number): { entries: Entry<T, R>[]; rows: number } {
    const entries: Entry<T, R>[] = [];
    let rows = 0;
    let scanned = 0;
    for (let p = 0; p < queues.length && rows < limit; p++) {
      const q = queues[p] as Entry<T, R>[];
      for (let i = heads[p] as number; i < q.length && rows < limit && scanned < limit * 4; i++) {
        const e = q[i] as Entry<T, R>;
        if (e.state !== 'queued') continue;
        scanned++;
        if (e.shapeKey !== first.shapeKey || rows + e.rows > limit) continue;
        entries.push(e);
        rows += e.rows;
      }
    }
    return { entries, rows };
  }

  function schedule(): void {
    while (free.length > 0 && queued > 0) {
      const first = head();
      if (first === undefined) return;
      if (!settings.batching) {
        dispatch([first], first.rows, 'unbatched');
        continue;
      }
      const { entries, rows } = gather(first, settings.maxBatchSize);
      if (rows >= settings.maxBatchSize) {
        dispatch(entries, rows, 'max_batch_size');
        continue;
      }
      const preferred = largestPreferred(rows);
      if (preferred !== undefined) {
        const cut = takeRows(entries, preferred);
        dispatch(cut.entries, cut.rows, 'preferred_batch_size');
        continue;
      }
      if (delayMs > 0) {
        const waited = now() - first.queuedAt;
        if (waited < delayMs) {
          armDelay(delayMs - waited);
          return;
        }
        dispatch(entries, rows, 'queue_delay');
        continue;
      }
      if (settings.adaptiveQueueDelay && running > 0 && rows < recentRows) {
        // Under load, a free instance that took the first arrival at once would run a batch of
        // one while the others run full ones, and the batches would fragment. Waiting a fraction
        // of a batch's time lets the rows that are arriving join it.
        const waited = now() - first.queuedAt;
        const hold = recentMs / 2;
        if (waited < hold) {
          armDelay(hold - waited);
          return;
        }
        dispatch(entries, rows, 'adaptive_delay');
        continue;
      }
      dispatch(entries, rows, 'instance_free');
    }
  }

  function largestPreferred(rows: number): number | undefined {
    let best: number | undefined;
    for (const size of settings.preferredBatchSizes) if (size <= rows) best = size;
    return best;
  }

  function takeRows(entries: Entry<T, R>[], target: number): { entries: Entry<T, R>[]; rows: number } {
    const out: Entry<T, R>[] = [];
    let rows = 0;
    for (const e of entries) {
      if (rows + e.rows > target) continue;
      out.push(e);
      rows += e.rows;
      if (rows === target) break;
    }
    return { entries: out, rows };
  }

  // Node's timers never fire in under 1 ms, so a shorter wait is re-checked on the next turn of
  // the event loop instead (schedule() compares against the clock each time).
  function armDelay(ms: number): void {
    if (delayTimer !== undefined || delayImmediate !== undefined) return;
    if (ms < 1) {
      delayImmediate = setImmediate(() => {
        delayImmediate = undefined;
        schedule();
      });
      return;
    }
    delayTimer = setTimeout(() => {
      delayTimer = undefined;
      schedule();
    }, ms);
  }

  function dispatch(entries: Entry<T, R>[], rows: number, reason: CutReason): void {
    const instance = free.pop() as number;
    for (const e of entries) {
      e.state = 'taken';
      if (e.timer !== undefined) clearTimeout(e.timer);
    }
    queued -= entries.length;
    running++;
    const started = now();
    let execution: Promise<readonly R[]>;
    try {
      execution = options.execute({ items: entries, rows, instance, reason });
    } catch (error) {
      execution = Promise.reject(error);
    }
    execution
      .then(
        (results) => {
          for (let i = 0; i < entries.length; i++) (entries[i] as Entry<T, R>).resolve(results[i] as R);
        },
        (error: unknown) => {
          for (const e of entries) e.reject(error);
        },
      )
      .finally(() => {
        recentRows = recentRows === 0 ? rows : recentRows * 0.8 + rows * 0.2;
        const ms = now() - started;
        recentMs = recentMs === 0 ? ms : recentMs * 0.8 + ms * 0.2;
        running--;
        free.push(instance);
        schedule();
        notifyDrained();
      });
  }

  function notifyDrained(): void {
    if (queued === 0 && running === 0 && drainWaiters.length > 0) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  return {
    submit,
    get queued() {
      return queued;
    },
    get running() {
      return running;
    },
    drain() {
      if (queued === 0 && running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },
    close(error) {
      if (closedWith !== undefined) return;
      closedWith = error;
      if (delayTimer !== undefined) clearTimeout(delayTimer);
      if (delayImmediate !== undefined) clearImmediate(delayImmediate);
      for (const q of queues) {
        for (const e of q) {
          if (e.state !== 'queued') continue;
          e.state = 'expired';
          if (e.timer !== undefined) clearTimeout(e.timer);
          e.reject(error);
        }
        q.length = 0;
      }
      queued = 0;
      notifyDrained();
    },
  };
}
