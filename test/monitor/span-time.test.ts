// The span clock gives exactly what @opentelemetry/core's hrTime(now) gives, for the process's
// own time origin and for origins and readings that carry across a second.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addHrTimes, hrTime, millisToHrTime } from '@opentelemetry/core';
import { createSpanClock } from '../../src/monitor/span-time.ts';

test('the span clock agrees with core.hrTime for this process', () => {
  const clock = createSpanClock();
  for (let i = 0; i < 1000; i++) {
    const now = performance.now() + Math.random() * 1e7;
    assert.deepEqual(clock(now), hrTime(now), `at ${now}`);
  }
});

test('the span clock agrees with core’s arithmetic for any origin, carries included', () => {
  const origins = [1_764_000_000_000.5, 1_764_000_000_999.875, 1_700_000_000_123.25];
  const readings = [0, 0.000_1, 999.999_9, 1000, 1000.5, 86_400_000.123_456, 123_456.999_999_5];
  for (const origin of origins) {
    const clock = createSpanClock(origin);
    for (const now of readings) {
      const expected = addHrTimes(millisToHrTime(origin), millisToHrTime(now));
      assert.deepEqual(clock(now), expected, `origin ${origin}, now ${now}`);
      const [, nanos] = clock(now);
      assert.ok(nanos >= 0 && nanos < 1e9, `nanoseconds in range at ${origin} + ${now}`);
    }
  }
});
