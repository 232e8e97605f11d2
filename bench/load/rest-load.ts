/**
 * Closed-loop HTTP/1.1 load generator (a child process of the bench). `--concurrency` keep-alive
 * connections each send the same request, wait for the whole response and send again, until the
 * window ends; only responses completed inside the measurement window count.
 *
 * It speaks HTTP over raw sockets with the request pre-encoded once, so each request costs one
 * `write` and a Content-Length parse: on a 2-core machine every cycle the generator spends is a
 * cycle the server under test does not get, so it must stay cheap (it reports its own CPU).
 *
 *   node --import tsx bench/load/rest-load.ts --port 8000 --path /v2/models/mlp/infer \
 *     --body req.bin [--header-length 140] --concurrency 64 --warmup-ms 1000 --duration-ms 3000 \
 *     [--timeline requests.f64]
 *
 * `--timeline` also writes every request (start, latency, status) to a file, for a parent that
 * splits the run into windows afterwards; SIGUSR2 ends the run early (see load-result.ts).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLatencyRecorder } from './latency-recorder.ts';
import { endOnSignal, finishRun, measureSelf, openWindow } from './load-result.ts';
import { createTimelineRecorder } from './request-timeline.ts';

const HEADER_END = Buffer.from('\r\n\r\n');
/** A run never outlives its window by more than this, even if responses stop coming. */
const DRAIN_TIMEOUT_MS = 5000;
/** Distinct error messages counted separately; later kinds only count in `errors`. */
const MAX_ERROR_KINDS = 20;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    path: { type: 'string' },
    body: { type: 'string' },
    'content-type': { type: 'string' },
    'header-length': { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    'warmup-ms': { type: 'string', default: '1000' },
    'duration-ms': { type: 'string', default: '3000' },
    timeline: { type: 'string' },
    /** An extra request header, `name: value` (e.g. `authorization: Bearer …`); repeat for more. */
    header: { type: 'string', multiple: true },
    /** The success status (202 for `infer_async`, whose replies carry no outputs). */
    'expect-status': { type: 'string', default: '200' },
  },
  strict: true,
});

const HOST = '127.0.0.1';
const port = Number(values.port);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(port) || values.path === undefined || values.body === undefined || !(concurrency >= 1)) {
  process.stderr.write('rest-load: --port, --path, --body and a positive --concurrency are required\n');
  process.exit(2);
}
const body = readFileSync(values.body);
const expectStatus = Number(values['expect-status']);
const headerLength = values['header-length'];
const contentType =
  values['content-type'] ?? (headerLength === undefined ? 'application/json' : 'application/octet-stream');
const request = Buffer.concat([
  Buffer.from(
    `POST ${values.path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${body.length}\r\n` +
      (headerLength === undefined ? '' : `Inference-Header-Content-Length: ${headerLength}\r\n`) +
      (values.header ?? []).map((h) => `${h}\r\n`).join('') +
      '\r\n',
  ),
  body,
]);

/** A response as the parser sees it. */
interface Response {
  status: number;
  head: string;
  body: Buffer;
}

/** One keep-alive connection that sends `request` and parses responses by Content-Length. */
function openConnection(onResponse: (response: Response) => void, onError: (error: Error) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    let pending: Buffer | undefined;
    socket.once('connect', () => resolve(socket));
    socket.once('error', (error) => {
      reject(error);
      onError(error);
    });
    socket.on('data', (chunk: Buffer) => {
      pending = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const headEnd: number = pending.indexOf(HEADER_END);
        if (headEnd < 0) return;
        const head = pending.toString('latin1', 0, headEnd);
        const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (match === null) {
          socket.destroy(new Error(`response without Content-Length: ${head.slice(0, 200)}`));
          return;
        }
        const total: number = headEnd + 4 + Number(match[1]);
        if (pending.length < total) return;
        const status = Number(head.slice(9, 12));
        const response = { status, head, body: pending.subarray(headEnd + 4, total) };
        pending = pending.length === total ? undefined : pending.subarray(total);
        onResponse(response);
        if (pending === undefined) return;
      }
    });
  });
}

