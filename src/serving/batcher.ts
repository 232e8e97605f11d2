/**
 * The dynamic batcher of one model version. Requests wait in per-priority FIFO queues; whenever an
 * instance is free, a batch is cut from the head of the highest-priority queue: immediately when it
 * is full or has a preferred size, else once the oldest request has waited `maxQueueDelay`. While
 * every instance is busy, requests accumulate, so batches grow exactly when the load does. The
 * delay only holds a batch while traffic is dense: a lone request to an idle model whose recent
 * batches carried one request each goes at once, since no partner is coming (see nextCut).
 *
 * Below the priority levels sits a background class (asynchronous inference): its requests are
 * cut into batches of their own only when no online request is waiting, and never ride in an
 * online batch, so they take idle capacity without adding work to an online request's path.
 */
import { StratumError } from '../errors/index.ts';
import { type Gathered, PriorityQueues, type QueueEntry, takeRows } from './batch-queue.ts';

/** Why a batch was cut. */
export type CutReason =
  'max_batch_size' | 'preferred_batch_size' | 'queue_delay' | 'adaptive_delay' | 'instance_free' | 'unbatched';

/** Batching settings of a model version. */
export interface BatcherSettings {
  /** Combine requests into batches (the model has a dynamic first dimension). */
  readonly batching: boolean;
  readonly maxBatchSize: number;
  /**
   * How long a partial batch may wait for more requests while traffic is dense. A lone request to
   * an idle model whose recent batches carried about one request each (sparse traffic) does not
   * wait.
   */
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
  /** Queue timeout (µs); 0 or undefined uses the default. Background requests have none. */
  readonly timeoutMicroseconds?: number;
  /**
   * Background class: served strictly after every online request (whatever its priority), in
   * batches of its own; `priority` is ignored. @default false
   */
  readonly background?: boolean;
  /** A background request still queued when this aborts is dropped and rejects with its reason. */
  readonly signal?: AbortSignal;
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
  readonly background: boolean;
  state: 'queued' | 'taken' | 'expired';
  timer: NodeJS.Timeout | undefined;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/** Creates a batcher. */
export function createBatcher<T, R>(options: BatcherOptions<T, R>): Batcher<T, R> {
  const { settings, name } = options;
  const now = options.now ?? (() => performance.now());
  // One level more than the priorities: the background class.
  const queues = new PriorityQueues<Entry<T, R>>(settings.priorityLevels + 1);
  const free: number[] = Array.from({ length: settings.instances }, (_, i) => settings.instances - 1 - i);
  let queued = 0;
  let running = 0;
  let delayTimer: NodeJS.Timeout | undefined;
  let delayImmediate: NodeJS.Immediate | undefined;
  // Moving averages of recent batches (rows, requests, and ms from dispatch to completion).
  let recentRows = 0;
  let recentRequests = 0;
  let recentMs = 0;
  let closedWith: StratumError | undefined;
  let drainWaiters: (() => void)[] = [];

  function submit(submitted: SubmitOptions<T>): Promise<R> {
    if (closedWith !== undefined) return Promise.reject(closedWith);
    const background = submitted.background === true;
    const priority = background ? settings.priorityLevels + 1 : (submitted.priority ?? settings.defaultPriority);
    const refused = refusal({ settings, name, queued }, { rows: submitted.rows, priority, background });
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<R>((resolve, reject) => {
      const entry: Entry<T, R> = {
        payload: submitted.payload,
        rows: submitted.rows,
        shapeKey: submitted.shapeKey,
        queuedAt: now(),
        background,
        state: 'queued',
        timer: undefined,
        resolve,
        reject,
      };
      armRemoval(entry, submitted, { settings, name, now, drop });
      queues.push(priority, entry);
      queued++;
      schedule();
    });
  }

  /** Takes a still-queued entry out (its timeout expired, or its caller gave up). */
  function drop(entry: Entry<T, R>, error: () => unknown): void {
    if (entry.state !== 'queued') return;
    entry.state = 'expired';
    queued--;
    if (queued === 0) queues.forgetConsumed();
    entry.reject(error());
    notifyDrained();
  }

  function schedule(): void {
    while (free.length > 0 && queued > 0) {
      const first = queues.head();
      if (first === undefined) return;
      const load = { running, queued, recentRows, recentRequests, recentMs, waitedMs: now() - first.queuedAt };
      // An online batch gathers from the priority levels only; a background head means none waits.
      const levels = first.background ? settings.priorityLevels + 1 : settings.priorityLevels;
      const cut = settings.batching
        ? nextCut(settings, queues.gather(first, settings.maxBatchSize, levels), load)
        : { entries: [first], rows: first.rows, reason: 'unbatched' as const };
      if ('waitMs' in cut) {
        armDelay(cut.waitMs);
        return;
      }
      dispatch(cut.entries, cut.rows, cut.reason);
    }
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
    if (queued === 0) queues.forgetConsumed();
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
        const requests = entries.length;
        recentRequests = recentRequests === 0 ? requests : recentRequests * 0.8 + requests * 0.2;
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
      queues.clear((e) => {
        e.state = 'expired';
        if (e.timer !== undefined) clearTimeout(e.timer);
        e.reject(error);
      });
      queued = 0;
      notifyDrained();
    },
  };
}

/**
 * Arms what takes a queued entry out early: an online request's queue timeout, a background
 * request's abort signal.
 */
