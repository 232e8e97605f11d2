/**
 * End to end: a server whose artifact store is encrypted registers a pushed ONNX model, serves it
 * from the encrypted body, and keeps no plaintext of it on disk; a server started on the same
 * store with another master key refuses to start, naming the problem.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { startServer } from '../../src/server/stratum-server.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { rejectsWith } from './artifact-store-conformance.ts';

const MLP = Buffer.from(FIXTURES.mlp.build());

const mlpRequest = {
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 784], data: Array.from({ length: 784 }, (_, i) => (i % 7) / 7) },
  ],
};

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

test('a server with encrypted artifacts serves a registered model; another key is refused at start', async (t) => {
  const masterKey = randomBytes(32).toString('base64');
  const server = await startRegistryServer(t, { overrides: { artifactEncryption: { masterKey } } });
  const pushed = await api(server, { url: '/api/v1/models/mlp/versions', body: MLP });
  assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
  const created = await api(server, {
    url: '/api/v1/deployments',
    body: { name: 'digits', model: 'mlp', routes: [{ version: 1, weight: 100 }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await server.deployments?.sync();
  const res = await api(server, { url: '/v2/models/digits/infer', body: mlpRequest });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(res.json.outputs[0].shape.join(','), '1,10');

  // The model's bytes are nowhere in the artifact folder.
  const artifactsDir = server.artifactsUrl.slice('file:'.length);
  const windows: Buffer[] = [];
  for (let at = 0; at + 32 <= MLP.length; at += 1024) windows.push(MLP.subarray(at, at + 32));
  for (const path of await filesUnder(artifactsDir)) {
    const bytes = await readFile(path);
    assert.equal(windows.filter((w) => bytes.includes(w)).length, 0, `${path} holds plaintext model bytes`);
  }

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
      artifactEncryption: { masterKey: randomBytes(32).toString('hex') },
    },
  });
  const err = await rejectsWith(
    startServer({ config, logger: createLogger({ level: 'silent' }), withoutGrpc: true }),
    'MASTER_KEY_INVALID',
  );
  assert.match(err.message, /wrong master key/);
});
