/**
 * The package as a user gets it: `npm pack`, then a plain `npm install --omit=dev` of the tarball
 * into an empty folder, outside the checkout (so neither its .npmrc nor its node_modules help), with
 * none of the checkout's npm or onnxruntime settings in the environment. There the installed CLI
 * trains with worker threads, registers, serves and answers (and serves its API reference), the
 * public entry points import and type-check, and every dependency the install resolved supports
 * the Node versions the package promises. This is the only proof that the package works without
 * the checkout.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { stringify } from 'yaml';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { seededRandom } from '../../src/onnx/fixtures/seeded-random.ts';
import { describeConflicts, productionEngineConflicts } from '../helpers/dependency-engines.ts';
import { connectGrpc } from '../helpers/grpc-client.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

/** The environment of a user's shell: nothing of the npm run that started the tests, nor the checkout's skip flag. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|ONNXRUNTIME_NODE_INSTALL)/i.test(key)),
  );
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Finished> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? userEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function assertSucceeded(result: Finished, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
}

/** Starts the installed CLI's `serve` on ports the OS picks and resolves once it logs where it listens. */
async function serveInstalled(
  t: TestContext,
  app: string,
  args: readonly string[],
): Promise<{ child: ChildProcess; httpUrl: string; grpcPort: number }> {
  const child = spawn(
    process.execPath,
    [join(app, 'node_modules/.bin/stratum'), 'serve', '--http-port', '0', '--grpc-port', '0', ...args],
    { cwd: app, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  return new Promise((resolve, reject) => {
    // The logger writes JSON lines to stderr; the line that says where it listens ends the wait.
    const onData = (data: Buffer): void => {
      output += data.toString();
      for (const line of output.split('\n').slice(0, -1)) {
        if (!line.includes('stratum is serving')) continue;
        const logged = JSON.parse(line) as { http: string; grpcPort: number };
        child.stderr?.off('data', onData);
        resolve({ child, httpUrl: logged.http, grpcPort: logged.grpcPort });
        return;
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`stratum serve exited with ${code} before serving:\n${output}`)));
  });
}

/** Polls until the server reports ready (a state, not a duration). */
async function waitReady(url: string): Promise<void> {
  for (;;) {
    const response = await fetch(`${url}/v2/health/ready`).catch(() => undefined);
    if (response?.status === 200) return;
    await sleep(100);
  }
}

/** The public entry points, used as a user's ES module would. */
const LIBRARY_CHECK = `
import { STRATUM_VERSION, StratumError, isStratumError } from 'stratum';
import { createApiClient } from 'stratum/client';
import { fromArray } from 'stratum/data';
import { fitFeatures, transformBatch } from 'stratum/features';
import { exportLinearOnnx, predictLinear, trainLinear } from 'stratum/train';

const rows = await fromArray(Array.from({ length: 200 }, (_, i) => ({ x: i % 20, y: i % 20 >= 10 ? 1 : 0 }))).toArray();
const fitted = await fitFeatures({ transforms: [{ column: 'x', transform: 'standardize' }] }, rows);
const { data, dims } = transformBatch(fitted, rows);
const labels = Float32Array.from(rows, (r) => r.y);
const params = { optimizer: 'lbfgs', learningRate: 0.1, l2: 0, epochs: 100, batchSize: 200, seed: 1 };
const model = trainLinear({ features: data, numFeatures: dims[1], labels, objective: 'binary', params });
const { values } = predictLinear(model, { features: data });
let correct = 0;
for (let i = 0; i < rows.length; i++) correct += Number((values[2 * i + 1] > 0.5 ? 1 : 0) === rows[i].y);
let deepImport = 'allowed';
try {
  await import('stratum/dist/cli/main.js');
} catch (error) {
  deepImport = error.code;
}
console.log(JSON.stringify({
  version: STRATUM_VERSION,
  error: isStratumError(new StratumError('NOT_FOUND', 'x')),
  client: typeof createApiClient({ baseUrl: 'http://127.0.0.1:1' }).listModels,
  accuracy: correct / rows.length,
  onnxBytes: exportLinearOnnx(model).length,
  deepImport,
}));
`;

/** The same entry points, type-checked as a strict TypeScript user would. */
const TYPES_CHECK = `
import { STRATUM_VERSION, type StratumServer } from 'stratum';
import { createApiClient, type ApiClient } from 'stratum/client';
import { fromArray, type Dataset } from 'stratum/data';
import type { FeatureSpecInput } from 'stratum/features';
import { trainGbdt, type GbdtModel, type TrainSpec } from 'stratum/train';

const version: string = STRATUM_VERSION;
const client: ApiClient = createApiClient({ baseUrl: 'http://127.0.0.1:1' });
const rows: Dataset<{ a: number }> = fromArray([{ a: 1 }]);
const spec: FeatureSpecInput = { transforms: [{ column: 'a', transform: 'standardize' }] };
const train: (options: Parameters<typeof trainGbdt>[0]) => GbdtModel = trainGbdt;
export type Used = [typeof version, typeof client, typeof rows, typeof spec, typeof train, TrainSpec, StratumServer];
`;

// Generous: a pack, an install of ~300 packages and a training run on a loaded 2-core machine.
const TEN_MINUTES = 600_000;

test(
  'the packed tarball installs offline into an empty folder (--omit=dev), trains, serves and answers there',
  { timeout: TEN_MINUTES },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'stratum-package-'));
    t.after(() => rm(dir, { recursive: true, force: true }));

    // npm pack runs `prepare`, so the tarball holds a build of the sources as they are now.
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: REPO_ROOT,
      env: process.env,
    });
    assertSucceeded(packed, 'npm pack');
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    assert.ok(info !== undefined);
    const files = info.files.map((f) => f.path);
    for (const needed of [
      'bin/stratum.js',
      'dist/cli/main.js',
      'dist/runtime/session-worker.js',
      'dist/index.d.ts',
      'dist/api/grpc/grpc_predict_v2.proto',
      'dist/store/migrations/001_registry.sql',
      'examples/spam/logistic.yaml',
      'scripts/onnxruntime-cpu-only.cjs',
    ]) {
      assert.ok(files.includes(needed), `the tarball lacks ${needed}`);
    }
    const stray = files.filter((f) => /^(test|bench|src|docs|\.ci)\//.test(f) || f.endsWith('.tsbuildinfo'));
    assert.deepEqual(stray, [], 'the tarball ships only what users run');

    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'stratum-user', private: true, type: 'module' }));
    // A plain install, as the README gives it: no skip flag anywhere (the environment has none, and
    // the folder is outside the checkout, whose .npmrc sets one).
    const installed = await run(
      'npm',
      ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', join(dir, info.filename)],
      { cwd: app },
    );
    assertSucceeded(installed, 'npm install of the tarball');
    const modules = join(app, 'node_modules');
    assert.ok(!existsSync(join(modules, 'tsx')) && !existsSync(join(modules, 'typescript')), 'no dev dependencies');
    // What a fresh install resolves (not the checkout's lock) stays within the promised Node range.
    const conflicts = await productionEngineConflicts({ root: join(modules, 'stratum') });
    assert.deepEqual(conflicts, [], `installed dependencies that need another Node:\n${describeConflicts(conflicts)}`);
    const ortBin = join(modules, 'onnxruntime-node/bin/napi-v6', `${process.platform}/${process.arch}`);
    assert.ok(statSync(join(ortBin, 'onnxruntime_binding.node')).size > 0, 'the CPU binding came with the package');
    if (`${process.platform}/${process.arch}` === 'linux/x64') {
      // What let the install succeed offline: the CUDA files onnxruntime-node would have fetched are
      // empty placeholders written by Stratum's preinstall, never downloaded.
      for (const file of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) {
        assert.equal(statSync(join(ortBin, file)).size, 0, `${file} is a placeholder`);
      }
    }

    const help = await run(process.execPath, [join(modules, '.bin/stratum'), '--help'], { cwd: app });
    assertSucceeded(help, 'stratum --help');
    assert.match(help.stdout, /^stratum — train, register, serve and monitor models/);

    // The library entry points, run and type-checked.
    await writeFile(join(app, 'use-library.mjs'), LIBRARY_CHECK);
    const library = await run(process.execPath, ['use-library.mjs'], { cwd: app });
    assertSucceeded(library, 'the library entry points');
    const used = JSON.parse(library.stdout) as Record<string, unknown>;
    const version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    assert.equal(used['version'], version);
    assert.equal(used['error'], true);
    assert.equal(used['client'], 'function');
    assert.ok((used['accuracy'] as number) > 0.9, `a separable toy problem: accuracy ${String(used['accuracy'])}`);
    assert.ok((used['onnxBytes'] as number) > 0);
    assert.equal(used['deepImport'], 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    await writeFile(join(app, 'use-types.ts'), TYPES_CHECK);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false },
        files: ['use-types.ts'],
      }),
    );
    assertSucceeded(
      await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app }),
      'type-checking the entry points',
    );

    // The README's main job, from the installed package (the examples and their data travel with
    // it), in a folder of its own so its store stays apart from the one below.
    await mkdir(join(app, 'demo'));
    const demo = await run(
      process.execPath,
      [join(modules, '.bin/stratum'), 'demo', '--once', '--quick', '--http-port', '0', '--grpc-port', '0'],
      { cwd: join(app, 'demo') },
    );
    assertSucceeded(demo, 'stratum demo --once --quick');
    assert.match(demo.stdout, /requests during the switch: \d+ sent, 0 failed/);

    // Training with data-parallel worker threads: compiled workers, from the installed package.
    const random = seededRandom(11);
    const csv = ['size,colour,label'];
    for (let i = 0; i < 400; i++) {
      const size = random.next() * 10;
      const colour = random.next() < 0.5 ? 'red' : 'blue';
      csv.push(`${size.toFixed(3)},${colour},${size + (colour === 'red' ? 2 : 0) > 6 ? 'yes' : 'no'}`);
    }
    await writeFile(join(app, 'fruit.csv'), `${csv.join('\n')}\n`);
    await writeFile(
      join(app, 'train.yaml'),
      stringify({
        name: 'fruit',
        data: { source: { format: 'csv', path: 'fruit.csv' }, label: 'label', positive: 'yes' },
        features: {
          transforms: [
            { column: 'size', transform: 'standardize' },
            { column: 'colour', transform: 'onehot' },
          ],
        },
        model: { kind: 'gbdt', objective: 'binary', workers: 2, params: { numTrees: 20, maxDepth: 3 } },
        register: { model: 'fruit', alias: 'production' },
      }),
    );
    const trained = await run(process.execPath, [join(modules, '.bin/stratum'), 'train', 'train.yaml', '--json'], {
      cwd: app,
    });
    assertSucceeded(trained, 'stratum train');
    const result = JSON.parse(trained.stdout) as { run: { status: string }; metrics: Record<string, number> };
    assert.equal(result.run.status, 'succeeded');
    assert.ok((result.metrics['accuracy'] ?? 0) > 0.9, `held-out accuracy ${String(result.metrics['accuracy'])}`);

    // Serving: the trained version through the registry, and a model folder, over REST and gRPC.
    const models = join(app, 'models');
    await writeFixtureRepository({ dir: models, only: ['mlp'] });
    const server = await serveInstalled(t, app, ['--models', models]);
    await waitReady(server.httpUrl);
    // The API reference, with swagger-ui's assets from the installed package.
    const docs = await fetch(`${server.httpUrl}/docs`);
    assert.equal(docs.status, 200);
    const bundle = /src="([^"]*swagger-ui-bundle\.js)"/.exec(await docs.text())?.[1];
    assert.ok(bundle !== undefined, 'the page loads the swagger-ui bundle');
    assert.equal((await fetch(new URL(bundle, server.httpUrl))).status, 200, `${bundle} is served`);
    const deployed = await fetch(`${server.httpUrl}/api/v1/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fruit', routes: [{ alias: 'production', weight: 100 }] }),
    });
    assert.equal(deployed.status, 201, await deployed.text());
    for (;;) {
      const status = (await (await fetch(`${server.httpUrl}/api/v1/deployments/fruit/status`)).json()) as {
        converged: boolean;
      };
      if (status.converged) break;
      await sleep(100);
    }
    const fruit = await fetch(`${server.httpUrl}/v2/models/fruit/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'size', datatype: 'FP32', shape: [2, 1], data: [9.5, 0.5] },
          { name: 'colour', datatype: 'BYTES', shape: [2, 1], data: ['red', 'blue'] },
        ],
      }),
    });
    const fruitBody = (await fruit.json()) as { outputs: { name: string; data: unknown[] }[] };
    assert.equal(fruit.status, 200, JSON.stringify(fruitBody));
    // `label` is the class index: 1 is the positive class (`yes`).
    assert.deepEqual(fruitBody.outputs.find((o) => o.name === 'label')?.data, [1, 0]);

    // The folder model answers exactly what onnxruntime computes on the same input.
    const mlp = FIXTURES.mlp;
    const inputName = mlp.inputs[0]?.name as string;
    const width = mlp.inputs[0]?.shape?.[1] as number;
    const input = Float32Array.from({ length: width }, (_, i) => Math.sin(i));
    const reply = await fetch(`${server.httpUrl}/v2/models/mlp/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: inputName, datatype: 'FP32', shape: [1, width], data: [...input] }],
      }),
    });
    const body = (await reply.json()) as { outputs: { name: string; data: number[] }[] };
    assert.equal(reply.status, 200, JSON.stringify(body));
    const session = await ort.InferenceSession.create(mlp.build());
    t.after(() => session.release());
    const expected = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, width]) });
    for (const output of body.outputs) {
      const want = expected[output.name]?.data as Float32Array;
      assert.deepEqual(Float32Array.from(output.data), want, `output ${output.name}`);
    }
    const grpc = connectGrpc(t, server.grpcPort);
    const overGrpc = await grpc<{ outputs: { name: string; contents: { fp32_contents: number[] } }[] }>('ModelInfer', {
      model_name: 'mlp',
      inputs: [{ name: inputName, datatype: 'FP32', shape: [1, width], contents: { fp32_contents: [...input] } }],
    });
    for (const output of overGrpc.outputs) {
      const want = expected[output.name]?.data as Float32Array;
      assert.deepEqual(Float32Array.from(output.contents.fp32_contents), want, `gRPC output ${output.name}`);
    }
    server.child.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => server.child.once('exit', resolve)), 0);

    // On a terminal the installed CLI logs readable lines: pino-pretty came with the package.
    await prettyOnTerminal(t, { app, args: ['serve', '--no-registry', '--models', models] });
  },
);

/** Runs the installed `stratum …args` on a pseudo-terminal (util-linux `script`) until it logs that it serves. */
async function prettyOnTerminal(t: TestContext, options: { app: string; args: readonly string[] }): Promise<void> {
  const bin = join(options.app, 'node_modules/.bin/stratum');
  const command = [process.execPath, bin, ...options.args, '--http-port', '0', '--grpc-port', '0']
    .map((a) => `'${a}'`)
    .join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.app,
    env: userEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  for (;;) {
    if (output.includes('stratum is serving')) break;
    if (child.exitCode !== null) assert.fail(`stratum serve on a terminal exited with ${child.exitCode}: ${output}`);
    await sleep(100);
  }
  const line = output.split(/\r?\n/).find((l) => l.includes('stratum is serving')) ?? '';
  const plain = line.replaceAll(new RegExp(String.raw`\x1b\[[0-9;]*m`, 'g'), '');
  assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: stratum is serving \{"http":/, 'a readable line, not JSON');
}
