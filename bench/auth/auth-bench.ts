/**
 * `npm run bench -- --only auth`: what authentication costs on the serving path. Two Stratum
 * processes serve the MLP: one on loopback with security off, one with `STRATUM_SECURITY=on`
 * accepting an API key (issued on its database before it starts) and HS256 JWTs; both run the
 * registry. Batch-1 JSON requests at c=64, windows alternating between the modes in an order that
 * rotates each round, so a change in the machine's load (or the switch between processes) hits
 * every mode; the median throughput of each mode and its cost against off (target ≤ 5%).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { createApiKeyService } from '../../src/security/api-keys.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import type { LoadResult } from '../load/load-result.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import type { Progress } from '../progress.ts';
import { startStratum, type StratumProcess } from '../stratum/stratum-process.ts';
import { writeRequests } from '../workload.ts';

const CONCURRENCY = 64;
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret';
const MODES = ['off', 'api-key', 'jwt'] as const;
type Mode = (typeof MODES)[number];

/** What the phase measured. */
export interface AuthBenchResult {
  readonly windows: readonly { readonly mode: Mode; readonly result: LoadResult }[];
}

/** Options of {@link runAuthBench}. */
export interface AuthBenchOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly workDir: string;
  readonly quick: boolean;
}

/** Runs the phase. */
export async function runAuthBench(options: AuthBenchOptions): Promise<AuthBenchResult> {
  const { group, progress, workDir } = options;
  const repoDir = join(workDir, 'models');
  await mkdir(workDir, { recursive: true });
  await writeFixtureRepository({ dir: repoDir, only: ['mlp'] });
  const request = (await writeRequests(workDir, 'mlp')).json;
  const databaseUrl = `sqlite:${join(workDir, 'stratum.db')}`;
  const store = await openMetadataStore({ url: databaseUrl });
  const { key } = await createApiKeyService({ store })
    .create({ name: 'bench', grants: [{ role: 'predictor' }], by: 'bench' })
    .finally(() => store.close());
  const token = await new SignJWT({ stratum_roles: ['predictor'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(JWT_SECRET));

  const settings = { label: 'w2/t1', workers: 2, intraOpThreads: 1 };
  // Both processes run the registry, so the only difference between them is security.
  const off = await startStratum({
    group,
    repoDir,
    models: ['mlp'],
    settings,
    registry: {
      databaseUrl: `sqlite:${join(workDir, 'off.db')}`,
      artifactsUrl: `file:${join(workDir, 'off-artifacts')}`,
    },
  });
  let on: StratumProcess | undefined;
  // The child inherits the environment: security on, with the JWT secret, for this process only.
  process.env['STRATUM_SECURITY'] = 'on';
  process.env['STRATUM_JWT_SECRET'] = JWT_SECRET;
  try {
    on = await startStratum({
      group,
      repoDir,
      models: ['mlp'],
      settings,
      registry: { databaseUrl, artifactsUrl: `file:${join(workDir, 'artifacts')}` },
    });
  } finally {
    delete process.env['STRATUM_SECURITY'];
    delete process.env['STRATUM_JWT_SECRET'];
  }
  const warmupMs = 1000;
  const durationMs = options.quick ? 3000 : 5000;
  const windows: { mode: Mode; result: LoadResult }[] = [];
  try {
    const rounds = options.quick ? 1 : 3;
    for (let round = 0; round < rounds; round++) {
      // The order rotates each round, so no mode always follows the same one.
      for (const mode of [...MODES.slice(round % 3), ...MODES.slice(0, round % 3)]) {
        const server = mode === 'off' ? off : (on as StratumProcess);
        const credential = mode === 'api-key' ? key : mode === 'jwt' ? token : undefined;
        const args = [
          '--port',
          String(server.httpPort),
          '--path',
          '/v2/models/mlp/infer',
          '--body',
          request.path,
          '--concurrency',
          String(CONCURRENCY),
          '--warmup-ms',
          String(warmupMs),
          '--duration-ms',
          String(durationMs),
          ...(credential === undefined ? [] : ['--header', `authorization: Bearer ${credential}`]),
        ];
        const result = await group.runJson<LoadResult>('bench/load/rest-load.ts', args, {
          timeoutMs: warmupMs + durationMs + 60_000,
        });
        windows.push({ mode, result });
        progress.log(
          `auth: ${mode.padEnd(7)} ${result.throughput.toFixed(0)} req/s  p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms  errors ${result.errors}`,
        );
      }
    }
  } finally {
    await Promise.allSettled([off.stop(), on?.stop()]);
  }
  return { windows };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The phase's Markdown section. */
export function renderAuthBench(result: AuthBenchResult): string {
  const of = (mode: Mode) => result.windows.filter((w) => w.mode === mode).map((w) => w.result);
  const base = median(of('off').map((r) => r.throughput));
  const lines = [
    `MLP, batch-1 JSON, c=${CONCURRENCY}, median of ${of('off').length} window(s) per mode, windows alternating in rotating order.`,
    '',
    '| authentication | req/s | p50 ms | p99 ms | errors | cost vs off |',
    '| -------------- | ----- | ------ | ------ | ------ | ----------- |',
  ];
  for (const mode of MODES) {
    const runs = of(mode);
    const throughput = median(runs.map((r) => r.throughput));
    const cost = mode === 'off' ? '—' : `${(((base - throughput) / base) * 100).toFixed(1)}%`;
    lines.push(
      `| ${mode} | ${throughput.toFixed(0)} | ${median(runs.map((r) => r.latency.p50)).toFixed(2)} | ${median(runs.map((r) => r.latency.p99)).toFixed(2)} | ${runs.reduce((n, r) => n + r.errors, 0)} | ${cost} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
