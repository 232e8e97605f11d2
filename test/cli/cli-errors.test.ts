/**
 * How the compiled CLI reports failures: a busy port is one line naming the port and the flag
 * that changes it; an error nobody anticipated is one line and a hint, and its stack trace with
 * --log-level debug; with --json every error is one JSON line on stderr.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { reportError } from '../../src/cli/report-error.ts';
import { StratumError } from '../../src/errors/index.ts';
import { runCli } from '../helpers/run-cli.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';

/** A port another process (this one) listens on, for as long as the test runs. */
async function busyPort(t: TestContext): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return address.port;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-cli-errors-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a busy port is one line naming the port and the flag that changes it (serve and demo, HTTP and gRPC)', async (t) => {
  const port = await busyPort(t);
  const dir = await tempDir(t);
  const store = { STRATUM_DATABASE_URL: `sqlite:${join(dir, 'db')}`, STRATUM_ARTIFACTS_URL: `file:${join(dir, 'a')}` };
  const cases: [string[], string][] = [
    [
      ['serve', '--http-port', String(port), '--grpc-port', '0'],
      `port ${port} is in use (HTTP); pick another with --http-port`,
    ],
    [
      ['serve', '--http-port', '0', '--grpc-port', String(port)],
      `port ${port} is in use (gRPC); pick another with --grpc-port`,
    ],
    [
      ['demo', '--once', '--http-port', String(port), '--grpc-port', '0'],
      `port ${port} is in use (HTTP); pick another with --http-port`,
    ],
  ];
  for (const [args, line] of cases) {
    const result = await runCli([...args, '--log-level', 'warn'], store);
    assert.equal(result.code, 1, `stratum ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
    assert.equal(result.stderr, `stratum: ${line}\n`, 'exactly one line, no stack trace, no library noise');
  }
  // The environment's port is named by the same flag.
  const fromEnv = await runCli(['serve', '--grpc-port', '0'], { ...store, STRATUM_HTTP_PORT: String(port) });
  assert.equal(fromEnv.stderr, `stratum: port ${port} is in use (HTTP); pick another with --http-port\n`);
  // With models to load (their "model version ready" lines are info), the port is found taken
  // before any loads: still exactly the one line.
  const models = join(dir, 'models');
  await writeFixtureRepository({ dir: models, only: ['mlp'] });
  const withModels = await runCli(['serve', '--no-registry', '--models', models, '--grpc-port', '0'], {
    STRATUM_HTTP_PORT: String(port),
  });
  assert.equal(withModels.code, 1, withModels.stderr);
  assert.equal(withModels.stderr, `stratum: port ${port} is in use (HTTP); pick another with --http-port\n`);
});

test('a missing models folder is one line naming the flag; --log-level debug adds the stack and its cause', async (t) => {
  const missing = join(await tempDir(t), 'no-such-folder');
  const args = ['serve', '--no-registry', '--models', missing, '--http-port', '0', '--grpc-port', '0'];
  const plain = await runCli(args);
  assert.equal(plain.code, 1);
  assert.equal(
    plain.stderr,
    `stratum: the model repository ${missing} does not exist (--models, STRATUM_MODELS_DIR)\n`,
    'one line, no stack trace',
  );
  const debug = await runCli([...args, '--log-level', 'debug']);
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /^ {4}at /m, 'the stack trace');
  assert.match(debug.stderr, /^caused by:\nError: ENOENT: .*no-such-folder/m, 'the cause it wraps');
  // The setting works as the flag does.
  const viaEnv = await runCli(args, { STRATUM_LOG_LEVEL: 'debug' });
  assert.match(viaEnv.stderr, /^ {4}at /m);
});

test('with --json every error is one JSON line on stderr: server errors, unreachable servers, usage mistakes', async (t) => {
  const server = await startRegistryServer(t);
  const notFound = await runCli(['models', 'show', 'nope', '--json', '--url', server.httpUrl]);
  assert.equal(notFound.code, 1);
  assert.equal(notFound.stdout, '');
  assert.deepEqual(JSON.parse(notFound.stderr), {
    error: 'model "nope" does not exist',
    code: 'MODEL_NOT_FOUND',
    status: 404,
  });
  assert.equal(notFound.stderr.trim().split('\n').length, 1);

  const unreachable = await runCli(['runs', 'list', '--json', '--url', 'http://127.0.0.1:1']);
  assert.equal(unreachable.code, 1);
  const reply = JSON.parse(unreachable.stderr) as Record<string, unknown>;
  assert.equal(reply['code'], 'SERVER_UNREACHABLE');
  assert.equal(reply['status'], 503);
  assert.match(String(reply['error']), /^cannot reach Stratum at http:\/\/127\.0\.0\.1:1/);
  assert.match(String(reply['hint']), /stratum serve/);

  const usage = await runCli(['deploy', 'list', '--bogus', '--json']);
  assert.equal(usage.code, 2);
  assert.deepEqual(JSON.parse(usage.stderr), {
    error: 'unknown option --bogus',
    code: 'USAGE',
    usage: 'stratum deploy list [options]',
  });
  const unknown = await runCli(['modles', '--json']);
  assert.equal(JSON.parse(unknown.stderr).code, 'USAGE');
});

test('reportError: an unexpected error as JSON is INTERNAL with its first line; debug adds the stack', () => {
  const capture = (): { stream: PassThrough; text: () => string } => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    return { stream, text: () => text };
  };
  const json = capture();
  const code = reportError(new TypeError('boom\nsecond line'), { stderr: json.stream, json: true, debug: false });
  assert.equal(code, 1);
  assert.deepEqual(JSON.parse(json.text()), { error: 'boom …', code: 'INTERNAL' });
  const debug = capture();
  reportError(new TypeError('boom', { cause: new Error('root') }), { stderr: debug.stream, json: true, debug: true });
  const stack = (JSON.parse(debug.text()) as { stack: string }).stack;
  assert.match(stack, /^TypeError: boom\n {4}at /);
  assert.match(stack, /caused by:\nError: root/);
  const busy = capture();
  const error = new StratumError('PORT_IN_USE', 'port 1 is in use (HTTP)', { details: { setting: 'httpPort' } });
  reportError(error, { stderr: busy.stream, json: false, debug: false, flagOfSetting: () => undefined });
  assert.equal(busy.text(), 'stratum: port 1 is in use (HTTP); pick another with the httpPort setting\n');
  const plain = capture();
  reportError(new TypeError('boom\nsecond line'), { stderr: plain.stream, json: false, debug: false });
  assert.equal(plain.text(), 'stratum: boom … (rerun with --log-level debug for the stack trace)\n');
});
