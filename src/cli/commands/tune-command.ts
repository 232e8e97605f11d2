/**
 * `stratum tune <spec>`: runs a hyper-parameter search (the work is in `../tune.ts`, loaded only
 * when the command runs: the trainers are heavy).
 */
import type { LogLevel } from '../../logging/logger.ts';
import { DEFAULT_ACTOR, defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { STORE_OPTIONS } from './server-commands.ts';
import { settingOverrides } from './setting-overrides.ts';

const TUNE_OPTIONS = {
  ...STORE_OPTIONS,
  queue: {
    type: 'boolean',
    description: 'submit a tune job whose trials run on any `stratum worker` instead of running them here',
  },
  'queue-url': {
    type: 'string',
    value: 'url',
    setting: 'queueUrl',
    description: 'with --queue: the job queue, embedded (the metadata database) or redis://host:port',
  },
  concurrency: {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    description: "trials at once (overrides the spec's maxConcurrentTrials)",
  },
  json: { type: 'boolean', description: 'print the experiment and its trials as JSON on stdout' },
  actor: {
    type: 'string',
    value: 'name',
    default: DEFAULT_ACTOR,
    description: 'who the experiment, its runs and the version are recorded under',
  },
  ...GLOBAL_OPTIONS,
  'log-level': { ...GLOBAL_OPTIONS['log-level'], default: 'warn' },
} as const satisfies OptionsSpec;

/** `stratum tune`. */
export const tuneCommand = defineCommand({
  name: 'tune',
  summary: 'Run a hyper-parameter search over a training spec: trials, ASHA, the best registered',
  description:
    "Run a tuning spec (YAML or JSON): a training spec (inline or a path), a search space over its model's parameters (uniform, loguniform, int, choice), a searcher (random, grid or tpe), a trial budget and an optional ASHA scheduler that stops weak trials at rungs. Each trial is a tracked run; the best is registered with its lineage when the spec says so. A live table of trials on stderr (redrawn on a terminal, one line per change otherwise), the best trial on stdout. Without --queue the trials run in this process, one at a time; with --queue the search is a tune job and its trials run on every worker.",
  args: [{ name: 'spec', description: 'the tuning spec, .yaml or .json', file: true }],
  options: TUNE_OPTIONS,
  examples: [
    'stratum tune flights-tune.yaml',
    'stratum tune tune.yaml --queue --json',
    'stratum tune tune.yaml --concurrency 2',
  ],
  async run(cmd) {
    const [{ loadConfig }, { createLogger }, { tuneFromFile }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../tune.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(TUNE_OPTIONS, cmd.values) });
    const level = cmd.values['log-level'] === undefined ? 'warn' : (config.logLevel as LogLevel);
    return tuneFromFile({
      specPath: cmd.args.spec,
      config,
      logger: createLogger({ level }),
      ...(cmd.values.json === true && { json: true }),
      ...(cmd.values.queue === true && { queue: true }),
      ...(cmd.values.concurrency !== undefined && { concurrency: Number(cmd.values.concurrency) }),
      ...(cmd.values.actor !== undefined && { actor: cmd.values.actor }),
    });
  },
});
