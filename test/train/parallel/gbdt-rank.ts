/**
 * One rank of a distributed GBDT run, as a child process of the tests: trains the synthetic data
 * set named by its JSON argument through a Redis collective, printing `round <n>` lines while it
 * trains and then one `result <json>` line (the model and the bytes exchanged), or `error <json>`.
 */
import process from 'node:process';
import { trainGbdt, type GbdtParams } from '../../../src/train/gbdt/train-gbdt.ts';
import { startSyncCollective } from '../../../src/train/parallel/sync-collective.ts';
import { makeDataset } from '../gbdt/synthetic-data.ts';

/** The argument of this script. */
export interface RankArgs {
  readonly url: string;
  readonly group: string;
  readonly rank: number;
  readonly worldSize: number;
  readonly numRows: number;
  readonly seed: number;
  readonly params: GbdtParams;
  /** @default 'binary' */
  readonly kind?: 'binary' | 'multiclass' | 'regression';
  /** Rows of a seeded validation set (for early stopping), if any. */
  readonly validationRows?: number;
  /** Heartbeat period. */
  readonly heartbeatMs?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as RankArgs;
const kind = args.kind ?? 'binary';
const data = makeDataset({ kind, numRows: args.numRows, seed: args.seed });
const validation =
  args.validationRows === undefined
    ? undefined
    : makeDataset({ kind, numRows: args.validationRows, seed: args.seed + 1000 });
const collective = startSyncCollective({
  url: args.url,
  group: args.group,
  rank: args.rank,
  worldSize: args.worldSize,
  ...(args.heartbeatMs !== undefined && { heartbeatMs: args.heartbeatMs }),
});
try {
  const model = trainGbdt({
    ...data,
    objective: kind,
    ...(kind === 'multiclass' && { numClasses: 3 }),
    params: { ...args.params, ...(validation !== undefined && { validation }) },
    collective,
    // A block, not an expression: `write` returns true, and a `true` from onProgress stops training.
    onProgress: (p) => {
      process.stdout.write(`round ${p.round}\n`);
    },
  });
  const stats = collective.stats();
  await collective.close();
  process.stdout.write(`result ${JSON.stringify({ model, stats })}\n`);
} catch (error) {
  await collective.close(error);
  const code = (error as { code?: string }).code;
  process.stdout.write(`error ${JSON.stringify({ code, message: (error as Error).message })}\n`);
  process.exitCode = 1;
}
