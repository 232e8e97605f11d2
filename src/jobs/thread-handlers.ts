/**
 * What each CPU-heavy kind does inside its worker thread, by kind. A handler opens what it needs
 * from the settings it is given, posts progress, and resolves with the job's result (JSON).
 */
import { trainInThread } from './train-job.ts';
import type { ThreadHandler } from './thread-job.ts';

/** The thread handlers, by kind. */
export const THREAD_HANDLERS: Readonly<Record<string, ThreadHandler>> = Object.freeze({
  train: trainInThread,
});
