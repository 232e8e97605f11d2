/**
 * Reads a request body into one Buffer placed so that the byte after the binary tensor
 * extension's JSON header (`Inference-Header-Content-Length`) sits at a multiple of 8 in its
 * ArrayBuffer. The tensors that follow the header are then viewed in place as typed arrays; read
 * the way Fastify's `parseAs: 'buffer'` reads it, a Float32 tensor after a header of 150 bytes is
 * unaligned and was copied once to be decoded and once more to be stacked into a batch (issue 14).
 * Otherwise it does what `parseAs: 'buffer'` does: one copy of the chunks, the same body limit and
 * the same errors.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyRequest } from 'fastify';

/** Largest alignment a tensor's element type needs (FP64, INT64). */
const ALIGNMENT = 8;

/**
 * A Fastify content-type parser (the function form, which reads the stream itself).
 * @example
 * app.addContentTypeParser('*', alignedBodyParser(config.bodyLimitBytes));
 */
export function alignedBodyParser(
  limit: number,
): (request: FastifyRequest, payload: IncomingMessage, done: (error: Error | null, body?: Buffer) => void) => void {
  return function parseAlignedBody(request, payload, done) {
    const contentLength = Number(request.headers['content-length']);
    if (contentLength > limit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      if (received > limit) {
        detach();
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (error?: Error & { statusCode?: number }): void => {
      detach();
      if (error != null) {
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
        done(error);
        return;
      }
      if (!Number.isNaN(contentLength) && received !== contentLength) {
        done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      done(null, assemble(chunks, received, Number(request.headers['inference-header-content-length'])));
    };
    const detach = (): void => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };
}

/** One Buffer of the chunks, with byte `headerLength` aligned when that is a length. */
function assemble(chunks: readonly Buffer[], length: number, headerLength: number): Buffer {
  if (!(Number.isInteger(headerLength) && headerLength > 0 && headerLength < length)) {
    return Buffer.concat(chunks, length);
  }
  const space = Buffer.allocUnsafe(length + ALIGNMENT - 1);
  const pad = (ALIGNMENT - ((space.byteOffset + headerLength) % ALIGNMENT)) % ALIGNMENT;
  let at = pad;
  for (const chunk of chunks) {
    space.set(chunk, at);
    at += chunk.length;
  }
  return space.subarray(pad, pad + length);
}
