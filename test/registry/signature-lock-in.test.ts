/**
 * Signature lock-in (issue 9, item 1), through the management API and the inference protocol
 * in-process (real onnxruntime, real stores): a move is checked against what a deployment's
 * clients use (recorded as they send requests, persisted in the store) — before any traffic, against
 * the serving version; a version that served the deployment before may always be rolled back to;
 * `force` with a `reason` overrides, recorded in the alias history and the deployment's events;
 * and a version registered behind an alias that is refused leaves no version and no gap.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { attr } from '../../src/onnx/attribute.ts';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { startServer } from '../../src/server/stratum-server.ts';
import { connectGrpc } from '../helpers/grpc-client.ts';
import { api, type ApiReply } from '../helpers/management-api.ts';
import { type RegistryServer, startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A two-class classifier over `x` FLOAT [batch, 2], its outputs and inputs varied to make misfits. */
function classifier(
  options: {
    outputs?: readonly ('label' | 'probabilities')[];
    /** A second input `y`, added to `x`. */
    extraInput?: boolean;
    /** `x` as DOUBLE (cast to FLOAT inside). */
    doubleInput?: boolean;
    /** Changes the weights, so two models with the same signature differ. */
    scale?: number;
  } = {},
): Uint8Array {
  const outputs = options.outputs ?? ['label', 'probabilities'];
  const g = new GraphBuilder({ name: 'classifier', metadata: { 'stratum.classes': '["ham","spam"]' } });
  let x = g.addInput({ name: 'x', type: options.doubleInput ? 'DOUBLE' : 'FLOAT', shape: ['batch', 2] });
  if (options.doubleInput)
    x = g.addNode({ op: 'Cast', inputs: [x], outputs: ['x_float'], attributes: { to: attr.int(1) } });
  if (options.extraInput) {
    const y = g.addInput({ name: 'y', type: 'FLOAT', shape: ['batch', 2] });
    x = g.addNode({ op: 'Add', inputs: [x, y], outputs: ['xy'] });
  }
  const s = options.scale ?? 1;
  const w = g.addInitializer({ name: 'w', dims: [2, 2], data: new Float32Array([s, -s, -s, s]) });
  const logits = g.addNode({ op: 'MatMul', inputs: [x, w], outputs: ['logits'] });
  g.addNode({ op: 'Softmax', inputs: [logits], outputs: ['probabilities'], attributes: { axis: attr.int(1) } });
  g.addNode({
    op: 'ArgMax',
    inputs: ['probabilities'],
    outputs: ['label'],
    attributes: { axis: attr.int(1), keepdims: attr.int(0) },
  });
  if (outputs.includes('label')) g.addOutput({ name: 'label', type: 'INT64', shape: ['batch'] });
  if (outputs.includes('probabilities')) g.addOutput({ name: 'probabilities', type: 'FLOAT', shape: ['batch', 2] });
  return g.toBytes();
}

const FULL = classifier();
const PROBABILITIES_ONLY = classifier({ outputs: ['probabilities'] });

async function push(server: RegistryServer, bytes: Uint8Array, query = ''): Promise<ApiReply> {
  return api(server, { url: `/api/v1/models/clf/versions${query}`, body: bytes });
}

async function pushed(server: RegistryServer, bytes: Uint8Array): Promise<number> {
  const res = await push(server, bytes);
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.version as number;
}

function moveAlias(server: RegistryServer, body: Record<string, unknown>): Promise<ApiReply> {
  return api(server, { method: 'PUT', url: '/api/v1/models/clf/aliases/production', body });
}

