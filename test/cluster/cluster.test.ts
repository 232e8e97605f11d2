/**
 * Many processes, one system: nginx in front of two `stratum serve` replicas, two `stratum worker`
 * processes, one PostgreSQL schema, one Redis queue and one artifact folder, all on 127.0.0.1.
 * Under constant inference load, with a training job, a batch job and asynchronous requests in
 * flight, one replica and one worker (holding a job) are killed with SIGKILL and started again. The
 * test then asserts what users rely on: no inference request failed (nginx retries on the other
 * replica), every job completed exactly once (one registered version, every batch row once, every
 * async result equal to the synchronous answer), and a deployment change reached both replicas.
 * Every wait is for a state (a job's state, a served version, a process's log line); the figures
 * (requests, failures, retries, jobs, duplicates) are printed, not judged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createApiClient } from '../../src/client/api-client.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import { tabularRows } from '../train/pipeline/tabular-data.ts';
import { type CliProcess, servingUrl, startCli } from '../helpers/cli-process.ts';
import { freePort, startLoadBalancer } from '../helpers/load-balancer.ts';
import { freshPostgresUrl } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { writeTrainingData } from '../jobs/train-fixture.ts';
import { tuneSpecInput, writeTuneCsv } from '../jobs/tune/tune-data.ts';

/** Long enough for a loaded CI machine; a bound on a hung test, not a performance target. */
const LIMIT = { limitMs: 240_000, everyMs: 100 };

interface JobRecord {
  readonly id: string;
  readonly kind: string;
  readonly state: string;
  readonly workerId?: string;
  readonly result?: unknown;
  readonly error?: { message: string };
}

const DIGIT = { name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array<number>(784).fill(0.25) };

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${res.url}: ${text}`);
  return JSON.parse(text) as T;
}

/** Runs requests through the load balancer until stopped; counts answers and failures. */
function startLoad(url: string, lanes: number) {
  let stop = false;
  const counts = { ok: 0, failed: 0, errors: [] as string[] };
  const lane = async (): Promise<void> => {
    while (!stop) {
      try {
        const res = await fetch(`${url}/v2/models/digits/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [DIGIT] }),
        });
        await res.arrayBuffer();
        if (res.status === 200) counts.ok++;
        else {
          counts.failed++;
          if (counts.errors.length < 5) counts.errors.push(`HTTP ${res.status}`);
        }
      } catch (error) {
        counts.failed++;
        if (counts.errors.length < 5) counts.errors.push(String(error));
      }
    }
  };
  const running = Array.from({ length: lanes }, lane);
  return {
    counts,
    async stop() {
      stop = true;
      await Promise.all(running);
    },
  };
}

