/**
 * A process-level collective over Redis: the ranks of one training group (a world of `worldSize`
 * processes, on one machine or many) meet, sum buffers, broadcast bytes and wait for each other,
 * with Redis carrying every byte. Redis, not NATS: the queue already runs on it (one engine to
 * operate), lists give ordered point-to-point mailboxes with blocking reads (`BLPOP`) and expiry,
 * and binary values travel as they are.
 *
 * Keys, all under `stratum:collective:{group}:` and all expiring, so a killed run leaves nothing:
 * - `alive:{rank}`: claimed with `SET NX` when a rank opens (a second process with the same rank
 *   and group is refused) and refreshed by a heartbeat; a rank whose key expires is gone.
 * - `box:{to}:{from}`: the mailbox list of messages from one rank to another. One sender pushes
 *   in order and one receiver pops in order, so the n-th message of a pair is the n-th operation.
 * - `failed`: the first rank that fails writes why, so the others stop at once with its reason.
 *
 * Sums are exchanged all-to-all and every rank adds the buffers in rank order (0, 1, …), so every
 * rank holds bit-identical sums and grows the identical tree.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { StratumError } from '../../errors/index.ts';

/** Options of {@link openRedisCollective}. */
export interface RedisCollectiveOptions {
  /** `redis://host:port[/db]` of the Redis every rank reaches. */
  readonly url: string;
  /** Names the training run; ranks of different groups never see each other's bytes. */
  readonly group: string;
  /** This process's rank, integer in `[0, worldSize)`; rank 0 records the run. */
  readonly rank: number;
  /** Processes in the group, integer >= 1. */
  readonly worldSize: number;
  /** How long {@link Collective.join} waits for every rank to appear. @default 120000 */
  readonly joinTimeoutMs?: number;
  /**
   * How long a rank waits for a live peer's message before failing (a peer that is alive but
   * stuck). A dead peer is noticed sooner, when its heartbeat key expires. @default 1800000
   */
  readonly peerTimeoutMs?: number;
  /** Heartbeat period; a rank is gone after five missed beats. @default 1000 */
  readonly heartbeatMs?: number;
}

/** What a rank exchanged so far; bytes are payload bytes, without Redis framing. */
export interface CollectiveStats {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly messagesSent: number;
  /** Collective operations run (allreduce, broadcast, barrier). */
  readonly operations: number;
}

/** One rank's handle on the group. Operations must be called in the same order on every rank. */
export interface Collective {
  readonly rank: number;
  readonly worldSize: number;
  readonly group: string;
  /**
   * Waits until every rank has opened (idempotent; operations call it first).
   * @throws StratumError COLLECTIVE_FAILED naming the ranks that never appeared.
   */
  join(): Promise<void>;
  /** The element-wise sum over every rank of `values` (same length everywhere), added in rank order. */
  allreduceSum(values: Float64Array): Promise<Float64Array>;
  /** Rank `root`'s `bytes` on every rank (`bytes` is ignored elsewhere). @default root 0 */
  broadcast(bytes: Uint8Array | undefined, root?: number): Promise<Uint8Array>;
  /** Returns once every rank has called it. */
  barrier(): Promise<void>;
  stats(): CollectiveStats;
  /**
   * Leaves the group: stops the heartbeat and deletes this rank's keys; with `error`, first tells
   * the others why (they fail with it). Idempotent.
   */
  close(error?: unknown): Promise<void>;
}

/** The key prefix of a group. */
export function groupPrefix(group: string): string {
  return `stratum:collective:${group}:`;
}

const MAILBOX_TTL_MS = 3_600_000;
/** How long a group's failure is kept: its ranks are long gone by then, and the group id may be reused. */
const FAILED_TTL_MS = 600_000;
/** A `BLPOP` waits this long at most, so a dead peer or a failure is checked between waits. */
const POLL_SECONDS = 0.5;

/**
 * Opens this rank's side of the group: connects, clears stale mailboxes, claims the rank and
 * starts the heartbeat. Returns before the other ranks are there ({@link Collective.join}).
 * @throws StratumError COLLECTIVE_FAILED when Redis cannot be reached or the rank is taken.
 */