/** Model `clf` with `versions`, alias production on the first, deployment `clf` routed through it. */
async function deployed(t: TestContext, versions: Uint8Array[], server?: RegistryServer): Promise<RegistryServer> {
  const s = server ?? (await startRegistryServer(t));
  for (const bytes of versions) await pushed(s, bytes);
  assert.equal((await moveAlias(s, { version: 1 })).status, 200);
  const created = await api(s, {
    url: '/api/v1/deployments',
    body: { name: 'clf', routes: [{ alias: 'production', weight: 100 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await s.deployments?.sync();
  return s;
}

/** A request to the deployment; `outputs` lists the outputs it reads (undefined: it names none). */
async function ask(server: RegistryServer, outputs?: readonly string[]): Promise<ApiReply> {
  const res = await api(server, {
    url: '/v2/models/clf/infer',
    body: {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [0.2, 0.9] }],
      ...(outputs !== undefined && { outputs: outputs.map((name) => ({ name })) }),
    },
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res;
}

/** Waits until the store holds what the deployment's clients used (recorded in the background). */
async function usageRecorded(server: RegistryServer, expected: { inputs: string[]; outputs: string[] }): Promise<void> {
  await waitFor(`client usage ${JSON.stringify(expected)}`, async () => {
    const status = await api(server, { url: '/api/v1/deployments/clf/status' });
    return JSON.stringify(status.json.clientUsage) === JSON.stringify(expected);
  });
}

async function servedVersion(server: RegistryServer, version: string): Promise<void> {
  await server.deployments?.sync();
  await waitFor(
    `the deployment to serve version ${version}`,
    async () => (await ask(server)).json.model_version === version,
  );
}

/** A deployment event; `detail` is JSON the test reads by path. */
type Event = { kind: string; message: string; detail: ApiReply['json'] };

async function events(server: RegistryServer): Promise<Event[]> {
  return (await api(server, { url: '/api/v1/deployments/clf/events' })).json.items;
}

describe('before any traffic', () => {
  test('a move is checked against every input and output of the serving version, and the 409 says how to force it', async (t) => {
    const server = await deployed(t, [FULL, PROBABILITIES_ONLY]);
    const res = await moveAlias(server, { version: 2 });
    assert.equal(res.status, 409);
    assert.equal(res.json.code, 'SIGNATURE_MISMATCH');
    assert.match(res.json.error, /moving alias "production" to version 2 \(used by deployment "clf"\)/);
    assert.match(res.json.error, /output "label" is missing/);
    assert.match(
      res.json.error,
      /No traffic is recorded for deployment "clf" yet, so every input and output of version 1 counts/,
    );
    assert.match(res.json.error, /pass --force with --reason "…" \(API: "force": true, "reason": "…"\)/);
    assert.equal((await api(server, { url: '/api/v1/models/clf/aliases/production' })).json.version, 1);
  });

  test('the model metadata reply carries the class names as a parameter (REST and gRPC)', async (t) => {
    const server = await deployed(t, [FULL], await startRegistryServer(t, { withoutGrpc: false }));
    const metadata = await api(server, { url: '/v2/models/clf' });
    assert.equal(metadata.status, 200);
    assert.deepEqual(metadata.json.parameters, { classes: '["ham","spam"]' });
    assert.deepEqual(JSON.parse(metadata.json.parameters.classes), ['ham', 'spam']);
    const version = await api(server, { url: '/api/v1/models/clf/versions/1' });
    assert.equal(version.json.metadata['stratum.classes'], '["ham","spam"]', "in the version's metadata too");
    const grpc = connectGrpc(t, server.grpcPort);
    const reply = await grpc<{ parameters: Record<string, { string_param?: string }>; outputs: { name: string }[] }>(
      'ModelMetadata',
      { name: 'clf' },
    );
    assert.deepEqual(reply.parameters['classes']?.string_param, '["ham","spam"]');
    assert.deepEqual(
      reply.outputs.map((o) => o.name),
      ['label', 'probabilities'],
    );
  });
});

describe('by what clients use', () => {
  test('clients that name their outputs block only moves that drop those, or change the inputs they send', async (t) => {
    const server = await deployed(t, [
      FULL,
      PROBABILITIES_ONLY,
      classifier({ extraInput: true }),
      classifier({ doubleInput: true }),
    ]);
    await ask(server, ['probabilities']);
    await usageRecorded(server, { inputs: ['x'], outputs: ['probabilities'] });

    const newInput = await moveAlias(server, { version: 3 });
    assert.equal(newInput.status, 409);
    assert.match(newInput.json.error, /input "y" is new: clients do not send it/);
    assert.match(
      newInput.json.error,
      /Checked against what clients of deployment "clf" use \(inputs x; outputs probabilities;/,
    );
    const otherType = await moveAlias(server, { version: 4 });
    assert.equal(otherType.status, 409);
    assert.match(otherType.json.error, /input "x": datatype FP32 → FP64/);

    // Nobody reads "label": dropping it blocks nothing.
    const moved = await moveAlias(server, { version: 2, reason: 'lighter model' });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    await servedVersion(server, '2');
    const switched = (await events(server)).find((e) => e.kind === 'alias-moved');
    assert.match(switched?.message ?? '', /alias "production" moved from version 1 to version 2 \(lighter model\)/);
  });

  test('a request without an "outputs" list counts as reading every output it received', async (t) => {
    const server = await deployed(t, [FULL, PROBABILITIES_ONLY]);
    await ask(server);
    await usageRecorded(server, { inputs: ['x'], outputs: ['label', 'probabilities'] });
    const res = await moveAlias(server, { version: 2 });
    assert.equal(res.status, 409);
    assert.match(res.json.error, /output "label" is missing \(clients use it/);
    assert.match(res.json.error, /a request without an "outputs" list counts as reading every output it received/);
  });

  test('what clients use is in the store: another server on it decides the same way', async (t) => {
    const server = await deployed(t, [FULL, PROBABILITIES_ONLY]);
    await ask(server, ['probabilities']);
    await usageRecorded(server, { inputs: ['x'], outputs: ['probabilities'] });
    const config = loadConfig({
      env: {},
      overrides: {
        httpPort: 0,
        grpcPort: 0,
        logLevel: 'silent',
        runtime: { workers: 1 },
        registry: true,
        databaseUrl: server.databaseUrl,
        artifactsUrl: server.artifactsUrl,
      },
    });
    const replica = await startServer({ config, logger: createLogger({ level: 'silent' }), withoutGrpc: true });
    t.after(() => replica.close());
    const moved = await api(replica, {
      method: 'PUT',
      url: '/api/v1/models/clf/aliases/production',
      body: { version: 2 },
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
  });
});

describe('rollback', () => {
  test('a version that served the deployment before may always be rolled back to; one that never did may not', async (t) => {
    const server = await deployed(t, [PROBABILITIES_ONLY, FULL, classifier({ outputs: ['probabilities'], scale: 2 })]);
    await ask(server, ['probabilities']);
    await usageRecorded(server, { inputs: ['x'], outputs: ['probabilities'] });
    assert.equal((await moveAlias(server, { version: 2 })).status, 200, 'an extra output blocks nothing');
    await servedVersion(server, '2');
    await ask(server, ['label']);
    await usageRecorded(server, { inputs: ['x'], outputs: ['label', 'probabilities'] });

    // Version 3 lacks "label", which clients now read, and never served: refused.
    const never = await api(server, {
      url: '/api/v1/deployments/clf/rollouts',
      body: { strategy: 'blue-green', version: 3 },
    });
    assert.equal(never.status, 409);
    assert.match(never.json.error, /output "label" is missing/);

    // Version 1 lacks it too, but it served this deployment: the way back is always open.
    const back = await api(server, {
      url: '/api/v1/deployments/clf/rollouts',
      body: { strategy: 'blue-green', version: 1 },
    });
    assert.equal(back.status, 202, JSON.stringify(back.json));
    await servedVersion(server, '1');
    const rollback = (await events(server)).find((e) => e.kind === 'blue-green');
    assert.match(
      rollback?.message ?? '',
      /rollback to version 1, which served the deployment before \(output "label" is missing/,
    );
    assert.deepEqual(
      rollback?.detail.signatureCheck.rollbacks.map((r: { version: number }) => r.version),
      [1],
    );
    // And by the alias, forward and back again.
    assert.equal((await moveAlias(server, { version: 2 })).status, 200);
    assert.equal((await moveAlias(server, { version: 1, reason: 'back' })).status, 200);
  });
});

describe('override', () => {
  test('force needs a reason (400 everywhere), then moves and is recorded in the alias history and the events', async (t) => {
    const server = await deployed(t, [FULL, PROBABILITIES_ONLY, classifier({ outputs: ['probabilities'], scale: 3 })]);
    for (const [what, request] of [
      ['alias set', { method: 'PUT', url: '/api/v1/models/clf/aliases/production', body: { version: 2, force: true } }],
      [
        'rollout',
        {
          url: '/api/v1/deployments/clf/rollouts',
          body: { strategy: 'blue-green', version: 2, force: true, reason: ' ' },
        },
      ],
      [
        'update',
        { method: 'PUT', url: '/api/v1/deployments/clf', body: { routes: [{ version: 2, weight: 100 }], force: true } },
      ],
      ['push', { url: '/api/v1/models/clf/versions?alias=production&force=true', body: PROBABILITIES_ONLY }],
    ] as const) {
      const res = await api(server, request);
      assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.json)}`);
      assert.match(res.json.error, /reason/, what);
    }
    assert.equal(
      (await api(server, { url: '/api/v1/models/clf/versions' })).json.items.length,
      3,
      'the refused push left nothing',
    );

    const forced = await moveAlias(server, { version: 2, force: true, reason: 'clients migrated to probabilities' });
    assert.equal(forced.status, 200, JSON.stringify(forced.json));
    const [latest] = (await api(server, { url: '/api/v1/models/clf/aliases/production/history' })).json.items;
    assert.deepEqual(
      [latest.from, latest.to, latest.forced, latest.reason],
      [1, 2, true, 'clients migrated to probabilities'],
    );
    const moved = (await events(server)).find((e) => e.kind === 'alias-moved');
    assert.match(moved?.message ?? '', /forced past the signature check: clients migrated to probabilities/);
    assert.equal(moved?.detail.signatureCheck.forced, true);

    // A deployment update with fixed routes, forced to a version that never served it.
    await servedVersion(server, '2');
    const extra = await pushed(server, classifier({ extraInput: true }));
    const route = { routes: [{ version: extra, weight: 100 }] };
    const refused = await api(server, { method: 'PUT', url: '/api/v1/deployments/clf', body: route });
    assert.equal(refused.status, 409);
    assert.match(
      refused.json.error,
      /updating deployment "clf": the signature does not fit — version 4 vs version 2: input "y" is new/,
    );
    const update = await api(server, {
      method: 'PUT',
      url: '/api/v1/deployments/clf',
      body: { ...route, force: true, reason: 'clients send y from now on' },
    });
    assert.equal(update.status, 200, JSON.stringify(update.json));
    assert.equal(update.json.spec.force, undefined, 'force and reason are not part of the spec');
    const updated = (await events(server)).find((e) => e.kind === 'updated');
    assert.match(
      updated?.message ?? '',
      /routes now version 4 100% — forced past the signature check: clients send y from now on/,
    );
    assert.deepEqual(updated?.detail.signatureCheck.reason, 'clients send y from now on');
  });
});

describe('registration behind an alias', () => {
  for (const engine of ['sqlite', 'postgres'] as const) {
    test(`${engine}: a refused registration leaves no version and uses no number`, async (t) => {
      const server = await deployed(t, [FULL], await startRegistryServer(t, { engine }));
      const refused = await push(server, PROBABILITIES_ONLY, '?alias=production');
      assert.equal(refused.status, 409, JSON.stringify(refused.json));
      assert.match(refused.json.error, /moving alias "production" to a new version/);
      const next = await push(server, classifier({ scale: 2 }), '?alias=production&reason=retrained');
      assert.equal(next.status, 201, JSON.stringify(next.json));
      assert.equal(next.json.version, 2, 'versions stay contiguous');
      assert.equal((await api(server, { url: '/api/v1/models/clf/aliases/production' })).json.version, 2);
      const forced = await push(server, PROBABILITIES_ONLY, '?alias=production&force=true&reason=new%20head');
      assert.equal(forced.status, 201, JSON.stringify(forced.json));
      assert.equal(forced.json.version, 3);
      const [latest] = (await api(server, { url: '/api/v1/models/clf/aliases/production/history' })).json.items;
      assert.deepEqual([latest.to, latest.forced, latest.reason], [3, true, 'new head']);
    });
  }
});
