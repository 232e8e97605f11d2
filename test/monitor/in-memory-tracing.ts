/** A tracing whose spans land in an in-memory exporter, closed when the test ends. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTracing, type Tracing } from '../../src/monitor/tracing.ts';

export function inMemoryTracing(
  t: TestContext,
  sampleRate: number,
  version = '1',
): { tracing: Tracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ settings: { enabled: true, sampleRate, serviceName: 'stratum' }, version, exporter });
  assert.ok(tracing !== undefined);
  t.after(() => tracing.close());
  return { tracing, exporter };
}