test('two replicas and two workers behind nginx survive a killed replica and a killed worker', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-cluster-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const queueName = `cluster-${randomUUID().slice(0, 8)}`;
  const env = {
    STRATUM_DATABASE_URL: await freshPostgresUrl(t),
    STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
    STRATUM_QUEUE_URL: 'redis://127.0.0.1:6379',
    STRATUM_QUEUE_NAME: queueName,
    // A dead worker's job goes to the other one after at most twice this long. Shorter locks were
    // lost by live workers on an overloaded machine (load 36 on 2 cores: a train job "stalled more
    // than allowable limit"), which is the queue working as configured, not what this test is about.
    STRATUM_JOB_LOCK_MS: '10000',
    STRATUM_RUNTIME_WORKERS: '1',
  };
  // The replicas' async inference runs on a queue of its own beside the main one.
  t.after(() => Promise.all([obliterate(queueName), obliterate(`${queueName}.inference`)]));

  const ports = [await freePort(), await freePort()] as const;
  const serve = (port: number): CliProcess =>
    startCli(t, ['serve', '--http-port', String(port), '--grpc-port', '0', '--log-level', 'info'], env);
  // Two slots each: a tune or batch coordinator holds one while its trials or chunks run.
  const worker = (): CliProcess => startCli(t, ['worker', '--concurrency', '2', '--log-level', 'info'], env);
  const replicas = [serve(ports[0]), serve(ports[1])];
  const [urlA, urlB] = (await Promise.all(replicas.map((r) => servingUrl(r, LIMIT)))) as [string, string];
  const workers = [worker(), worker()];
  await Promise.all(workers.map((w) => waitForLine(w, '"stratum worker is running"')));
  const lb = await startLoadBalancer(t, join(dir, 'nginx'), ports);
  const api = createApiClient({ baseUrl: lb.url, actor: 'cluster-test' });

  // A deployment every replica serves, then constant load through the load balancer.
  await api.pushVersion({ model: 'mlp', bytes: FIXTURES.mlp.build() });
  await api.setAlias({ model: 'mlp', alias: 'production', version: 1 });
  await api.createDeployment({ name: 'digits', model: 'mlp', routes: [{ alias: 'production', weight: 100 }] });
  for (const url of [urlA, urlB])
    await waitFor(`${url} to serve digits`, () => served(url).then((v) => v === '1'), LIMIT);
  const load = startLoad(lb.url, 4);
  t.after(() => load.stop());

  // Jobs in flight: a training run, a batch over 3,000 rows in 10 chunks, a search of 4 trials,
  // 20 async requests.
  const trainSpec = await writeTrainingData(dir, { name: 'cluster-model', numTrees: 60, count: 1500 });
  const train = await submit(lb.url, { kind: 'train', payload: { spec: trainSpec, baseDir: dir } });
  const trained = await waitForJob(lb.url, train.id);
  assert.equal(trained.state, 'completed', JSON.stringify(trained.error));
  const batchRows = 3000;
  const { rows } = tabularRows({ count: batchRows, seed: 11, complete: true });
  const batchInput = join(dir, 'batch-input.jsonl');
  await writeFile(batchInput, rows.map((row, id) => `${JSON.stringify({ id, ...row })}\n`).join(''));
  const batchOutput = join(dir, 'batch-output.jsonl');
  const batch = await submit(lb.url, {
    kind: 'batch-infer',
    payload: {
      model: 'cluster-model@production',
      input: { path: batchInput },
      output: batchOutput,
      chunkRows: batchRows / 10,
      passThrough: ['id'],
    },
  });
  const retrain = await submit(lb.url, {
    kind: 'train',
    payload: { spec: { ...trainSpec, name: 'cluster-model-2', register: { model: 'cluster-model-2' } }, baseDir: dir },
  });
  const tune = await submit(lb.url, {
    kind: 'tune',
    payload: {
      spec: tuneSpecInput(writeTuneCsv(dir), {
        name: 'cluster-tune',
        trials: 4,
        maxConcurrentTrials: 2,
        register: { model: 'cluster-tuned' },
      }),
      baseDir: dir,
    },
  });
  const asyncIds: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${lb.url}/v2/models/digits/infer_async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [DIGIT] }),
    });
    asyncIds.push((await json<{ id: string }>(res)).id);
  }

  // Kill a worker while it holds a job — whichever of the two holds one first (which worker takes
  // what is the queue's choice) — and replica A while it serves load; start both again.
  const { held, index } = await waitFor(
    'a worker to hold a job',
    async () => {
      const active = await json<{ items: JobRecord[] }>(await fetch(`${lb.url}/api/v1/jobs?state=active&limit=100`));
      for (const [i, w] of workers.entries()) {
        const job = active.items.find((j) => j.workerId?.includes(`:${w.child.pid}`) === true);
        if (job !== undefined) return { held: job, index: i };
      }
      return undefined;
    },
    LIMIT,
  );
  const killedWorker = workers[index] as CliProcess;
  const okBeforeKill = load.counts.ok;
  killedWorker.child.kill('SIGKILL');
  (replicas[0] as CliProcess).child.kill('SIGKILL');
  await Promise.all([killedWorker.exited, (replicas[0] as CliProcess).exited]);
  await waitFor('load to go on through replica B', () => load.counts.ok > okBeforeKill + 50, LIMIT);
  replicas[0] = serve(ports[0]);
  workers[index] = worker();
  await servingUrl(replicas[0], LIMIT);

  // Every job finishes, once.
  const waited = [...new Set([batch.id, retrain.id, tune.id, held.id, ...asyncIds])];
  const finished = await Promise.all(waited.map((id) => waitForJob(lb.url, id)));
  for (const job of finished)
    assert.equal(job.state, 'completed', `${job.kind} ${job.id}: ${JSON.stringify(job.error)}`);
  const versions = async (model: string): Promise<number> => (await api.listVersions(model)).items.length;
  assert.equal(await versions('cluster-model'), 1, 'the first training registered one version');
  assert.equal(await versions('cluster-model-2'), 1, 'the second training registered one version');
  assert.equal(await versions('cluster-tuned'), 1, 'the search registered its best once');
  const experiment = await json<{ status: string; registered?: unknown; trials: { number: number }[] }>(
    await fetch(`${lb.url}/api/v1/experiments/${encodeURIComponent(tune.id)}`),
  );
  assert.equal(experiment.status, 'succeeded');
  assert.deepEqual(experiment.registered, { model: 'cluster-tuned', version: 1 });
  const trialNumbers = experiment.trials.map((trial) => trial.number);
  assert.equal(new Set(trialNumbers).size, trialNumbers.length, 'no trial twice');
  assert.equal(trialNumbers.length, 4);
  const outputIds = (await readFile(batchOutput, 'utf8'))
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => Number((JSON.parse(line) as { id: number | string }).id));
  const batchDuplicates = outputIds.length - new Set(outputIds).size;
  assert.equal(batchDuplicates, 0, 'no batch row twice');
  assert.deepEqual(
    [...new Set(outputIds)].sort((a, b) => a - b),
    Array.from({ length: batchRows }, (_, i) => i),
  );
  const syncAnswer = await json<{ outputs: unknown }>(
    await fetch(`${lb.url}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [DIGIT] }),
    }),
  );
  for (const job of finished.filter((j) => j.kind === 'infer-async')) {
    assert.deepEqual((job.result as { outputs: unknown }).outputs, syncAnswer.outputs, `async job ${job.id}`);
  }

  // A deployment change made through the load balancer reaches both replicas.
  await api.pushVersion({ model: 'mlp', bytes: buildMlp({ seed: 7 }) });
  await api.setAlias({ model: 'mlp', alias: 'production', version: 2, reason: 'cluster test' });
  const urlA2 = `http://127.0.0.1:${ports[0]}`;
  for (const url of [urlA2, urlB])
    await waitFor(`${url} to serve version 2`, () => served(url).then((v) => v === '2'), LIMIT);

  await load.stop();
  const stats = await lb.stats();
  const figures = {
    requests: load.counts.ok + load.counts.failed,
    failures: load.counts.failed,
    nginxRetries: stats.retried,
    upstreamErrors: stats.upstreamErrors,
    jobs: finished.length + 1,
    killedWorkersJob: `${held.kind} ${held.id}`,
    batchRows: outputIds.length,
    trials: trialNumbers.length,
    batchDuplicates,
  };
  t.diagnostic(`cluster figures: ${JSON.stringify(figures)}`);
  assert.equal(load.counts.failed, 0, `failed requests: ${load.counts.errors.join('; ')}`);
});

