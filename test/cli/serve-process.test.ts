import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { servingUrl, startCli } from '../helpers/cli-process.ts';
import { writeModelRepository } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Polls /metrics until `count` inference requests are queued or running. */
async function waitPending(url: string, count: number): Promise<void> {
  await waitFor(`${count} requests to be pending at ${url}`, async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const pending = text
      .split('\n')
      .filter((line) => line.startsWith('stratum_pending_requests{'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    return pending >= count;
  });
}

test('stratum serve finishes in-flight requests on SIGTERM, then exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A long queue delay holds every request in the batcher, so the signal provably arrives while
  // all eight are in flight (a fixed sleep raced the connections on a slow CI machine).
  await writeModelRepository(dir, {
    fixtures: ['transformer'],
    modelConfigs: {
      transformer: { instances: 1, maxBatchSize: 64, dynamicBatching: { maxQueueDelayMicroseconds: 3_000_000 } },
    },
  });
  const proc = startCli(t, [
    'serve',
    '--models',
    dir,
    '--http-port',
    '0',
    '--grpc-port',
    '0',
    '--workers',
    '1',
    '--log-level',
    'info',
    '--no-registry',
  ]);
  const url = await servingUrl(proc);
  const body = JSON.stringify({
    inputs: [{ name: 'tokens', datatype: 'FP32', shape: [1, 64, 128], data: new Array(64 * 128).fill(0.1) }],
  });
  const inflight = Array.from({ length: 8 }, () =>
    fetch(`${url}/v2/models/transformer/infer`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    }).then((r) => ({ status: r.status, connection: r.headers.get('connection') })),
  );
  await waitPending(url, 8);
  proc.child.kill('SIGTERM');
  const replies = await Promise.all(inflight);
  assert.deepEqual(
    replies.map((r) => r.status),
    new Array(8).fill(200),
    'every request accepted before the signal was answered',
  );
  // Otherwise the clients' keep-alive would hold the shutdown open for up to 65 s.
  assert.deepEqual(
    replies.map((r) => r.connection),
    new Array(8).fill('close'),
    'replies sent while shutting down close their connection',
  );
  assert.equal(await proc.exited, 0);
  assert.match(proc.output(), /shutting down/);
  assert.match(proc.output(), /stopped/);
});

test('stratum serve reports a bad flag or a missing repository clearly and exits non-zero', async (t) => {
  const missing = startCli(t, ['serve', '--http-port', '0', '--database-url', 'mysql://nowhere']);
  assert.equal(await missing.exited, 1);
  assert.match(missing.output(), /databaseUrl/);
  // A flag's value is checked against its declaration before any configuration is read: the
  // message names the flag, and a usage mistake exits 2.
  const bad = startCli(t, ['serve', '--models', '/tmp', '--http-port', 'eighty']);
  assert.equal(await bad.exited, 2);
  assert.match(
    bad.output(),
    /^stratum: --http-port must be an integer, got "eighty"\nusage: stratum serve \[options\]\n$/,
  );
  // A value the flag allows but the setting does not is the configuration's to refuse, by its path.
  const outOfRange = startCli(t, ['serve', '--models', '/tmp', '--http-port', '70000']);
  assert.equal(await outOfRange.exited, 1);
  assert.match(outOfRange.output(), /httpPort/);
});

test('stratum demo --once --quick trains the examples, serves them and answers over REST and gRPC', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const proc = startCli(
    t,
    ['demo', '--once', '--quick', '--http-port', '0', '--grpc-port', '0', '--log-level', 'warn'],
    {
      STRATUM_DATABASE_URL: `sqlite:${join(dir, 'stratum.db')}`,
      STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
    },
  );
  const code = await proc.exited;
  assert.equal(code, 0, proc.output());
  const output = proc.output();
  const spam = Number(/REST {2}P\(spam\) of a prize-winning e-mail: ([\d.]+)/.exec(output)?.[1]);
  const ham = Number(/REST {2}P\(spam\) of a colleague's e-mail: +([\d.]+)/.exec(output)?.[1]);
  const viaGrpc = Number(/gRPC {2}P\(spam\) of the prize e-mail: +([\d.]+)/.exec(output)?.[1]);
  assert.ok(spam > 0.5 && ham < 0.5, `spam ${spam}, ham ${ham}\n${output}`);
  assert.equal(viaGrpc, spam, 'gRPC answers what REST answers');
  assert.match(output, /spam-filter version 1/);
  assert.match(output, /flight-delays version 1/);
  assert.match(output, /P\(late > 15 min\), ORD→LGA .*: 0\.\d+/);
  // Each run's held-out scores sit beside the majority-class baseline's, which the output explains.
  const heldOut = [
    ...output.matchAll(
      /^ {4}held out: accuracy ([\d.]+) \(baseline ([\d.]+)\), balanced accuracy ([\d.]+) \(baseline ([\d.]+)\), macro F1 ([\d.]+) \(baseline ([\d.]+)\), ROC-AUC ([\d.]+) \(baseline ([\d.]+)\)$/gm,
    ),
  ].map((match) => match.slice(1).map(Number));
  assert.equal(heldOut.length, 3, `one line per run (spam ×2, flights)\n${output}`);
  assert.match(output, /\(baseline: always answering the training rows' most frequent class\)/);
  for (const [, accuracyBaseline, balanced, balancedBaseline, , , , aucBaseline] of heldOut) {
    assert.ok((accuracyBaseline as number) > 0.5, 'the majority class is the larger one');
    assert.equal(balancedBaseline, 0.5);
    assert.equal(aucBaseline, 0.5);
    // Even the quick flights model (20 trees on 50,000 rows) clearly beats always answering "on time".
    assert.ok((balanced as number) > 0.6, `balanced accuracy ${balanced}\n${output}`);
  }
  // The server stops with --once, so no commands aimed at it are suggested.
  assert.doesNotMatch(output, /curl -s/);
  assert.match(output, /Done \(--once\): the server stops now/);
  assert.ok(proc.output().includes(dir), 'the registry went where it was told');
  assert.match(proc.output(), /requests during the switch: \d+ sent, 0 failed/);
});
