/**
 * The thread that turns `infer_async` JSON bodies into the binary form they are stored in
 * (`infer-async-decoder.ts` starts it). Parsing a JSON body of thousands of numbers takes
 * milliseconds of one core; here it does not block the event loop online requests are served on.
 * It keeps the normal priority: the caller waits for its 202, and at nice 19 a machine kept busy
 * by other work (a training job beside the server) could hold that reply back indefinitely.
 */
import { parentPort } from 'node:worker_threads';
import { toThreadFailure } from '../errors/thread-failure.ts';
import { decodeRestInferRequest } from '../serving/protocol/rest-infer-request.ts';
import { encodeBinaryRequest } from './infer-async-payload.ts';
import type { BodyReply, BodyRequest } from './infer-async-body-messages.ts';

if (parentPort === null) throw new Error('infer-async-body-thread must run in a worker thread');
const port = parentPort;

port.on('message', (message: BodyRequest) => {
  let reply: BodyReply;
  try {
    const decoded = decodeRestInferRequest({
      body: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
      maxBytesElement: message.maxBytesElement,
    });
    const binary = encodeBinaryRequest(decoded);
    reply = { id: message.id, ok: true, body: binary.body, headerLength: binary.headerLength };
  } catch (error) {
    reply = { id: message.id, ok: false, ...toThreadFailure(error) };
  }
  port.postMessage(reply);
});
