/**
 * What each CPU-heavy kind does inside its worker thread, by kind. A handler opens what it needs
 * from the settings it is given, posts progress, and resolves with the job's result (JSON).
 */
import type { Logger } from '../logging/logger.ts';
import { trainInThread } from './train-job.ts';
import type { ThreadJobInput, ThreadMessage } from './thread-job.ts';

/** What a thread handler may use besides its input. */
export interface ThreadHandlerContext {
  readonly post: (message: ThreadMessage) => void;
  readonly logger: Logger;
}

/** A kind's work inside the thread. */
export type ThreadHandler = (input: ThreadJobInput, context: ThreadHandlerContext) => Promise<unknown>;

/** The thread handlers, by kind. */
export const THREAD_HANDLERS: Readonly<Record<string, ThreadHandler>> = Object.freeze({
  train: trainInThread,
});
