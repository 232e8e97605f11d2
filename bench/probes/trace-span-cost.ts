/**
 * Probe: the CPU time tracing and the inference log's recorder add to one request, in-process and
 * single-threaded (no server, no sockets), for builds side by side: each `--root`'s compiled
 * `dist/monitor/tracing.js` and `dist/deploy/inference-log-recorder.js` drive the calls the
 * serving path makes for a request (server span → `stratum.infer` child → queue and runtime spans
 * recorded per batch of 16 → ends, 64 requests in flight, each allocating a request's worth of
 * tensors so that spans live through scavenges; spans kept nowhere, as in the tracing bench) and for the log
 * (`begin` and, when sampled, `end`, into a writer that drops the record). Roots alternate over
 * rounds; medians of CPU µs per request (process.cpuUsage), which a loaded machine moves far
 * less than wall-clock rates.
 *
 *   node --import tsx bench/probes/trace-span-cost.ts [--root /path/to/before --root .] [--rounds 7] [--requests 20000]
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { InferenceLogRecorderOptions } from '../../src/deploy/inference-log-recorder.ts';
import type { RequestTrace } from '../../src/monitor/request-trace.ts';
import type { TracingOptions, Tracing } from '../../src/monitor/tracing.ts';
import type { InferenceRecorder } from '../../src/serving/inference-recorder.ts';
import type { InferRequest } from '../../src/serving/types.ts';
import { BENCH_ROOT } from './probe-server.ts';

const { values } = parseArgs({
  options: {
    root: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '7' },
    requests: { type: 'string', default: '20000' },
  },
  strict: true,
});
const roots = (values.root ?? [BENCH_ROOT]).map((r) => resolve(r));
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const BATCH = 16;
const IN_FLIGHT = 64;

interface Build {
  readonly root: string;
  readonly createTracing: (options: TracingOptions) => Tracing | undefined;
  readonly createRecorder: (options: InferenceLogRecorderOptions) => InferenceRecorder;
}

async function load(root: string): Promise<Build> {
  const url = (path: string): string => pathToFileURL(join(root, 'dist', path)).href;
  const tracing = (await import(url('monitor/tracing.js'))) as { createTracing: Build['createTracing'] };
  const log = (await import(url('deploy/inference-log-recorder.js'))) as {
    createInferenceLogRecorder: Build['createRecorder'];
  };
  return { root, createTracing: tracing.createTracing, createRecorder: log.createInferenceLogRecorder };
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU µs per request of the serving path's tracing calls at `sampleRate`. */
async function tracingCost(build: Build, sampleRate: number): Promise<number> {
  const tracing = build.createTracing({
    settings: { enabled: sampleRate > 0, sampleRate, serviceName: 'stratum' },
    version: '1',
  }) ?? {
    // Tracing off: what the serving path does then (nothing), for the requests' own allocations.
    startRequest: () => ({ trace: undefined, traceparent: '' }),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': '120' };
  const start = cpuMicros();
  // Requests stay open while IN_FLIGHT others run, as at c=64, and each allocates what a served
  // request does (its tensors, its reply): spans then live through scavenges, as in the server.
  let inFlight: { server: RequestTrace; infer: RequestTrace }[] = [];
  let garbage: unknown[] = [];
  for (let done = 0; done < requests; done += BATCH) {
    const open: { server: RequestTrace; infer: RequestTrace; queuedAt: number }[] = [];
    for (let i = 0; i < BATCH; i++) {
      garbage.push(new Float32Array(800), { outputs: [{ name: 'y', data: new Float32Array(10) }] });
      const started = tracing.startRequest({
        name: 'POST /v2/models/{model}/infer',
        headers,
        attributes: { 'http.request.method': 'POST', 'url.path': '/v2/models/mlp/infer', 'stratum.model': 'mlp' },
      });
      if (started.trace === undefined) continue;
      const infer = started.trace.child('stratum.infer', { 'stratum.model': 'mlp', 'stratum.protocol': 'rest' });
      open.push({ server: started.trace, infer, queuedAt: performance.now() });
    }
    const t0 = performance.now();
    const attributes = {
      'stratum.batch.rows': open.length,
      'stratum.batch.requests': BATCH,
      'stratum.batch.cut': 'idle',
    };
    for (const { infer, queuedAt } of open) infer.record('stratum.batcher.queue', { start: queuedAt, end: t0 });
    const [first] = open;
    const run = { start: t0, end: performance.now(), attributes };
    if (first !== undefined && open.length > 1 && typeof first.infer.recordShared === 'function') {
      first.infer.recordShared(
        'stratum.runtime.run',
        run,
        open.map((o) => o.infer),
      );
    } else {
      for (const { infer } of open) infer.record('stratum.runtime.run', run);
    }
    inFlight.push(...open);
    if (inFlight.length > IN_FLIGHT) {
      const finished = inFlight.slice(0, inFlight.length - IN_FLIGHT);
      inFlight = inFlight.slice(inFlight.length - IN_FLIGHT);
      for (const { server, infer } of finished) {
        infer.setAttributes({ 'stratum.version': '1' });
        infer.end();
        server.end();
      }
    }
    if (garbage.length > IN_FLIGHT * 2) garbage = garbage.slice(garbage.length - IN_FLIGHT * 2);
    // A turn of the event loop every 64 requests, where the deferred spans are made.
    if (done % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  for (const { server, infer } of inFlight) {
    infer.end();
    server.end();
  }
  await tracing.flush();
  const micros = cpuMicros() - start;
  await tracing.close();
  return micros / requests;
}

/** CPU µs per request of the log recorder at `sampleRate` (the writer drops what it is offered). */
function recorderCost(build: Build, sampleRate: number): number {
  const recorder = build.createRecorder({
    settings: { sampleRate, deployments: {}, redact: {} },
    writer: { offer: () => true },
  });
  const body = new Float32Array(784 + 16);
  const request: InferRequest = {
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: body.subarray(8, 792) }],
    binaryOutputs: true,
  };
  const response = { modelName: 'mlp', modelVersion: '1', outputs: [] };
  const start = cpuMicros();
  for (let i = 0; i < requests; i++) {
    const { capture } = recorder.begin('mlp', request);
    if (capture !== undefined) recorder.end(capture, { model: 'mlp', version: '1', response });
  }
  return (cpuMicros() - start) / requests;
}

const builds = await Promise.all(roots.map(load));
const cases = [
  { name: "tracing off (the same requests' allocations only)", run: (b: Build) => tracingCost(b, 0) },
  { name: 'tracing 1%', run: (b: Build) => tracingCost(b, 0.01) },
  { name: 'tracing 100%', run: (b: Build) => tracingCost(b, 1) },
  { name: 'log 1%', run: (b: Build) => Promise.resolve(recorderCost(b, 0.01)) },
  { name: 'log 100%', run: (b: Build) => Promise.resolve(recorderCost(b, 1)) },
];
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const results = new Map<string, number[]>();
// One round unmeasured: the first calls compile and warm every path.
for (let round = -1; round < rounds; round++) {
  for (const c of cases) {
    for (const build of builds) {
      const micros = await c.run(build);
      if (round >= 0) {
        const key = `${c.name}\t${build.root}`;
        results.set(key, [...(results.get(key) ?? []), micros]);
      }
    }
  }
}
console.log('| case | root | CPU µs/request (median) | min–max |');
console.log('| --- | --- | ---: | --- |');
for (const [key, xs] of results) {
  const sorted = [...xs].sort((a, b) => a - b);
  const [name, root] = key.split('\t');
  console.log(
    `| ${name} | ${root} | ${(sorted[sorted.length >> 1] ?? NaN).toFixed(2)} | ${sorted[0]?.toFixed(2)}–${sorted.at(-1)?.toFixed(2)} |`,
  );
}
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
