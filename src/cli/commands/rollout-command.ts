/**
 * `stratum deploy rollout|abort`: starts a blue-green switch or a canary and, with `--wait`,
 * follows it on stderr until this server has converged and the canary has ended. The exit code
 * tells a script how it ended: 0 switched or promoted, 3 rolled back or aborted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentStatusReply, DeploymentWithEtag } from '../../client/api-client.ts';
import { StratumError } from '../../errors/index.ts';
import { versionNumber } from './command-context.ts';
import { type AnyParsedCommand, API_OPTIONS, defineCommand, type ParsedCommand } from './command-spec.ts';
import { canaryProgress, canaryStage, describeRoutes } from './deployment-text.ts';
import { createProgressLine } from './progress-line.ts';

/** How often `--wait` asks the server for the deployment's status (ms). */
const POLL_MS = 250;

/** Exit code of a rollout that ended with the stable version still serving. */
export const ROLLED_BACK_EXIT_CODE = 3;

const ratio = (description: string) => ({ type: 'string', value: 'r', number: { min: 0 }, description }) as const;

const ROLLOUT_OPTIONS = {
  strategy: {
    type: 'string',
    required: true,
    choices: ['blue-green', 'canary'],
    description: 'blue-green switches all traffic at once; canary moves it step by step behind gates',
  },
  version: { type: 'string', value: 'v', description: 'the version to roll out (or --alias)' },
  alias: { type: 'string', value: 'a', description: 'roll out the version this alias points at (or --version)' },
  steps: {
    type: 'string',
    value: '10,50,100',
    default: "the deployment's policy",
    description: 'canary: the share of traffic at each step, in percent',
  },
  'step-seconds': { type: 'string', value: 's', number: { min: 0 }, description: 'canary: how long each step lasts' },
  'min-requests': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    description: 'canary: requests a step needs before it is judged',
  },
  'compare-rate': ratio('canary: the share of canary requests also run on the stable version to compare outputs'),
  'max-error-rate': ratio('canary gate: roll back above this error rate'),
  confidence: {
    type: 'string',
    value: 'c',
    number: { min: 0.5 },
    default: '0.99',
    description: "canary: confidence of every gate's test (a breach needs p < 1 - c)",
  },
  'consecutive-breaches': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    default: '2',
    description: 'canary: checks in a row that must breach before it rolls back',
  },
  'max-wait-seconds': {
    type: 'string',
    value: 's',
    number: { min: 0 },
    default: '600',
    description: 'canary: how long a step waits for enough traffic before the canary is aborted',
  },
  'min-latency-shift-ms': {
    type: 'string',
    value: 'ms',
    number: { min: 0 },
    default: '1',
    description: 'canary gate: the least median latency shift (ms) that counts as slower',
  },
  'max-disagreement': ratio('canary gate: roll back above this share of outputs that disagree with the stable version'),
  reason: { type: 'string', value: 'text', description: 'why, recorded with the rollout' },
  force: {
    type: 'boolean',
    description: "roll out even if the version's inputs or outputs differ from the version being served",
  },
  wait: {
    type: 'boolean',
    description:
      'follow it until it ends (exit 0 switched or promoted, 3 rolled back); on a terminal one live line, otherwise one line per change',
  },
  timeout: {
    type: 'string',
    value: 's',
    number: { min: 0 },
    description: 'with --wait: give up waiting after this long',
  },
  ...API_OPTIONS,
} as const;

const CANARY_FLAGS = [
  'steps',
  'step-seconds',
  'min-requests',
  'compare-rate',
  'max-error-rate',
  'max-disagreement',
  'confidence',
  'consecutive-breaches',
  'max-wait-seconds',
  'min-latency-shift-ms',
] as const;

type RolloutCommand = ParsedCommand<typeof ROLLOUT_OPTIONS, readonly [{ name: 'name'; description: string }]>;