/** Sends one request and checks that the answer is a 200 with outputs. */
async function validate(): Promise<void> {
  let socket: Socket | undefined;
  const response = await new Promise<Response>((resolve, reject) => {
    openConnection(resolve, reject).then((s) => {
      socket = s;
      s.write(request);
    }, reject);
  });
  socket?.destroy();
  const text = response.body.toString('latin1', 0, Math.min(response.body.length, 400));
  if (response.status !== expectStatus || (expectStatus === 200 && !text.includes('"outputs"'))) {
    throw new Error(`validation request failed: HTTP ${response.status}: ${text}`);
  }
}

async function main(): Promise<void> {
  await validate();
  const latencies = createLatencyRecorder();
  const timeline = values.timeline === undefined ? undefined : createTimelineRecorder();
  const origin = performance.timeOrigin;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const errorKinds: Record<string, number> = {};
  let inFlight = 0;
  let unfinished = 0;
  let closing = false;
  let finish: (() => void) | undefined;
  const sockets: Socket[] = [];
  const starts = new Float64Array(concurrency);
  /** 1 while connection i waits for a response. */
  const busy = new Uint8Array(concurrency);
  /** 1 once connection i has failed or was closed by the server. */
  const dead = new Uint8Array(concurrency);
  const window = openWindow(Number(values['warmup-ms']), Number(values['duration-ms']));
  const ended = endOnSignal(window);
  const self = measureSelf(window);

  const send = (index: number): void => {
    const socket = sockets[index] as Socket;
    inFlight++;
    busy[index] = 1;
    starts[index] = performance.now();
    socket.write(request);
  };
  const fail = (message: string): void => {
    errors++;
    firstError ??= message;
    const kind = message.slice(0, 240);
    if (kind in errorKinds || Object.keys(errorKinds).length < MAX_ERROR_KINDS)
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  /** A connection that errored or was closed by the server: its request (if any) failed. */
  const lose = (index: number, message: string): void => {
    if (closing || dead[index] === 1) return;
    dead[index] = 1;
    fail(message);
    if (busy[index] === 1) {
      busy[index] = 0;
      inFlight--;
      const start = starts[index] as number;
      timeline?.record({ startMs: origin + start, latencyMs: performance.now() - start, status: 0 });
    }
    if (inFlight === 0) finish?.();
  };
  for (let i = 0; i < concurrency; i++) {
    const index = i;
    const socket = await openConnection(
      (response) => {
        const now = performance.now();
        const start = starts[index] as number;
        inFlight--;
        busy[index] = 0;
        timeline?.record({ startMs: origin + start, latencyMs: now - start, status: response.status });
        if (response.status !== expectStatus)
          fail(`HTTP ${response.status}: ${response.body.toString('utf8', 0, 300)}`);
        else if (now >= window.measureStart && now <= window.end) {
          completed++;
          latencies.record(now - start);
        }
        if (now < window.end) send(index);
        else if (inFlight === 0) finish?.();
      },
      (error) => lose(index, `connection error: ${error.message}`),
    );
    socket.once('close', () => lose(index, 'connection closed by the server'));
    sockets.push(socket);
  }
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  for (let i = 0; i < concurrency; i++) send(i);
  await finishRun({
    window,
    ended,
    self,
    drained: done,
    drainMs: DRAIN_TIMEOUT_MS,
    close: () => {
      closing = true;
      unfinished = inFlight;
      for (const s of sockets) s.destroy();
    },
    tally: () => ({ completed, errors, firstError, errorKinds, unfinished, latency: latencies.summary() }),
  });
  if (timeline !== undefined && values.timeline !== undefined) await timeline.write(values.timeline);
}

main().catch((error: unknown) => {
  process.stderr.write(`rest-load: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
