/**
 * The thread that computes a version's SHAP values (`explain-runner.ts` starts it): exact
 * TreeSHAP costs O(leaves · depth²) per tree and row — ≈ 30 ms a row for 200 trees of depth 6 —
 * which the event loop serving requests must not spend. It reads the model's explainer once, from
 * the bytes it is started with, and answers each block of feature rows in the order received.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toThreadFailure } from '../errors/thread-failure.ts';
import { type Explainer, readExplainer } from '../explain/read-explainer.ts';
import type { ExplainThreadData, ExplainThreadReply, ExplainThreadRequest } from './explain-thread-messages.ts';

if (parentPort === null) throw new Error('explain-thread must run in a worker thread');
const port = parentPort;
const data = workerData as ExplainThreadData;
let explainer: Explainer | undefined;

port.on('message', (message: ExplainThreadRequest) => {
  let reply: ExplainThreadReply;
  try {
    explainer ??= readExplainer(data.bytes, data.target);
    const { values, base } = explainer.explain(message.features);
    reply = { id: message.id, ok: true, values, base: [...base] };
  } catch (error) {
    reply = { id: message.id, ok: false, ...toThreadFailure(error) };
  }
  port.postMessage(reply, reply.ok ? [reply.values.buffer as ArrayBuffer] : []);
});