/** `stratum deploy rollout <name> …`. */
export const rolloutCommand = defineCommand({
  name: 'rollout',
  summary: 'Switch a deployment to a version: blue-green at once, or a canary step by step',
  description:
    "Switch all traffic at once (blue-green: the new version is loaded and warmed before it takes traffic) or step by step behind gates judged on evidence: its latency (Mann-Whitney U), error rate and disagreement with the stable version (canary; the flags override the deployment's canary policy; a gate breached on --consecutive-breaches checks in a row rolls back). Refused when the version does not fit what the deployment's clients use, unless it served the deployment before; --force rolls it out anyway (needs --reason). --wait follows it on stderr; exit code 0 when switched or promoted, 3 when rolled back or aborted.",
  args: [{ name: 'name', description: 'the deployment' }],
  options: ROLLOUT_OPTIONS,
  usage: ['stratum deploy rollout <name> --strategy <blue-green|canary> (--version <v> | --alias <a>) [options]'],
  examples: [
    'stratum deploy rollout digits --strategy blue-green --version 3 --wait',
    'stratum deploy rollout digits --strategy canary --version 2 --steps 5,25,50,100 --wait',
  ],
  run: rollout,
});

async function rollout(cmd: RolloutCommand): Promise<number> {
  const { strategy, version, alias, reason, force } = cmd.values;
  if ((version === undefined) === (alias === undefined))
    throw cmd.usageError('give exactly one of --version or --alias');
  if (force === true && (reason ?? '').trim() === '') throw cmd.usageError('--force needs --reason <why>');
  const canary = canaryOverrides(cmd);
  if (strategy === 'blue-green' && Object.keys(canary).length > 0) {
    throw cmd.usageError(
      `--${CANARY_FLAGS.filter((f) => cmd.values[f] !== undefined).join(', --')} apply to canaries only`,
    );
  }
  const timeout = cmd.number('timeout');
  if (timeout !== undefined && cmd.values.wait !== true) throw cmd.usageError('--timeout applies to --wait');
  const name = cmd.args.name;
  const started = await cmd.api.rollout({
    name,
    request: {
      strategy,
      ...(version !== undefined && { version: versionNumber(cmd, { what: '--version', raw: version }) }),
      ...(alias !== undefined && { alias }),
      ...(Object.keys(canary).length > 0 && { canary }),
      ...(reason !== undefined && { reason }),
      ...(force === true && { force: true }),
    },
  });
  if (cmd.values.wait !== true) {
    cmd.print(started, () => startedText(started));
    return 0;
  }
  if (!cmd.json) cmd.note(startedText(started).trimEnd());
  const deadline = timeout === undefined ? undefined : Date.now() + timeout * 1000;
  const ended =
    strategy === 'canary'
      ? await followCanary({ cmd, started, deadline })
      : { status: await waitConverged({ cmd, name, revision: started.revision, deadline }), code: 0 };
  cmd.print(ended.status, () => endedText(ended.status, strategy));
  const last = ended.status.canary;
  if (ended.code !== 0 && last) {
    cmd.note(
      `stratum: canary version ${last.canary} ${last.status.replace('_', ' ')}: ${last.reason ?? 'no reason given'}`,
    );
  }
  return ended.code;
}

/** The canary policy overrides given as flags. */
function canaryOverrides(cmd: RolloutCommand): Record<string, unknown> {
  const raw = cmd.values.steps;
  const steps = raw?.split(',').map((s) => {
    const step = Number(s);
    if (s.trim() === '' || !Number.isFinite(step))
      throw cmd.usageError(`--steps must be percentages like 10,50,100, got "${raw}"`);
    return step;
  });
  const stepSeconds = cmd.number('step-seconds');
  const minRequests = cmd.number('min-requests');
  const compareRate = cmd.number('compare-rate');
  const gates = {
    ...optional('maxErrorRate', cmd.number('max-error-rate')),
    ...optional('minLatencyShiftMs', cmd.number('min-latency-shift-ms')),
    ...optional('maxDisagreement', cmd.number('max-disagreement')),
  };
  return {
    ...optional('steps', steps),
    ...optional('stepSeconds', stepSeconds),
    ...optional('minRequests', minRequests),
    ...optional('compareRate', compareRate),
    ...optional('confidence', cmd.number('confidence')),
    ...optional('consecutiveBreaches', cmd.number('consecutive-breaches')),
    ...optional('maxWaitSeconds', cmd.number('max-wait-seconds')),
    ...(Object.keys(gates).length > 0 && { gates }),
  };
}

function optional<T>(key: string, value: T | undefined): Record<string, T> {
  return value === undefined ? {} : { [key]: value };
}

