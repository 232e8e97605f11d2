/**
 * A `train` job's thread opens the artifact store with the master keys it is handed in memory: the
 * model it registers is stored encrypted, readable with the key and refused without it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { runInThread } from '../../src/jobs/thread-job.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { rejectsWith } from '../artifacts/artifact-store-conformance.ts';
import { writeTrainingData } from './train-fixture.ts';

test('a train job thread stores its model encrypted with the master key it was handed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-train-encrypted-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${join(dir, 'stratum.db')}`;
  const artifactsUrl = `file:${join(dir, 'artifacts')}`;
  const artifactEncryption = { masterKey: randomBytes(32).toString('base64') };
  const spec = await writeTrainingData(dir, { name: 'sealed', numTrees: 5 });
  const controller = new AbortController();
  const job = { signal: controller.signal, progress: async () => {} };
  const result = (await runInThread({
    input: {
      kind: 'train',
      jobId: 'job-sealed',
      attempt: 1,
      payload: { spec, baseDir: dir },
      by: 'tester',
      logLevel: 'silent',
      stores: { databaseUrl, artifactsUrl, registryPollMs: 1000, bodyLimitBytes: 1 << 26, artifactEncryption },
    },
    job,
  })) as { version: { model: string; version: number } };
  assert.deepEqual(result.version, { model: 'sealed', version: 1 });

  const store = await openMetadataStore({ url: databaseUrl });
  t.after(() => store.close());
  const version = await store.getVersion('sealed', 1);
  const artifacts = await openArtifactStore({ url: artifactsUrl, encryption: artifactEncryption });
  t.after(() => artifacts.close());
  const model = await artifacts.read(version.artifactDigest);
  assert.equal(model.byteLength, version.artifactSize);
  assert.ok((await readdir(join(dir, 'artifacts'))).includes('encryption.json'));
  await rejectsWith(openArtifactStore({ url: artifactsUrl }), 'MASTER_KEY_INVALID');
});