export async function openRedisCollective(options: RedisCollectiveOptions): Promise<Collective> {
  const { url, group, rank, worldSize } = options;
  checkTopology(options);
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const aliveTtlMs = heartbeatMs * 5;
  const prefix = groupPrefix(group);
  const alive = (r: number): string => `${prefix}alive:${r}`;
  const box = (to: number, from: number): string => `${prefix}box:${to}:${from}`;
  const failedKey = `${prefix}failed`;
  const inbound = Array.from({ length: worldSize }, (_, from) => box(rank, from));
  const label = `distributed training group "${group}", rank ${rank} of ${worldSize}`;
  const fail = (message: string, cause?: unknown): StratumError =>
    new StratumError('COLLECTIVE_FAILED', `${label}: ${message}`, {
      details: { group, rank, worldSize },
      ...(cause === undefined ? {} : { cause }),
    });

  const { commands, reader, nonce } = await claimRank({ url, claim: alive(rank), aliveTtlMs, fail, inbound });
  const heartbeat = setInterval(() => {
    commands.set(alive(rank), nonce, 'PX', aliveTtlMs).catch(() => undefined);
  }, heartbeatMs);

  let stats: CollectiveStats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, operations: 0 };
  let joined: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  let broken: StratumError | undefined;

  /** Throws when a peer reported a failure or `peer` (if given) is gone. */
  const checkPeers = async (peer: number | undefined): Promise<void> => {
    const [reason, present] = await Promise.all([
      commands.get(failedKey),
      peer === undefined ? Promise.resolve(1) : commands.exists(alive(peer)),
    ]);
    if (reason !== null) throw fail(`stopped because ${reason}`);
    if (present === 0) throw fail(`rank ${peer} is gone (no heartbeat for ${aliveTtlMs} ms: it died or lost Redis)`);
  };

  const join = (): Promise<void> => {
    joined ??= (async () => {
      const deadline = Date.now() + (options.joinTimeoutMs ?? 120_000);
      for (;;) {
        await checkPeers(undefined);
        const present = await commands.exists(...Array.from({ length: worldSize }, (_, r) => alive(r)));
        if (present === worldSize) return;
        if (Date.now() > deadline) {
          const missing: number[] = [];
          for (let r = 0; r < worldSize; r++) if ((await commands.exists(alive(r))) === 0) missing.push(r);
          throw fail(`rank(s) ${missing.join(', ')} never joined within ${options.joinTimeoutMs ?? 120_000} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    return joined;
  };

  const send = async (to: number, bytes: Uint8Array): Promise<void> => {
    const key = box(to, rank);
    await commands.multi().rpush(key, Buffer.from(bytes)).pexpire(key, MAILBOX_TTL_MS).exec();
    stats = { ...stats, bytesSent: stats.bytesSent + bytes.byteLength, messagesSent: stats.messagesSent + 1 };
  };

  const receive = async (from: number): Promise<Buffer> => {
    const deadline = Date.now() + (options.peerTimeoutMs ?? 1_800_000);
    for (;;) {
      const popped = await reader.blpopBuffer(box(rank, from), POLL_SECONDS);
      if (popped !== null) {
        stats = { ...stats, bytesReceived: stats.bytesReceived + popped[1].byteLength };
        return popped[1];
      }
      await checkPeers(from);
      if (Date.now() > deadline) throw fail(`rank ${from} sent nothing for ${options.peerTimeoutMs} ms`);
    }
  };

  /** Runs one operation: joins first, counts it, and turns a Redis error into COLLECTIVE_FAILED. */
  const operation = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed !== undefined) throw fail('used after close()');
    if (broken !== undefined) throw broken;
    try {
      await join();
      stats = { ...stats, operations: stats.operations + 1 };
      return await work();
    } catch (error) {
      broken = error instanceof StratumError ? error : fail(`Redis failed (${(error as Error).message})`, error);
      throw broken;
    }
  };

  const allreduceSum = (values: Float64Array): Promise<Float64Array> =>
    operation(async () => {
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const peers = Array.from({ length: worldSize }, (_, r) => r).filter((r) => r !== rank);
      // Reads start while the sends are in flight (on the other connection): one round trip, not two.
      const sent = Promise.all(peers.map((to) => send(to, bytes)));
      sent.catch(() => undefined);
      const sum = new Float64Array(values.length);
      const part = new Float64Array(values.length);
      const partBytes = new Uint8Array(part.buffer);
      for (let r = 0; r < worldSize; r++) {
        let term = values;
        if (r !== rank) {
          const received = await receive(r);
          if (received.byteLength !== bytes.byteLength) {
            throw fail(`rank ${r} sent ${received.byteLength} bytes where this rank has ${bytes.byteLength}`);
          }
          partBytes.set(received);
          term = part;
        }
        // Every rank adds in rank order from zero, so every rank gets the same bits.
        for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (term[i] as number);
      }
      await sent;
      return sum;
    });

  const broadcast = (bytes: Uint8Array | undefined, root = 0): Promise<Uint8Array> =>
    operation(async () => {
      if (rank !== root) return new Uint8Array(await receive(root));
      const payload = bytes ?? new Uint8Array(0);
      await Promise.all(
        Array.from({ length: worldSize }, (_, r) => r)
          .filter((r) => r !== rank)
          .map((to) => send(to, payload)),
      );
      return payload;
    });

  const close = (error?: unknown): Promise<void> => {
    closed ??= (async () => {
      clearInterval(heartbeat);
      try {
        if (error !== undefined && commands.status === 'ready') {
          const reason = `rank ${rank} failed: ${error instanceof Error ? error.message : String(error)}`;
          await commands.set(failedKey, reason.slice(0, 2000), 'PX', FAILED_TTL_MS, 'NX');
        }
        // After a failure nobody reads what this rank sent; after success every message was read
        // or is being read, so its outbound mailboxes are left to the readers (and to expiry).
        const outbound = error === undefined ? [] : Array.from({ length: worldSize }, (_, to) => box(to, rank));
        if (commands.status === 'ready') await commands.del(alive(rank), ...inbound, ...outbound);
      } catch {
        // Leaving is best effort: every key expires anyway.
      } finally {
        reader.disconnect();
        await commands.quit().catch(() => commands.disconnect());
      }
    })();
    return closed;
  };

  return {
    rank,
    worldSize,
    group,
    join,
    allreduceSum,
    broadcast,
    barrier: async () => {
      await allreduceSum(new Float64Array(1));
    },
    stats: () => stats,
    close,
  };
}

/**
 * Connects twice (blocking reads hold their connection, so the heartbeat and the sends use the
 * other), clears this rank's stale mailboxes and claims the rank's key.
 */
async function claimRank(args: {
  url: string;
  claim: string;
  aliveTtlMs: number;
  inbound: string[];
  fail: (message: string, cause?: unknown) => StratumError;
}): Promise<{ commands: Redis; reader: Redis; nonce: string }> {
  const { url, claim, fail } = args;
  const connect = (): Redis => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    // Errors surface through the commands that fail; the event would otherwise be unhandled.
    redis.on('error', () => undefined);
    return redis;
  };
  const commands = connect();
  const reader = connect();
  const disconnect = (): void => {
    commands.disconnect();
    reader.disconnect();
  };
  try {
    await Promise.all([commands.connect(), reader.connect()]);
    await commands.del(...args.inbound);
    const nonce = randomUUID();
    const claimed = await commands.set(claim, nonce, 'PX', args.aliveTtlMs, 'NX');
    if (claimed === 'OK') return { commands, reader, nonce };
  } catch (error) {
    disconnect();
    throw fail(`cannot reach Redis at ${url} (${(error as Error).message})`, error);
  }
  disconnect();
  throw fail('the rank is already taken (another process runs it, or one died less than a few seconds ago)');
}

function checkTopology(options: RedisCollectiveOptions): void {
  const { rank, worldSize, group } = options;
  if (!Number.isInteger(worldSize) || worldSize < 1 || worldSize > 256) {
    throw new StratumError('BAD_REQUEST', `world size must be an integer in [1, 256], got ${worldSize}`);
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new StratumError('BAD_REQUEST', `rank must be an integer in [0, ${worldSize - 1}], got ${rank}`);
  }
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(group)) {
    throw new StratumError(
      'BAD_REQUEST',
      `group must be 1–128 letters, digits, ".", "_" or "-", got ${JSON.stringify(group)}`,
    );
  }
  if (!/^rediss?:\/\//.test(options.url)) {
    throw new StratumError('BAD_REQUEST', `the collective URL must be redis://host:port, got ${options.url}`);
  }
}
