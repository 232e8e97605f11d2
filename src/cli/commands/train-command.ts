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
  ...GLOBAL_OPTIONS,
  // Progress and the summary tell the story; the store's info lines would interleave with them.
  'log-level': { ...GLOBAL_OPTIONS['log-level'], default: 'warn' },
} as const satisfies OptionsSpec;

/** `stratum train`. */
export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Run a training spec: read, check, train, evaluate, register, as a tracked run',
  description:
    'Run a training spec (YAML or JSON) in this process: read and check the data, record a run (params, metrics by step, dataset version and profile, code version, artifacts), train, evaluate on the held-out split and, when the spec says so, register the model (features and model as one ONNX graph) with its lineage. Progress on stderr (one line per change off a terminal), a summary table on stdout. A server sharing the stores sees the run and the version at once.',
  args: [{ name: 'spec', description: 'the training spec, .yaml or .json', file: true }],
  options: TRAIN_OPTIONS,
  examples: [
    'stratum train flights.yaml',
    'stratum train my-spec.yaml --json --actor ci',
    'stratum train spam.yaml --force --reason "clients moved to the new outputs"',
    'stratum train flights.yaml --queue --wait',
  ],
  async run(cmd) {
    const { force, reason } = cmd.values;
    if (force === true && (reason ?? '').trim() === '') throw cmd.usageError('--force needs --reason <why>');
    if (force !== true && reason !== undefined) throw cmd.usageError('--reason goes with --force');
    if (cmd.values.wait === true && cmd.values.queue !== true) throw cmd.usageError('--wait goes with --queue');
    if (cmd.values.queue === true) {
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
    const [{ loadConfig }, { createLogger }, { trainFromFile }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../train.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(TRAIN_OPTIONS, cmd.values) });
    const level = cmd.values['log-level'] === undefined ? 'warn' : (config.logLevel as LogLevel);
    return trainFromFile({
      specPath: cmd.args.spec,
      config,
      logger: createLogger({ level }),
      ...(cmd.values.json === true && { json: true }),
      ...(cmd.values.actor !== undefined && { actor: cmd.values.actor }),
      ...(force === true && { force: { reason: reason as string } }),
    });
  },
});