async function served(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [DIGIT] }),
    });
    if (res.status !== 200) return undefined;
    return ((await res.json()) as { model_version: string }).model_version;
  } catch {
    return undefined;
  }
}

async function submit(url: string, body: Record<string, unknown>): Promise<JobRecord> {
  return json<JobRecord>(
    await fetch(`${url}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/** The job once it reached a finished state. */
async function waitForJob(url: string, id: string): Promise<JobRecord> {
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const res = await fetch(`${url}/api/v1/jobs/${encodeURIComponent(id)}`).catch(() => undefined);
      if (res?.status !== 200) return undefined;
      const job = (await res.json()) as JobRecord;
      return ['completed', 'failed', 'cancelled'].includes(job.state) ? job : undefined;
    },
    LIMIT,
  );
}

async function waitForLine(proc: CliProcess, text: string): Promise<void> {
  await waitFor(
    `a process to log ${text}`,
    () => {
      if (proc.child.exitCode !== null) throw new Error(`exited with ${proc.child.exitCode}: ${proc.output()}`);
      return proc.output().includes(text);
    },
    LIMIT,
  );
}

/** Removes the test's queue from Redis. */
async function obliterate(name: string): Promise<void> {
  const { dropBullmqQueue } = await import('../../src/queue/drop-bullmq-queue.ts');
  await dropBullmqQueue({ url: 'redis://127.0.0.1:6379', name });
}
