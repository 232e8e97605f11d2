/** The BullMQ engine (being written). */
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { JobQueue } from './job-queue.ts';

/** Options of {@link createBullmqJobQueue}. */
export interface BullmqJobQueueOptions {
  readonly url: string;
  readonly name?: string;
  readonly logger?: Logger;
}

/** Not yet available. */
export function createBullmqJobQueue(options: BullmqJobQueueOptions): Promise<JobQueue> {
  return Promise.reject(new StratumError('UNSUPPORTED', `the BullMQ engine is not built yet (${options.url})`));
}
