/**
 * A stand-in OTLP/HTTP collector for the tracing bench: accepts `POST /v1/traces` and answers as a
 * collector does, counting requests, bytes and the spans of an inference request (by their names,
 * which appear once per span in either encoding, protobuf or JSON: a byte search, not a parse, so
 * the sink costs the shared cores little). With it the bench's "tracing 100% → OTLP" row pays everything a real deployment
 * pays on the server: the spans, the batching processor, OTLP serialization and the HTTP export.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the sink has received so far. */
export interface OtlpSinkCounts {
  readonly requests: number;
  readonly bytes: number;
  readonly spans: number;
}

/** A running sink. */
export interface OtlpSink {
  /** The endpoint to give Stratum (`STRATUM_OTLP_ENDPOINT`). */
  readonly url: string;
  counts(): OtlpSinkCounts;
  close(): Promise<void>;
}

// The span names an inference request records (monitor/tracing.ts and its callers).
const SPAN_NAMES = [
  'POST /v2/models/{model}/infer',
  'stratum.infer',
  'stratum.batcher.queue',
  'stratum.runtime.run',
  'stratum.inference_log.write',
].map((name) => Buffer.from(name));

const E = 'e'.charCodeAt(0);

function countSpans(body: Buffer): number {
  let n = 0;
  for (const name of SPAN_NAMES) {
    for (let at = body.indexOf(name); at >= 0; at = body.indexOf(name, at + name.length)) {
      // `stratum.infer` is also the start of `stratum.inference_log.write`, counted on its own.
      if (body[at + name.length] !== E) n++;
    }
  }
  return n;
}

/** Starts a sink on a free port of 127.0.0.1. */
export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let bytes = 0;
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests++;
      bytes += body.length;
      spans += countSpans(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    counts: () => ({ requests, bytes, spans }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
