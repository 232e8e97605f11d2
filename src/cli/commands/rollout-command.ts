/**
 * `stratum deploy rollout|abort`: starts a blue-green switch or a canary and, with `--wait`,
 * follows it on stderr until this server has converged and the canary has ended. The exit code
 * tells a script how it ended: 0 switched or promoted, 3 rolled back or aborted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentStatusReply, DeploymentWithEtag } from '../../client/api-client.ts';
import { StratumError } from '../../errors/index.ts';
import { type CommandRun, type ParsedCommand, parseCommand, versionNumber } from './command-context.ts';
import { canaryProgress, describeRoutes } from './deployment-text.ts';
import { createProgressLine } from './progress-line.ts';

const ROLLOUT_USAGE =
  'stratum deploy rollout <name> --strategy blue-green|canary (--version <v> | --alias <a>) [--steps 10,50,100] [--step-seconds <s>] [--min-requests <n>] [--compare-rate <r>] [--max-error-rate <r>] [--max-p99-ratio <x>] [--max-disagreement <r>] [--reason <text>] [--force] [--wait [--timeout <s>]]';
const ABORT_USAGE = 'stratum deploy abort <name> [--reason <text>]';

/** The rollout part of `stratum deploy`'s help. */
export const ROLLOUT_HELP = `  ${ROLLOUT_USAGE}
      Switch all traffic at once (blue-green) or step by step behind gates (canary; the flags
      override the deployment's canary policy). Refused when the version does not fit what the
      deployment's clients use, unless it served the deployment before; --force rolls it out
      anyway (needs --reason). --wait follows it on stderr; exit code 0 when switched or
      promoted, 3 when rolled back or aborted.
  ${ABORT_USAGE}
      Stop a running canary and send all traffic back to the stable version.
`;

/** How often `--wait` asks the server for the deployment's status (ms). */
const POLL_MS = 250;

/** Exit code of a rollout that ended with the stable version still serving. */
export const ROLLED_BACK_EXIT_CODE = 3;

const ROLLOUT_FLAGS = {
  strategy: { type: 'string' },
  version: { type: 'string' },
  alias: { type: 'string' },
  steps: { type: 'string' },
  'step-seconds': { type: 'string' },
  'min-requests': { type: 'string' },
  'compare-rate': { type: 'string' },
  'max-error-rate': { type: 'string' },
  'max-p99-ratio': { type: 'string' },
  'max-disagreement': { type: 'string' },
  reason: { type: 'string' },
  force: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

const CANARY_FLAGS = [
  'steps',
  'step-seconds',
  'min-requests',
  'compare-rate',
  'max-error-rate',
  'max-p99-ratio',
  'max-disagreement',
] as const;

type RolloutCommand = ParsedCommand<typeof ROLLOUT_FLAGS, 'name', never>;

/** Runs `stratum deploy rollout <name> …`. */
export async function rollout(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: ROLLOUT_USAGE, flags: ROLLOUT_FLAGS, required: ['name'] });
  const { strategy, version, alias, reason } = cmd.values;
  if (strategy !== 'blue-green' && strategy !== 'canary') {
    throw cmd.usageError(
      `--strategy must be blue-green or canary, got ${strategy === undefined ? 'nothing' : `"${strategy}"`}`,
    );
  }
  if ((version === undefined) === (alias === undefined))
    throw cmd.usageError('give exactly one of --version or --alias');
  const force = cmd.values.force === true;
  if (force && (reason ?? '').trim() === '') throw cmd.usageError('--force needs --reason <why>');
  const canary = canaryOverrides(cmd);
  if (strategy === 'blue-green' && Object.keys(canary).length > 0) {
    throw cmd.usageError(
      `--${CANARY_FLAGS.filter((f) => cmd.values[f] !== undefined).join(', --')} apply to canaries only`,
    );
  }
  const timeout = cmd.number('timeout', { min: 0 });
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
      ...(force && { force }),
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
  const stepSeconds = cmd.number('step-seconds', { min: 0 });
  const minRequests = cmd.number('min-requests', { integer: true, min: 1 });
  const compareRate = cmd.number('compare-rate', { min: 0 });
  const gates = {
    ...optional('maxErrorRate', cmd.number('max-error-rate', { min: 0 })),
    ...optional('maxP99Ratio', cmd.number('max-p99-ratio', { min: 0 })),
    ...optional('maxDisagreement', cmd.number('max-disagreement', { min: 0 })),
  };
  return {
    ...optional('steps', steps),
    ...optional('stepSeconds', stepSeconds),
    ...optional('minRequests', minRequests),
    ...optional('compareRate', compareRate),
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
  cmd: Pick<ParsedCommand<never, string, string>, 'api' | 'io'>;
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
      if (canary.status !== 'running' && status.converged) {
        return { status, code: canary.status === 'promoted' ? 0 : ROLLED_BACK_EXIT_CODE };
      }
      progress.update(canaryProgress(status));
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

/** Runs `stratum deploy abort <name>`. */
export async function abortRollout(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: ABORT_USAGE, flags: { reason: { type: 'string' } }, required: ['name'] });
  const reason = cmd.values.reason;
  const deployment = await cmd.api.abortRollout(cmd.args.name, reason);
  cmd.print(deployment, () => {
    const canary = deployment.state.canary;
    return canary === undefined
      ? `aborted the canary on ${deployment.name}\n`
      : `aborted the canary of version ${canary.canary} on ${deployment.name}: ${canary.reason ?? ''}; all traffic on version ${canary.stable}\n`;
  });
  return 0;
}
