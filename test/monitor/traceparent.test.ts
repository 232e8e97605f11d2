// The hand-written traceparent check and ratio decision that keep unsampled requests away from the
// OpenTelemetry SDK: they must agree with the SDK's propagator and sampler on every input.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { defaultTextMapGetter, ROOT_CONTEXT, SamplingDecision, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { createTracing } from '../../src/monitor/tracing.ts';
import { traceRatioSampler } from '../../src/monitor/trace-ratio.ts';
import { parseTraceparent } from '../../src/monitor/traceparent.ts';

const propagator = new W3CTraceContextPropagator();

/** What the propagator makes of a header: the same shape as `parseTraceparent`'s answer. */
function extracted(header: string | string[] | undefined) {
  const context = propagator.extract(ROOT_CONTEXT, { traceparent: header }, defaultTextMapGetter);
  const span = trace.getSpanContext(context);
  return span === undefined
    ? undefined
    : { traceId: span.traceId, spanId: span.spanId, sampled: (span.traceFlags & 1) === 1 };
}

function assertSame(header: string | string[] | undefined): void {
  assert.deepEqual(parseTraceparent(header), extracted(header), JSON.stringify(header));
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('parseTraceparent agrees with the W3C propagator on valid and invalid headers', () => {
  const cases: (string | string[] | undefined)[] = [
    undefined,
    '',
    [],
    [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-00`],
    `00-${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-00`,
    `00-${TRACE}-${SPAN}-03`,
    `00-${TRACE}-${SPAN}-ff`,
    `01-${TRACE}-${SPAN}-01`,
    `01-${TRACE}-${SPAN}-01-extra-fields`,
    `00-${TRACE}-${SPAN}-01-extra`,
    `00-${TRACE}-${SPAN}-01-`,
    `ff-${TRACE}-${SPAN}-01`,
    `fe-${TRACE}-${SPAN}-01`,
    `0g-${TRACE}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    `00-${TRACE}-${SPAN.toUpperCase()}-01`,
    `00-${TRACE}-${SPAN}-0A`,
    ` 00-${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-01 `,
    ` 00-${TRACE}-${SPAN}-01 `,
    `\t00-${TRACE}-${SPAN}-01\n`,
    `  00-${TRACE}-${SPAN}-01`,
    `00_${TRACE}-${SPAN}-01`,
    `00-${TRACE}_${SPAN}-01`,
    `00-${TRACE}-${SPAN}_01`,
    `00-${TRACE.slice(1)}-${SPAN}-01x`,
    `00-${TRACE}-${SPAN}-1`,
    `000-${TRACE}-${SPAN.slice(1)}-01`,
    `00-${TRACE}-${SPAN}-01`.replace('-', ''),
    'not a traceparent',
  ];
  for (const header of cases) assertSame(header);
});

test('parseTraceparent agrees with the W3C propagator on random mutations of valid headers', () => {
  const alphabet = '0123456789abcdefABCDEF- \tgz';
  const seed = randomBytes(4).readUInt32LE(0);
  let state = seed;
  const next = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  for (let i = 0; i < 20_000; i++) {
    const valid = `0${next(2)}-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-0${next(4)}`;
    let header = valid;
    const edits = next(4);
    for (let e = 0; e < edits; e++) {
      const at = next(header.length + 1);
      const kind = next(3);
      const char = alphabet[next(alphabet.length)] ?? '0';
      if (kind === 0) header = header.slice(0, at) + char + header.slice(at + 1);
      else if (kind === 1) header = header.slice(0, at) + char + header.slice(at);
      else header = header.slice(0, at) + header.slice(at + 1);
    }
    assert.deepEqual(parseTraceparent(header), extracted(header), `${JSON.stringify(header)} (seed ${seed})`);
  }
});

test('the ratio decision matches TraceIdRatioBasedSampler', () => {
  for (const ratio of [0, 1e-9, 0.01, 0.25, 0.5, 0.999, 1]) {
    const ours = traceRatioSampler(ratio);
    const sdk = new TraceIdRatioBasedSampler(ratio);
    for (let i = 0; i < 5000; i++) {
      const traceId = randomBytes(16).toString('hex');
      const expected = sdk.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
      assert.equal(ours(traceId), expected, `${traceId} at ${ratio}`);
    }
  }
});

test('new traces are sampled at the rate, and unsampled requests still answer a traceparent', async (t) => {
  const tracing = createTracing({ settings: { enabled: true, sampleRate: 0.5, serviceName: 's' }, version: '1' });
  assert.ok(tracing !== undefined);
  t.after(() => tracing.close());
  const sdk = new TraceIdRatioBasedSampler(0.5);
  let sampled = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const started = tracing.startRequest({ name: 'r', headers: {} });
    const [version, traceId = '', spanId, flags] = started.traceparent.split('-');
    assert.equal(version, '00');
    assert.match(spanId ?? '', /^[0-9a-f]{16}$/);
    const expected = sdk.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
    assert.equal(flags, expected ? '01' : '00');
    assert.equal(started.trace !== undefined, expected);
    started.trace?.end();
    if (expected) sampled++;
  }
  // A binomial(2000, 0.5) lands within ±10% of 1000 with probability 1 − 1e-18.
  assert.ok(sampled > 800 && sampled < 1200, `${sampled} of ${n} sampled`);
  // A caller's unsampled trace is followed whatever the rate; an invalid traceparent starts a new trace.
  const off = tracing.startRequest({ name: 'r', headers: { traceparent: `00-${TRACE}-${SPAN}-00` } });
  assert.equal(off.trace, undefined);
  assert.match(off.traceparent, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
  assert.notEqual(off.traceparent.split('-')[2], SPAN);
  const invalid = tracing.startRequest({ name: 'r', headers: { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` } });
  assert.doesNotMatch(invalid.traceparent, new RegExp(TRACE));
});
