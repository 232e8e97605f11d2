/**
 * The logger's two faces: JSON lines for machines and readable lines on a terminal. The decision
 * follows the destination's `isTTY` unless `pretty` says otherwise; a real pseudo-terminal (util-
 * linux `script`) shows `stratum serve` choosing readable lines by itself, and a JSON logger never
 * loads pino-pretty.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/logging/logger.ts';
import { BIN } from '../helpers/run-cli.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A stream that collects what is written to it, optionally claiming to be a terminal. */
function sink(isTTY: boolean): { stream: PassThrough; lines: () => string[] } {
  const stream = Object.assign(new PassThrough(), isTTY ? { isTTY: true } : {});
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

const ANSI = new RegExp(String.raw`\x1b\[[0-9;]*m`, 'g');

test('JSON lines unless told otherwise; readable lines with pretty: true', async () => {
  const json = sink(false);
  createLogger({ destination: json.stream }).info({ port: 8000 }, 'stratum is serving');
  await waitFor('the JSON line', () => json.lines().length === 1);
  const line = JSON.parse(json.lines()[0] ?? '') as Record<string, unknown>;
  assert.equal(line['level'], 'info');
  assert.equal(line['msg'], 'stratum is serving');
  assert.equal(line['port'], 8000);

  const pretty = sink(false);
  const logger = createLogger({ destination: pretty.stream, pretty: true });
  logger.info({ port: 8000 }, 'stratum is serving');
  logger.child({ model: 'mlp' }).warn({}, 'warm-up failed');
  await waitFor('the readable lines', () => pretty.lines().length === 2);
  assert.match(pretty.lines()[0] ?? '', /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: stratum is serving \{"port":8000\}$/);
  assert.match(pretty.lines()[1] ?? '', /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: warm-up failed \{"model":"mlp"\}$/);
});

test('a destination that is a terminal gets readable, coloured lines by default', async () => {
  const terminal = sink(true);
  createLogger({ destination: terminal.stream }).error({ code: 'X' }, 'boom');
  await waitFor('the readable line', () => terminal.lines().length === 1);
  const line = terminal.lines()[0] ?? '';
  assert.notEqual(line.replaceAll(ANSI, ''), line, 'coloured');
  assert.match(line.replaceAll(ANSI, ''), /^\[\d\d:\d\d:\d\d\.\d{3}\] ERROR: boom \{"code":"X"\}$/);
  const forced = sink(true);
  createLogger({ destination: forced.stream, pretty: false }).info({}, 'json anyway');
  await waitFor('the JSON line', () => forced.lines().length === 1);
  assert.equal((JSON.parse(forced.lines()[0] ?? '') as { msg: string }).msg, 'json anyway');
});

test('pino-pretty is loaded only for readable lines', () => {
  const logger = fileURLToPath(new URL('../../src/logging/logger.ts', import.meta.url));
  const probe = (pretty: boolean): boolean => {
    const code = `
      import { createRequire } from 'node:module';
      import { PassThrough } from 'node:stream';
      const { createLogger } = await import(${JSON.stringify(logger)});
      createLogger({ destination: new PassThrough(), pretty: ${pretty} }).info({}, 'x');
      const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('pino-pretty'));
      process.stdout.write(JSON.stringify(loaded));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as boolean;
  };
  assert.equal(probe(false), false);
  assert.equal(probe(true), true);
});

test('stratum serve on a pseudo-terminal logs readable, coloured lines (JSON through a pipe: serve-process.test.ts)', async (t) => {
  if (spawnSync('script', ['--version']).status !== 0) {
    t.skip('util-linux script is not installed: no pseudo-terminal to test with');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'stratum-tty-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const serve = [BIN, 'serve', '--no-registry', '--models', dir, '--http-port', '0', '--grpc-port', '0'];
  // `script` runs the command on a new pseudo-terminal: its stdout and stderr are a terminal.
  const command = [process.execPath, ...serve].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor('the readable "stratum is serving" line', () => {
    if (child.exitCode !== null) throw new Error(`script exited with ${child.exitCode}: ${output}`);
    return output.includes('stratum is serving');
  });
  const line = output.split(/\r?\n/).find((l) => l.includes('stratum is serving')) ?? '';
  assert.match(
    line.replaceAll(ANSI, ''),
    /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: stratum is serving \{"http":"http:\/\/127\.0\.0\.1:\d+","grpcPort":\d+\}$/,
  );
  assert.notEqual(line.replaceAll(ANSI, ''), line, 'coloured on a terminal');
});
