/**
 * The registry commands of the CLI (`models`, `alias`, `deploy`, `artifacts`), run as real child
 * processes against a real in-process server (SQLite and artifacts in a temp folder). The subtests
 * share one server and build on each other, in order, like an operator's session would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DeploymentStatusReply, DeploymentWithEtag, GcReply } from '../../src/client/api-client.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import type { AliasEvent, AliasRecord, DeploymentEvent, VersionRecord } from '../../src/store/metadata-store.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const BIN = fileURLToPath(new URL('../../bin/stratum.js', import.meta.url));

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `stratum …args`: what it has written to stderr so far, and its result once it exits. */
function startCli(args: readonly string[]): { stderr: () => string; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { stderr: () => stderr, result };
}

/** Runs `stratum …args` to completion. */
function runCli(args: readonly string[]): Promise<CliResult> {
  return startCli(args).result;
}

/** Parses a `--json` reply, failing with the whole output when it is not JSON. */
function json<T>(result: CliResult): T {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    assert.fail(`not JSON on stdout: ${result.stdout}`);
  }
}

function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result;
}

const IMAGE = Array.from({ length: 784 }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);

/** One REST inference on a deployment (of `IMAGE` unless told otherwise). */
async function infer(options: {
  url: string;
  name: string;
  data?: readonly number[];
}): Promise<{ status: number; version: string }> {
  const data = options.data ?? IMAGE;
  const response = await fetch(`${options.url}/v2/models/${options.name}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data }] }),
  });
  const body = (await response.json()) as { model_version?: string };
  return { status: response.status, version: body.model_version ?? '' };
}

/** Keeps `concurrency` inference loops on a deployment until stopped (canaries judge live traffic). */
function keepInferring(options: { url: string; name: string; concurrency: number }): {
  stop: () => Promise<{ sent: number; failed: number }>;
} {
  let running = true;
  let sent = 0;
  let failed = 0;
  const loop = async (): Promise<void> => {
    while (running) {
      // Varied inputs: two differently seeded MLPs agree on the class of one input or another,
      // but across random inputs they almost never do.
      const data = Array.from({ length: 784 }, () => Math.random() * 2 - 1);
      const result = await infer({ ...options, data }).catch(() => ({ status: 0, version: '' }));
      sent++;
      if (result.status !== 200) failed++;
    }
  };
  const loops = Array.from({ length: options.concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { sent, failed };
    },
  };
}

test('stratum models / alias / deploy / artifacts over the management API', async (t) => {
  const started = Date.now();
  const server = await startRegistryServer(t);
  const url = server.httpUrl;
  const dir = await mkdtemp(join(tmpdir(), 'stratum-cli-registry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const mlpFile = join(dir, 'mlp.onnx');
  const seed7File = join(dir, 'mlp-seed7.onnx');
  const notOnnx = join(dir, 'notes.onnx');
  await writeFile(mlpFile, FIXTURES.mlp.build());
  await writeFile(seed7File, buildMlp({ seed: 7 }));
  await writeFile(notOnnx, 'this is not a model\n');
  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--url', url]);

  await t.test('models push registers versions (human and --json output)', async () => {
    const human = ok(
      await cli(
        'models',
        'push',
        mlpFile,
        '--name',
        'mlp',
        '--tag',
        'mnist',
        '--metric',
        'auc=0.93',
        '--alias',
        'production',
      ),
    );
    assert.match(human.stdout, /^registered mlp version 1 \(sha256 [0-9a-f]{12}…, 2\.6 MiB\)$/m);
    assert.match(human.stdout, /^input +input +FP32 +\[-1,784\]$/m);
    assert.match(human.stdout, /^output +logits +FP32 +\[-1,10\]$/m);
    assert.match(human.stdout, /^alias production → version 1 \(etag "1"\)$/m);
    assert.match(human.stderr, /uploading mlp\.onnx \(2\.6 MiB\)/, 'progress on stderr');

    // The same bytes again: a new version over the same artifact (a canary that must agree).
    const same = json<VersionRecord>(await cli('models', 'push', mlpFile, '--name', 'mlp', '--json'));
    assert.equal(same.version, 2);
    assert.equal(same.createdBy, 'cli');
    const retrained = json<VersionRecord>(
      await cli(
        'models',
        'push',
        seed7File,
        '--name',
        'mlp',
        '--description',
        'seed 7',
        '--actor',
        'trainer',
        '--json',
      ),
    );
    assert.equal(retrained.version, 3);
    assert.equal(retrained.createdBy, 'trainer');
    assert.equal(retrained.description, 'seed 7');
    assert.notEqual(retrained.artifactDigest, same.artifactDigest);
    assert.deepEqual(retrained.signature.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }]);
  });

  await t.test('models push of a file that is not ONNX fails with the parser reason', async () => {
    const result = await cli('models', 'push', notOnnx, '--name', 'mlp');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^stratum: not a valid ONNX model/m);
    assert.equal(result.stdout, '');
  });

  await t.test('models list and show', async () => {
    const page = json<{ items: { name: string; tags: string[] }[] }>(
      await cli('models', 'list', '--name', 'ml', '--json'),
    );
    assert.deepEqual(
      page.items.map((m) => m.name),
      ['mlp'],
    );
    const shown = ok(await cli('models', 'show', 'mlp')).stdout;
    assert.deepEqual(
      [...shown.matchAll(/^version (\d+) {2}ready {2}\d{4}-/gm)].map((m) => Number(m[1])),
      [3, 2, 1],
      'versions newest first',
    );
    assert.match(shown, /^version 3 .* by trainer {2}sha256 [0-9a-f]{12}… {2}2\.6 MiB\n {2}description {2}seed 7\n/m);
    assert.match(shown, /^version 1 .*\n {2}tags {5}mnist\n {2}metrics {2}auc=0\.93\n/m);
    assert.match(shown, /^production +1 +"1" /m);
  });

  await t.test('alias set, a stale --if-match, and history', async () => {
    const first = json<AliasRecord & { etag: string }>(await cli('alias', 'set', 'mlp', 'staging', '1', '--json'));
    assert.equal(first.etag, '"1"');
    const moved = ok(
      await cli('alias', 'set', 'mlp', 'staging', '3', '--if-match', first.etag, '--reason', 'try seed 7'),
    );
    assert.match(moved.stdout, /alias staging of mlp → version 3 \(etag "2"\)/);
    const stale = await cli('alias', 'set', 'mlp', 'staging', '2', '--if-match', first.etag);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /--if-match ETag "1" is stale: .*revision 2, not 1/);
    const history = json<{ items: AliasEvent[] }>(await cli('alias', 'history', 'mlp', 'staging', '--json'));
    assert.deepEqual(
      history.items.map((e) => [e.from, e.to, e.by, e.reason]),
      [
        [1, 3, 'cli', 'try seed 7'],
        [null, 1, 'cli', ''],
      ],
    );
  });

  await t.test('deploy create by version and by alias; each answers inferences', async () => {
    const byVersion = json<DeploymentWithEtag>(
      await cli(
        'deploy',
        'create',
        'mlp-pinned',
        '--model',
        'mlp',
        '--version',
        '1',
        '--max-batch-size',
        '8',
        '--wait',
        '--json',
      ),
    );
    assert.deepEqual(byVersion.spec.routes, [{ version: 1, weight: 100 }]);
    assert.equal(byVersion.spec.serving.maxBatchSize, 8);
    assert.deepEqual(await infer({ url, name: 'mlp-pinned' }), { status: 200, version: '1' });

    const byAlias = ok(await cli('deploy', 'create', 'mlp', '--alias', 'production', '--wait'));
    assert.match(byAlias.stdout, /created deployment mlp of model mlp: alias production 100% \(etag "1"\)/);
    assert.deepEqual(await infer({ url, name: 'mlp' }), { status: 200, version: '1' });
  });

  await t.test('deploy rollout blue-green --wait switches the version', async () => {
    const result = ok(
      await cli('deploy', 'rollout', 'mlp-pinned', '--strategy', 'blue-green', '--version', '3', '--wait'),
    );
    assert.match(result.stdout, /mlp-pinned now serves version 3 100%/);
    assert.deepEqual(await infer({ url, name: 'mlp-pinned' }), { status: 200, version: '3' });
  });

  // Five requests a version per check: the gates judge on evidence (a rank test and a minimum
  // shift for latency, on two checks in a row), so a cold request cannot roll back a canary
  // identical to its stable version. These tests are about the outputs: compare settings stay
  // the defaults.
  const canaryFlags = ['--steps', '50,100', '--step-seconds', '0', '--min-requests', '5', '--wait'];

  await t.test('deploy rollout canary --wait: a canary that agrees is promoted (exit 0)', async () => {
    const rollout = startCli([
      'deploy',
      'rollout',
      'mlp',
      '--strategy',
      'canary',
      '--version',
      '2',
      ...canaryFlags,
      '--url',
      url,
    ]);
    // Without traffic a step cannot pass (--min-requests), so the first step, with this
    // replica's live window, is shown before any request is sent: with traffic already flowing,
    // a busy machine could finish the step between two of the CLI's polls.
    await waitFor('the CLI to show the first step live', () =>
      /step 1\/2 \(50% of traffic\), running · canary \d+ req/.test(rollout.stderr()),
    );
    const traffic = keepInferring({ url, name: 'mlp', concurrency: 4 });
    let result: CliResult;
    try {
      result = await rollout.result;
    } finally {
      const { failed } = await traffic.stop();
      assert.equal(failed, 0, 'no request failed during the canary');
    }
    ok(result);
    assert.match(result.stdout, /canary version 2 promoted/);
    assert.match(result.stderr, /canary v2 vs v1, step 1\/2 \(50% of traffic\), running/, 'progress on stderr');
    assert.match(result.stderr, /canary \d+ req, \d+ err, p99 /, 'the live window is shown');
    // stderr is a pipe here: one line per change of stage (not per poll), no carriage returns,
    // and the verdict last.
    assert.ok(!result.stderr.includes('\r'), 'no carriage returns off a terminal');
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('canary v2 vs v1'));
    const measured = lines.filter((l) => l.includes(' · canary ')).map((l) => l.split(' · ')[0]);
    assert.deepEqual(measured, [...new Set(measured)], `one line per stage:\n${lines.join('\n')}`);
    assert.match(lines.at(-1) ?? '', /, promoted$/);
    assert.deepEqual(await infer({ url, name: 'mlp' }), { status: 200, version: '2' });
  });

  await t.test('deploy rollout canary --wait: a canary that disagrees is rolled back (exit 3)', async () => {
    const traffic = keepInferring({ url, name: 'mlp', concurrency: 4 });
    let result: CliResult;
    try {
      result = await cli('deploy', 'rollout', 'mlp', '--strategy', 'canary', '--version', '3', ...canaryFlags);
    } finally {
      await traffic.stop();
    }
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stdout, /canary version 3 rolled back; all traffic on version 2/);
    assert.match(result.stderr, /stratum: canary version 3 rolled back: outputs disagree with the stable version/);
    assert.deepEqual(await infer({ url, name: 'mlp' }), { status: 200, version: '2' });
  });

  await t.test('deploy events, status and show --json', async () => {
    const events = json<{ items: DeploymentEvent[] }>(await cli('deploy', 'events', 'mlp', '--json'));
    assert.deepEqual(
      events.items.map((e) => e.kind),
      // The first breach is recorded as a check; the second, in a row, rolls back.
      [
        'canary-rolled-back',
        'canary-check',
        'canary-started',
        'canary-promoted',
        'canary-step',
        'canary-started',
        'created',
      ],
    );
    const status = json<DeploymentStatusReply>(await cli('deploy', 'status', 'mlp', '--json'));
    assert.equal(status.converged, true);
    assert.deepEqual(status.desiredRoutes, [{ version: 2, weight: 100 }]);
    assert.equal(status.canary?.status, 'rolled_back');
    assert.deepEqual(status.replica?.loadedVersions, [2]);
  });

  await t.test('deploy abort stops a running canary', async () => {
    const started = json<DeploymentWithEtag>(
      await cli(
        'deploy',
        'rollout',
        'mlp',
        '--strategy',
        'canary',
        '--alias',
        'staging',
        '--step-seconds',
        '600',
        '--json',
      ),
    );
    assert.equal(started.state.canary?.status, 'running');
    const aborted = ok(await cli('deploy', 'abort', 'mlp', '--reason', 'changed my mind', '--actor', 'ops'));
    assert.match(aborted.stdout, /aborted the canary of version 3 on mlp: changed my mind; all traffic on version 2/);
  });

  await t.test('usage mistakes: unknown command, unknown flag, missing argument', async () => {
    const unknown = await runCli(['modles', 'list']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "modles"; did you mean "models"\?/);
    const flag = await cli('deploy', 'list', '--bogus');
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^stratum: unknown option --bogus\nusage: stratum deploy list \[options\]\n$/);
    const missing = await cli('deploy', 'rollout', '--strategy', 'canary', '--version', '2');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /stratum: missing <name>\nusage: stratum deploy rollout <name> --strategy/);
  });

  await t.test('artifacts gc --dry-run --json', async () => {
    const gc = json<GcReply>(await cli('artifacts', 'gc', '--dry-run', '--grace-seconds', '0', '--json'));
    assert.equal(gc.dryRun, true);
    assert.deepEqual(gc.removed, [], 'every artifact is still referenced by a version');
  });

  t.diagnostic(`registry CLI suite took ${Date.now() - started} ms`);
});
