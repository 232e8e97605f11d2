/**
 * The distributed side of `stratum train`: one process per rank, its shard of the rows, the
 * histograms summed through Redis. `--processes N` starts ranks 1…N−1 as child processes of this
 * CLI (same Node, same flags) and plays rank 0 itself; across machines each one runs
 * `--world-size N --rank R --group ID --collective redis://…`. Rank 0 records the run and registers
 * the model; the other ranks only train, and print one line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { trainAsRank } from '../train/run/run-training.ts';
import { startSyncCollective, type SyncCollective } from '../train/parallel/sync-collective.ts';
import type { TrainSpec } from '../train/run/train-spec.ts';

/** The Redis of `--processes` when neither `--collective` nor a Redis queue says otherwise. */
export const DEFAULT_COLLECTIVE_URL = 'redis://127.0.0.1:6379';

/** Where this process stands in a distributed run. */
export interface Distribution {
  readonly worldSize: number;
  readonly rank: number;
  readonly group: string;
  /** The Redis that carries the exchange. */
  readonly url: string;
  /** Ranks 1…worldSize−1 are this CLI's children (`--processes`). */
  readonly spawnPeers: boolean;
}

/** The train command's distribution flags, as parsed strings. */
export interface DistributionFlags {
  readonly processes?: string | undefined;
  readonly 'world-size'?: string | undefined;
  readonly rank?: string | undefined;
  readonly group?: string | undefined;
  readonly collective?: string | undefined;
}

/**
 * The distribution the flags ask for, or undefined for a one-process run.
 * @throws Error (from `usageError`) for flags that do not fit together.
 */
export function distributionOf(args: {
  flags: DistributionFlags;
  config: Readonly<Config>;
  usageError: (message: string) => Error;
}): Distribution | undefined {
  const { flags, config, usageError } = args;
  // The queue's Redis when there is one: the machines of a cluster all reach it.
  const url = flags.collective ?? (config.queueUrl.startsWith('redis') ? config.queueUrl : DEFAULT_COLLECTIVE_URL);
  const manual = flags['world-size'] !== undefined || flags.rank !== undefined || flags.group !== undefined;
  if (flags.processes !== undefined) {
    if (manual) throw usageError('--processes starts its own ranks: leave out --world-size, --rank and --group');
    const processes = Number(flags.processes);
    if (processes > 64) throw usageError(`--processes must be at most 64, got ${processes}`);
    if (processes === 1) return undefined;
    return { worldSize: processes, rank: 0, group: `train-${randomUUID()}`, url, spawnPeers: true };
  }
  if (!manual) {
    if (flags.collective !== undefined) throw usageError('--collective goes with --processes or --world-size');
    return undefined;
  }
  if (flags['world-size'] === undefined || flags.rank === undefined || flags.group === undefined) {
    throw usageError('a distributed run needs --world-size, --rank and --group together');
  }
  const worldSize = Number(flags['world-size']);
  const rank = Number(flags.rank);
  if (rank >= worldSize) throw usageError(`--rank must be below --world-size (${worldSize}), got ${rank}`);
  return { worldSize, rank, group: flags.group, url, spawnPeers: false };
}

/** Starts ranks 1…worldSize−1 as child processes running this CLI on the same spec. */
export function spawnPeers(args: { distribution: Distribution; specPath: string }): ChildProcess[] {
  const { distribution, specPath } = args;
  const { worldSize, group, url } = distribution;
  const script = process.argv[1] as string;
  return Array.from({ length: worldSize - 1 }, (_, i) => {
    const flags = ['--world-size', String(worldSize), '--rank', String(i + 1), '--group', group, '--collective', url];
    return spawn(process.execPath, [...process.execArgv, script, 'train', resolve(specPath), ...flags], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  });
}

/** Waits for the children; a child still running after `graceMs` (it should fail on its own) is killed. */
export async function reapPeers(children: readonly ChildProcess[], graceMs = 30_000): Promise<number[]> {
  return Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null) return child.exitCode;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      return code ?? 1;
    }),
  );
}

/**
 * Opens this rank's collective and waits until it has connected and claimed its rank, so an
 * unreachable Redis or a taken rank fails before any data is read or any run is recorded.
 */
export async function openCollective(distribution: Distribution): Promise<SyncCollective> {
  const collective = startSyncCollective({
    url: distribution.url,
    group: distribution.group,
    rank: distribution.rank,
    worldSize: distribution.worldSize,
  });
  try {
    collective.stats();
    return collective;
  } catch (error) {
    await collective.close();
    throw error;
  }
}

/** What a run exchanged, for the summary: bytes every rank sent, per boosting round. */
export function exchangeSummary(args: { collective: SyncCollective; rounds: number }): {
  worldSize: number;
  group: string;
  bytesSent: number;
  bytesReceived: number;
  bytesPerRound: number;
} {
  const { collective, rounds } = args;
  const stats = collective.stats();
  // Every rank sends each peer a buffer of the same size at every operation, so the world sends
  // worldSize times what this rank sent (give or take the start's fingerprint, a few hundred bytes
  // that rank 0 alone broadcasts).
  const world = stats.bytesSent * collective.worldSize;
  return {
    worldSize: collective.worldSize,
    group: collective.group,
    bytesSent: stats.bytesSent,
    bytesReceived: stats.bytesReceived,
    bytesPerRound: rounds > 0 ? Math.round(world / rounds) : 0,
  };
}

/**
 * Runs a rank other than 0: trains its shard with the others and prints one line (or JSON).
 * Resolves with the exit code.
 */
export async function runPeerRank(args: {
  spec: TrainSpec;
  distribution: Distribution;
  logger: Logger;
  json: boolean;
  stdout: NodeJS.WritableStream;
}): Promise<number> {
  const { spec, distribution, json, stdout } = args;
  if (spec.model.kind !== 'gbdt') {
    throw new StratumError('BAD_REQUEST', `distributed training trains gbdt models, not ${spec.model.kind}`);
  }
  const collective = await openCollective(distribution);
  try {
    const result = await trainAsRank(spec, { baseDir: process.cwd(), collective });
    const exchange = exchangeSummary({ collective, rounds: result.steps });
    await collective.close();
    const { rank, worldSize, group } = distribution;
    stdout.write(
      json
        ? `${JSON.stringify({ rank, ...result, exchange })}\n`
        : `rank ${rank} of ${worldSize} (group ${group}): trained ${result.steps} rounds on its shard of ${result.trainRows} rows, sent ${exchange.bytesSent} bytes\n`,
    );
    return 0;
  } catch (error) {
    await collective.close(error);
    args.logger.debug({ err: error }, 'rank failed');
    throw error;
  }
}
