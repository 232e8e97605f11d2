/**
 * `stratum train <spec>`: runs a training spec in this process against the configured stores (the
 * work is in `../train.ts`, loaded only when the command runs: the trainers are heavy).
 */
import type { LogLevel } from '../../logging/logger.ts';
import { API_OPTIONS, DEFAULT_ACTOR, defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { STORE_OPTIONS } from './server-commands.ts';
import { settingOverrides } from './setting-overrides.ts';

const TRAIN_OPTIONS = {
  ...STORE_OPTIONS,
  force: {
    type: 'boolean',
    description:
      "move the spec's alias even where its deployments' clients could not use the new version (needs --reason)",
  },
  reason: { type: 'string', value: 'text', description: 'with --force: why, recorded in the alias history' },
  queue: {
    type: 'boolean',
    description: 'submit the spec as a train job to the server at --url (a worker runs it) and print its id',
  },
  wait: {
    type: 'boolean',
    description: 'with --queue: follow the job to its end, with its progress, and print the summary',
  },
  url: { ...API_OPTIONS.url, description: 'with --queue: the Stratum server to submit to' },
  json: { type: 'boolean', description: 'print the result (run, metrics, evaluation, version) as JSON on stdout' },
  actor: {
    type: 'string',
    value: 'name',
    default: DEFAULT_ACTOR,
    description: 'who the run and the version are recorded under',
  },
  processes: {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    default: '1',
    description:
      'train a gbdt spec in n processes on this machine, each on its shard of the rows, histograms summed through Redis (--collective); the model equals the one of n worker threads',
  },
  'world-size': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    description: 'across machines: the number of ranks; run the same spec once per rank (with --rank and --group)',
  },
  rank: {
    type: 'string',
    value: 'r',
    number: { integer: true, min: 0 },
    description:
      "across machines: this process's rank, 0 … world size − 1; rank 0 records the run and registers the model",
  },
  group: {
    type: 'string',
    value: 'id',
    description: 'across machines: names the run, the same on every rank and new for every run',
  },
  collective: {
    type: 'string',
    value: 'url',
    default: "the queue's Redis, else redis://127.0.0.1:6379",
    description: 'the Redis every rank reaches, which carries the histograms',
  },
  ...GLOBAL_OPTIONS,
  // Progress and the summary tell the story; the store's info lines would interleave with them.
  'log-level': { ...GLOBAL_OPTIONS['log-level'], default: 'warn' },
} as const satisfies OptionsSpec;

/** `stratum train`. */
export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Run a training spec: read, check, train, evaluate, register, as a tracked run',
  description:
    'Run a training spec (YAML or JSON) in this process (a gbdt spec also across processes or machines: --processes, --world-size): read and check the data, record a run (params, metrics by step, dataset version and profile, code version, artifacts), train, evaluate on the held-out split and, when the spec says so, register the model (features and model as one ONNX graph) with its lineage. Progress on stderr (one line per change off a terminal), a summary table on stdout. A server sharing the stores sees the run and the version at once.',
  args: [{ name: 'spec', description: 'the training spec, .yaml or .json', file: true }],
  options: TRAIN_OPTIONS,
  examples: [
    'stratum train flights.yaml',
    'stratum train my-spec.yaml --json --actor ci',
    'stratum train spam.yaml --force --reason "clients moved to the new outputs"',
    'stratum train flights.yaml --queue --wait',
    'stratum train flights.yaml --processes 2',
    'stratum train flights.yaml --world-size 2 --rank 1 --group flights-0412 --collective redis://10.0.0.5:6379',
  ],
  async run(cmd) {
    const { force, reason } = cmd.values;
    if (force === true && (reason ?? '').trim() === '') throw cmd.usageError('--force needs --reason <why>');
    if (force !== true && reason !== undefined) throw cmd.usageError('--reason goes with --force');
    if (cmd.values.wait === true && cmd.values.queue !== true) throw cmd.usageError('--wait goes with --queue');
    const distributed = ['processes', 'world-size', 'rank', 'group', 'collective'] as const;
    if (cmd.values.queue === true && distributed.some((flag) => cmd.values[flag] !== undefined)) {
      throw cmd.usageError(
        '--queue runs the spec on one worker: leave out --processes, --world-size, --rank, --group and --collective',
      );
    }
    if (cmd.values.queue === true) {
      const spread = ['processes', 'world-size', 'rank', 'group', 'collective'].find(
        (flag) => (cmd.values as Record<string, unknown>)[flag] !== undefined,
      );
      if (spread !== undefined) throw cmd.usageError(`--${spread} trains in this process; it does not go with --queue`);
      const { submitTrainJob } = await import('../train-queue.ts');
      return submitTrainJob({
        specPath: cmd.args.spec,
        api: cmd.api,
        wait: cmd.values.wait === true,
        json: cmd.json,
        stdout: cmd.io.stdout,
        stderr: cmd.io.stderr,
        ...(force === true && { force: { reason: reason as string } }),
      });
    }
    const [{ loadConfig }, { createLogger }, { trainFromFile }, { distributionOf }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../train.ts'),
      import('../train-distributed.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(TRAIN_OPTIONS, cmd.values) });
    const distribution = distributionOf({ flags: cmd.values, config, usageError: cmd.usageError });
    const level = cmd.values['log-level'] === undefined ? 'warn' : (config.logLevel as LogLevel);
    return trainFromFile({
      specPath: cmd.args.spec,
      config,
      logger: createLogger({ level }),
      ...(cmd.values.json === true && { json: true }),
      ...(cmd.values.actor !== undefined && { actor: cmd.values.actor }),
      ...(force === true && { force: { reason: reason as string } }),
      ...(distribution !== undefined && { distribution }),
    });
  },
});