function startedText(d: DeploymentWithEtag): string {
  const canary = d.state.canary;
  if (canary?.status === 'running') {
    return `started a canary of version ${canary.canary} on ${d.name} against version ${canary.stable}: steps ${canary.policy.steps.join('% → ')}%\n`;
  }
  return `switched ${d.name} to ${describeRoutes(d.spec.routes)} (revision ${d.revision}); servers follow within moments\n`;
}

function endedText(status: DeploymentStatusReply, strategy: 'blue-green' | 'canary'): string {
  const canary = status.canary;
  if (strategy === 'canary' && canary?.status === 'promoted') {
    return `canary version ${canary.canary} promoted: ${status.name} serves it to all traffic\n`;
  }
  if (strategy === 'canary' && canary) {
    return `canary version ${canary.canary} ${canary.status.replace('_', ' ')}; all traffic on version ${canary.stable}\n`;
  }
  return `${status.name} now serves ${describeRoutes(status.desiredRoutes)} (revision ${status.revision})\n`;
}

/** Polls until this server serves `revision` (or a later one) of the deployment. */
export async function waitConverged(options: {
  cmd: Pick<AnyParsedCommand, 'api' | 'io'>;
  name: string;
  revision: number;
  deadline?: number | undefined;
}): Promise<DeploymentStatusReply> {
  const { cmd, name, revision } = options;
  const progress = createProgressLine(cmd.io.stderr);
  try {
    for (;;) {
      const status = await cmd.api.deploymentStatus(name);
      if (status.converged && status.revision >= revision) return status;
      const served = status.servedRevision === null ? 'nothing yet' : `revision ${status.servedRevision}`;
      const loading = status.replica?.loading === true ? ', loading' : '';
      progress.update(
        `waiting for this server to serve revision ${status.revision} of ${name} (serving ${served}${loading})`,
      );
      await pause({ name, deadline: options.deadline });
    }
  } finally {
    progress.done();
  }
}

/** Follows a canary until it ends and this server serves the outcome. */
async function followCanary(options: {
  cmd: RolloutCommand;
  started: DeploymentWithEtag;
  deadline: number | undefined;
}): Promise<{ status: DeploymentStatusReply; code: number }> {
  const { cmd, started } = options;
  const id = started.state.canary?.id;
  const name = started.name;
  const progress = createProgressLine(cmd.io.stderr);
  try {
    for (;;) {
      const status = await cmd.api.deploymentStatus(name);
      const canary = status.canary;
      if (!canary || canary.id !== id) {
        throw new StratumError('ROLLOUT_CONFLICT', `the canary on "${name}" was replaced by another rollout`);
      }
      // Off a terminal a line is printed per change of stage, not per poll (the counters move on
      // every poll); the verdict is the last line.
      progress.update(canaryProgress(status), canaryStage(status));
      if (canary.status !== 'running' && status.converged) {
        return { status, code: canary.status === 'promoted' ? 0 : ROLLED_BACK_EXIT_CODE };
      }
      await pause({ name, deadline: options.deadline });
    }
  } finally {
    progress.done();
  }
}

async function pause(options: { name: string; deadline: number | undefined }): Promise<void> {
  if (options.deadline !== undefined && Date.now() > options.deadline) {
    throw new StratumError(
      'MODEL_NOT_READY',
      `gave up waiting on "${options.name}" (--timeout); the rollout goes on — follow it with \`stratum deploy status ${options.name}\``,
    );
  }
  await sleep(POLL_MS);
}

/** `stratum deploy abort <name>`. */
export const abortCommand = defineCommand({
  name: 'abort',
  summary: 'Stop a running canary and send all traffic back to the stable version',
  args: [{ name: 'name', description: 'the deployment' }],
  options: { reason: { type: 'string', value: 'text', description: 'why, recorded with the abort' }, ...API_OPTIONS },
  examples: ['stratum deploy abort digits --reason "latency looks wrong"'],
  async run(cmd) {
    const reason = cmd.values.reason;
    const deployment = await cmd.api.abortRollout(cmd.args.name, reason);
    cmd.print(deployment, () => {
      const canary = deployment.state.canary;
      return canary === undefined
        ? `aborted the canary on ${deployment.name}\n`
        : `aborted the canary of version ${canary.canary} on ${deployment.name}: ${canary.reason ?? ''}; all traffic on version ${canary.stable}\n`;
    });
    return 0;
  },
});
