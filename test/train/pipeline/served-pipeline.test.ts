/**
 * Served end to end: a pipeline model (features + logistic regression or GBDT) trained in
 * TypeScript is pushed to the registry, deployed, and answers raw columns over REST (FP32 and
 * BYTES `[N,1]`, JSON and the binary extension for missing numbers) with the probabilities of
 * predictPipeline within 1e-5.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, test, type TestContext } from 'node:test';
import type { FeatureRow } from '../../../src/features/fit.ts';
import type { FittedFeatures } from '../../../src/features/fitted-features.ts';
import { toRawColumns } from '../../../src/features/raw-columns.ts';
import {
  exportPipelineModel,
  predictPipeline,
  type PipelineModel,
} from '../../../src/train/pipeline/export-pipeline.ts';
import { api } from '../../helpers/management-api.ts';
import { type RegistryServer, startRegistryServer } from '../../helpers/test-server.ts';
import { tabularRows } from './tabular-data.ts';
import { trainPipeline, type TrainedPipeline } from './trained-pipeline.ts';

const TOLERANCE = 1e-5;
/** The server's default `maxBatchSize`. */
const ROWS = 64;

let trained: TrainedPipeline;
before(async () => {
  trained = await trainPipeline({ trainRows: 3000 });
});

/** Pushes and deploys the pipeline under a fresh name; returns the server and the name. */
async function serve(t: TestContext, model: PipelineModel): Promise<{ server: RegistryServer; name: string }> {
  const server = await startRegistryServer(t);
  const name = `pipeline-${model.kind}-${randomUUID().slice(0, 8)}`;
  const bytes = exportPipelineModel({ fitted: trained.fitted, model, name });
  const pushed = await api(server, { url: `/api/v1/models/${name}/versions`, body: bytes });
  assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
  const deployed = await api(server, {
    url: '/api/v1/deployments',
    body: { name, routes: [{ version: 1, weight: 100 }] },
  });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.json));
  await server.deployments?.sync();
  return { server, name };
}

/** The Open Inference Protocol inputs for `rows`, every column as JSON data. */
function jsonInputs(fitted: FittedFeatures, rows: readonly FeatureRow[]): object[] {
  return toRawColumns(fitted, rows).map((column) => ({
    name: column.column,
    datatype: column.type === 'STRING' ? 'BYTES' : 'FP32',
    shape: [rows.length, 1],
    data: column.type === 'STRING' ? column.data : Array.from(column.data),
  }));
}

/** A binary-extension request: numbers as raw little-endian float32 (so NaN travels), strings as JSON. */
function binaryRequest(
  fitted: FittedFeatures,
  rows: readonly FeatureRow[],
): { body: Uint8Array; headerLength: number } {
  const blobs: Uint8Array[] = [];
  const inputs = toRawColumns(fitted, rows).map((column) => {
    const tensor = { name: column.column, shape: [rows.length, 1] };
    if (column.type === 'STRING') return { ...tensor, datatype: 'BYTES', data: column.data };
    const bytes = new Uint8Array(column.data.buffer, column.data.byteOffset, column.data.byteLength);
    blobs.push(bytes);
    return { ...tensor, datatype: 'FP32', parameters: { binary_data_size: bytes.byteLength } };
  });
  const header = new TextEncoder().encode(JSON.stringify({ inputs }));
  return { body: Buffer.concat([header, ...blobs]), headerLength: header.byteLength };
}

function assertProbabilities(args: {
  reply: { status: number; json: { outputs?: { name: string; shape: number[]; data: number[] }[] } };
  expected: Float32Array;
  label: string;
}): number {
  const { reply, expected, label } = args;
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  const output = reply.json.outputs?.find((o) => o.name === 'probabilities');
  assert.ok(output, `${label}: no probabilities output`);
  assert.deepEqual(output.shape, [expected.length / 2, 2]);
  let max = 0;
  output.data.forEach((value, i) => (max = Math.max(max, Math.abs(value - (expected[i] as number)))));
  assert.ok(max <= TOLERANCE, `${label}: max |served − ts| ${max} > ${TOLERANCE}`);
  return max;
}

for (const kind of ['linear', 'gbdt'] as const) {
  test(`${kind} pipeline served from the registry answers raw columns like predictPipeline`, async (t) => {
    const { fitted } = trained;
    const model = trained[kind];
    const { server, name } = await serve(t, model);

    const metadata = await api(server, { url: `/v2/models/${name}` });
    assert.equal(metadata.status, 200, JSON.stringify(metadata.json));
    const inputs = (metadata.json.inputs as { name: string; datatype: string; shape: number[] }[]).map(
      ({ name: input, datatype, shape }) => ({ name: input, datatype, shape }),
    );
    assert.deepEqual(
      inputs.sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'age', datatype: 'FP32', shape: [-1, 1] },
        { name: 'city', datatype: 'BYTES', shape: [-1, 1] },
        { name: 'income', datatype: 'FP32', shape: [-1, 1] },
        { name: 'review', datatype: 'BYTES', shape: [-1, 1] },
      ],
    );

    // JSON cannot carry NaN, so these rows have every number; strings may be empty or unseen
    const complete = tabularRows({ count: ROWS, seed: 21, unseen: true, complete: true }).rows;
    const jsonReply = await api(server, {
      url: `/v2/models/${name}/infer`,
      body: { inputs: jsonInputs(fitted, complete) },
    });
    const jsonDiff = assertProbabilities({
      reply: jsonReply,
      expected: predictPipeline({ fitted, model, rows: complete }).outputs,
      label: 'JSON',
    });

    const single = complete.slice(0, 1);
    assertProbabilities({
      reply: await api(server, { url: `/v2/models/${name}/infer`, body: { inputs: jsonInputs(fitted, single) } }),
      expected: predictPipeline({ fitted, model, rows: single }).outputs,
      label: 'batch 1',
    });

    const withMissing = tabularRows({ count: ROWS, seed: 22, unseen: true }).rows;
    const { body, headerLength } = binaryRequest(fitted, withMissing);
    const binaryReply = await api(server, {
      url: `/v2/models/${name}/infer`,
      body,
      headers: { 'inference-header-content-length': String(headerLength) },
    });
    const binaryDiff = assertProbabilities({
      reply: binaryReply,
      expected: predictPipeline({ fitted, model, rows: withMissing }).outputs,
      label: 'binary',
    });
    t.diagnostic(`${kind}: ${ROWS} rows over REST, max |served − ts| JSON ${jsonDiff}, binary with NaN ${binaryDiff}`);
  });
}