function armRemoval<T, R>(
  entry: Entry<T, R>,
  submitted: SubmitOptions<T>,
  batcher: {
    readonly settings: BatcherSettings;
    readonly name: string;
    readonly now: () => number;
    readonly drop: (entry: Entry<T, R>, error: () => unknown) => void;
  },
): void {
  const { settings, name, now, drop } = batcher;
  if (entry.background) {
    const signal = submitted.signal;
    if (signal === undefined) return;
    const withdraw = () => drop(entry, () => signal.reason);
    if (signal.aborted) queueMicrotask(withdraw);
    else signal.addEventListener('abort', withdraw, { once: true });
    return;
  }
  const timeoutUs = submitted.timeoutMicroseconds || settings.defaultTimeoutMicroseconds;
  if (timeoutUs <= 0) return;
  const expired = () =>
    new StratumError(
      'QUEUE_TIMEOUT',
      `the request's timeout of ${timeoutUs} µs expired after ${Math.round((now() - entry.queuedAt) * 1000)} µs in the queue of ${name}`,
    );
  entry.timer = setTimeout(() => drop(entry, expired), Math.max(1, Math.round(timeoutUs / 1000)));
}

/** Why a request cannot be queued, or undefined when it can. */
function refusal(
  batcher: { readonly settings: BatcherSettings; readonly name: string; readonly queued: number },
  request: { readonly rows: number; readonly priority: number; readonly background: boolean },
): StratumError | undefined {
  const { settings, name } = batcher;
  const { priority, rows } = request;
  if (!request.background && (!Number.isInteger(priority) || priority < 1 || priority > settings.priorityLevels)) {
    return new StratumError(
      'INVALID_PARAMETER',
      `parameter "priority" must be an integer from 1 (highest) to ${settings.priorityLevels} for ${name}, got ${priority}`,
    );
  }
  if (settings.batching && rows > settings.maxBatchSize) {
    return new StratumError(
      'INVALID_INPUT',
      `the request carries a batch of ${rows} rows; ${name} accepts at most ${settings.maxBatchSize} (maxBatchSize)`,
    );
  }
  if (batcher.queued >= settings.maxQueueSize) {
    return new StratumError(
      'QUEUE_FULL',
      `the queue of ${name} is full (${settings.maxQueueSize} requests); retry later`,
      {
        retryAfterSeconds: 1,
      },
    );
  }
  return undefined;
}

/** The largest preferred batch size that `rows` fills. */
function largestPreferred(preferredBatchSizes: readonly number[], rows: number): number | undefined {
  let best: number | undefined;
  for (const size of preferredBatchSizes) if (size <= rows) best = size;
  return best;
}

/**
 * Recent batches that carried fewer requests than this on average mean sparse traffic: requests
 * arrive one at a time, each after the previous one was answered (a client at concurrency 1).
 */
const SPARSE_REQUESTS_PER_BATCH = 1.5;

/** What the batcher knows about its load when it cuts. */
interface Load {
  /** Batches running. */
  readonly running: number;
  /** Requests queued (all levels). */
  readonly queued: number;
  /** Moving averages over recent batches. */
  readonly recentRows: number;
  readonly recentRequests: number;
  readonly recentMs: number;
  /** How long the oldest gathered request has waited. */
  readonly waitedMs: number;
}

/** The batch to cut now from what is gathered, or how long to wait for more rows. */
function nextCut<E extends QueueEntry>(
  settings: BatcherSettings,
  gathered: Gathered<E>,
  load: Load,
): (Gathered<E> & { readonly reason: CutReason }) | { readonly waitMs: number } {
  const { entries, rows } = gathered;
  if (rows >= settings.maxBatchSize) return { entries, rows, reason: 'max_batch_size' };
  const preferred = largestPreferred(settings.preferredBatchSizes, rows);
  if (preferred !== undefined) return { ...takeRows(entries, preferred), reason: 'preferred_batch_size' };
  const delayMs = settings.maxQueueDelayMicroseconds / 1000;
  if (delayMs > 0) {
    // The delay waits for partners. With nothing running and nothing else queued, and recent
    // batches of about one request, none is coming: a client at concurrency 1 sends its next
    // request only after this one is answered, so waiting would only add the delay to its
    // latency. Under load something runs or the batches are larger, and the delay holds; so it
    // does before the first batch (no history: a burst may be arriving).
    const idle = load.running === 0 && entries.length === load.queued;
    const sparse = load.recentRequests > 0 && load.recentRequests < SPARSE_REQUESTS_PER_BATCH;
    if (idle && sparse) return { entries, rows, reason: 'instance_free' };
    return load.waitedMs < delayMs ? { waitMs: delayMs - load.waitedMs } : { entries, rows, reason: 'queue_delay' };
  }
  if (settings.adaptiveQueueDelay && load.running > 0 && rows < load.recentRows) {
    // Under load, a free instance that took the first arrival at once would run a batch of
    // one while the others run full ones, and the batches would fragment. Waiting a fraction
    // of a batch's time lets the rows that are arriving join it.
    const holdMs = load.recentMs / 2;
    return load.waitedMs < holdMs ? { waitMs: holdMs - load.waitedMs } : { entries, rows, reason: 'adaptive_delay' };
  }
  return { entries, rows, reason: 'instance_free' };
}
