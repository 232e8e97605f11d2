/**
 * Removes everything a BullMQ-engine queue keeps in Redis: BullMQ's own keys (`obliterate`, even
 * with active jobs) and Stratum's beside them (`<prefix>:<name>:stratum:*`: the cancelled records
 * and the listing index), which `obliterate` does not know. For tests, benchmarks and tearing a
 * queue down for good; nothing may use the queue meanwhile.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** Options of {@link dropBullmqQueue}. */
export interface DropBullmqQueueOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  readonly name: string;
  /** @default 'stratum' */
  readonly prefix?: string;
}

/** Deletes queue `name` and Stratum's keys of it. */
export async function dropBullmqQueue(options: DropBullmqQueueOptions): Promise<void> {
  const prefix = options.prefix ?? 'stratum';
  const queue = new Queue(options.name, { connection: { url: options.url }, prefix });
  const redis = new Redis(options.url);
  try {
    await queue.obliterate({ force: true });
    // SCAN's pattern is a glob: a name's own glob characters are escaped.
    const match = `${prefix}:${options.name}:stratum:*`.replace(/[?[\]\\]|\*(?!$)/g, '\\$&');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await Promise.allSettled([queue.close(), redis.quit()]);
  }
}
