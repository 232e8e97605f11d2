/**
 * The client usage recorder on the hot path: a name is written once per replica, on first sight;
 * a request without an `outputs` list counts every output it received; a failed write is retried
 * by the next request that carries the name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClientUsageRecorder, type NewClientUsage } from '../../src/deploy/client-usage-recorder.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { InferRequest, InferResponse } from '../../src/serving/types.ts';

function request(inputs: string[], outputs?: string[]): InferRequest {
  return {
    inputs: inputs.map((name) => ({ name, datatype: 'FP32', shape: [1, 1], data: new Float32Array(1) })),
    ...(outputs !== undefined && { outputs: outputs.map((name) => ({ name, binary: false })) }),
    binaryOutputs: false,
  };
}

const RESPONSE: InferResponse = {
  modelName: 'clf',
  modelVersion: '1',
  outputs: ['label', 'probabilities'].map((name) => ({
    name,
    datatype: 'FP32',
    shape: [1, 1],
    data: new Float32Array(1),
    binary: false,
  })),
};

test('each name is written once, on first sight; a request naming no outputs reads them all', async () => {
  const writes: NewClientUsage[] = [];
  const usage = createClientUsageRecorder({
    name: 'clf',
    logger: createLogger({ level: 'silent' }),
    record: (u) => {
      writes.push(u);
      return Promise.resolve();
    },
  });
  usage.observe(request(['x'], ['probabilities']), RESPONSE);
  usage.observe(request(['x'], ['probabilities']), RESPONSE);
  usage.observe(request(['x', 'y'], ['probabilities']), RESPONSE);
  usage.observe(request(['x']), RESPONSE);
  usage.observe(request(['x', 'y']), RESPONSE);
  assert.deepEqual(writes, [
    { inputs: ['x'], outputs: ['probabilities'] },
    { inputs: ['y'], outputs: [] },
    { inputs: [], outputs: ['label'] },
  ]);
});

test('a failed write is retried by the next request carrying the name', async () => {
  const attempts: NewClientUsage[] = [];
  let fail = true;
  let settled: () => void = () => undefined;
  const usage = createClientUsageRecorder({
    name: 'clf',
    logger: createLogger({ level: 'silent' }),
    record: (u) => {
      attempts.push(u);
      if (!fail) return Promise.resolve();
      return new Promise((_, reject) => {
        settled = () => reject(new Error('store unavailable'));
      });
    },
  });
  usage.observe(request(['x'], ['label']), RESPONSE);
  usage.observe(request(['x'], ['label']), RESPONSE);
  assert.equal(attempts.length, 1, 'no second write while the first is pending');
  settled();
  fail = false;
  // The rejection is handled on a later turn; the names are forgotten then.
  await new Promise((resolve) => setImmediate(resolve));
  usage.observe(request(['x'], ['label']), RESPONSE);
  assert.deepEqual(attempts, [
    { inputs: ['x'], outputs: ['label'] },
    { inputs: ['x'], outputs: ['label'] },
  ]);
});
