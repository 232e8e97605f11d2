/**
 * The thread that runs large drift comparisons (`drift-runner.ts` starts it): sorting a million
 * numbers per column and walking them takes a core for a while, which the event loop serving
 * requests must not give up.
 */
import { parentPort } from 'node:worker_threads';
import { toThreadFailure } from '../errors/thread-failure.ts';
import { computeDrift } from './compute-drift.ts';
import type { DriftThreadReply, DriftThreadRequest } from './drift-thread-messages.ts';

if (parentPort === null) throw new Error('drift-thread must run in a worker thread');
const port = parentPort;

port.on('message', (message: DriftThreadRequest) => {
  let reply: DriftThreadReply;
  try {
    const verdict = computeDrift({
      references: message.references,
      current: new Map(message.current),
      config: message.config,
    });
    reply = { id: message.id, ok: true, verdict };
  } catch (error) {
    reply = { id: message.id, ok: false, ...toThreadFailure(error) };
  }
  port.postMessage(reply);
});
