/**
 * What each CPU-heavy kind does inside its worker thread, by kind. A handler opens what it needs
 * from the settings it is given, posts progress, and resolves with the job's result (JSON).
 */
import { evaluateInThread } from './evaluate/evaluate-in-thread.ts';
import { trainInThread } from './train-job.ts';
import { trialInThread } from './tune/trial-in-thread.ts';
import type { ThreadHandler } from './thread-job.ts';

/** The thread handlers, by kind. */
export const THREAD_HANDLERS: Readonly<Record<string, ThreadHandler>> = Object.freeze({
  train: trainInThread,
  evaluate: evaluateInThread,
  trial: (input, { post, logger }) =>
    trialInThread(
      { payload: input.payload, by: input.by, stores: input.stores },
      { logger, onRun: (runId) => post({ type: 'started', runId }) },
    ),
});
