/**
 * `stratum deploy create|list|show|status|events|delete` and, through the rollout module,
 * `rollout|abort`: deployments of registered models over `/api/v1/deployments`.
 */
import { readFile } from 'node:fs/promises';
import type { DeploymentWithEtag } from '../../client/api-client.ts';
import type { DeploymentEvent } from '../../store/metadata-store.ts';
import {
  COMMON_USAGE,
  type CommandRun,
  groupHelp,
  ioOf,
  type ParsedCommand,
  parseCommand,
  versionNumber,
} from './command-context.ts';
import { DEFAULT_URL } from './command-context.ts';
import { describeCanary, describeEvent, describeRoutes, statusText } from './deployment-text.ts';
import { formatTime } from './format-values.ts';
import { ROLLOUT_HELP, abortRollout, rollout, waitConverged } from './rollout-command.ts';
import { formatTable } from './table.ts';

const CREATE_USAGE =
  'stratum deploy create <name> ((--version <v> | --alias <a>)… [--weight <w>]… [--model <m>] [--sticky-header <h>] [--shadow-version <v>] [--max-batch-size <n>] [--instances <n>] | --spec <spec.json>) [--wait]';
const LIST_USAGE = 'stratum deploy list [--model <m>] [--limit <n>] [--cursor <c>]';
const SHOW_USAGE = 'stratum deploy show <name>';
const STATUS_USAGE = 'stratum deploy status <name>';
const EVENTS_USAGE = 'stratum deploy events <name> [--limit <n>] [--cursor <c>]';
const DELETE_USAGE = 'stratum deploy delete <name>';

/** Help of `stratum deploy`. */
export const DEPLOY_HELP = `Usage:
  ${CREATE_USAGE}
      Create a deployment serving versions (or aliases) of a model (default: the model named like
      the deployment). Several --version/--alias take --weight each, in the same order (default:
      equal shares). --spec sends a full deployment spec instead. --wait: until this server serves it.
  ${LIST_USAGE}
  ${SHOW_USAGE}
      The spec, the rollout state, the revision and ETag.
  ${STATUS_USAGE}
      This server's view: the revision it serves, loaded versions, the live canary window.
  ${EVENTS_USAGE}
      What happened to the deployment, newest first.
  ${DELETE_USAGE}
${ROLLOUT_HELP}${COMMON_USAGE}
`;

/** Runs `stratum deploy …`; resolves with the exit code. */
export async function runDeployCommand(run: CommandRun): Promise<number> {
  const [subcommand, ...argv] = run.argv;
  const sub = { argv, io: ioOf(run), defaultUrl: run.defaultUrl ?? DEFAULT_URL };
  switch (subcommand) {
    case 'create':
      return create(sub);
    case 'list':
      return list(sub);
    case 'show':
      return show(sub);
    case 'status':
      return status(sub);
    case 'events':
      return events(sub);
    case 'delete':
      return remove(sub);
    case 'rollout':
      return rollout(sub);
    case 'abort':
      return abortRollout(sub);
    default:
      return groupHelp({ run, help: DEPLOY_HELP, subcommand });
  }
}

const CREATE_FLAGS = {
  model: { type: 'string' },
  version: { type: 'string', multiple: true },
  alias: { type: 'string', multiple: true },
  weight: { type: 'string', multiple: true },
  'sticky-header': { type: 'string' },
  'shadow-version': { type: 'string' },
  'max-batch-size': { type: 'string' },
  instances: { type: 'string' },
  description: { type: 'string' },
  spec: { type: 'string' },
  wait: { type: 'boolean' },
} as const;

type CreateCommand = ParsedCommand<typeof CREATE_FLAGS, 'name', never>;

async function create(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: CREATE_USAGE, flags: CREATE_FLAGS, required: ['name'] });
  const body = cmd.values.spec === undefined ? await simpleSpec(cmd) : await specFile(cmd, cmd.values.spec);
  const deployment = await cmd.api.createDeployment({ ...body, name: cmd.args.name });
  if (cmd.values.wait === true) await waitConverged({ cmd, name: deployment.name, revision: deployment.revision });
  cmd.print(
    deployment,
    () =>
      `created deployment ${deployment.name} of model ${deployment.spec.model}: ${describeRoutes(deployment.spec.routes)} (etag ${deployment.etag})\n`,
  );
  return 0;
}

/** The spec of the flag form: routes in the order their --version/--alias flags were given. */
async function simpleSpec(cmd: CreateCommand): Promise<Record<string, unknown>> {
  const targets: ({ version: number } | { alias: string })[] = [];
  for (const token of cmd.tokens) {
    if (token.kind !== 'option' || token.value === undefined) continue;
    if (token.name === 'alias') targets.push({ alias: token.value });
    if (token.name === 'version')
      targets.push({ version: versionNumber(cmd, { what: '--version', raw: token.value }) });
  }
  if (targets.length === 0) throw cmd.usageError('give --version <v> or --alias <a> (or --spec <file>)');
  const weights = (cmd.values.weight ?? []).map((raw) => {
    const weight = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(weight)) throw cmd.usageError(`--weight must be a number, got "${raw}"`);
    return weight;
  });
  if (weights.length > 0 && weights.length !== targets.length) {
    throw cmd.usageError(`${targets.length} routes but ${weights.length} --weight values: give one per route, or none`);
  }
  const routes = targets.map((t, i) => ({ ...t, weight: weights[i] ?? 100 / targets.length }));
  const shadow = cmd.values['shadow-version'];
  const sticky = cmd.values['sticky-header'];
  const maxBatchSize = cmd.number('max-batch-size', { integer: true, min: 0 });
  const instances = cmd.number('instances', { integer: true, min: 1 });
  const serving = {
    ...(maxBatchSize !== undefined && { maxBatchSize }),
    ...(instances !== undefined && { instances }),
  };
  return {
    ...(cmd.values.model !== undefined && { model: cmd.values.model }),
    routes,
    ...(shadow !== undefined && { shadow: { version: versionNumber(cmd, { what: '--shadow-version', raw: shadow }) } }),
    ...(sticky !== undefined && { sticky: { header: sticky } }),
    ...(Object.keys(serving).length > 0 && { serving }),
    ...(cmd.values.description !== undefined && { description: cmd.values.description }),
  };
}

async function specFile(cmd: CreateCommand, path: string): Promise<Record<string, unknown>> {
  const conflicting = Object.keys(CREATE_FLAGS).filter(
    (flag) => flag !== 'spec' && flag !== 'wait' && (cmd.values as Record<string, unknown>)[flag] !== undefined,
  );
  if (conflicting.length > 0) {
    throw cmd.usageError(`--spec replaces the route flags; drop --${conflicting.join(', --')} or put them in the file`);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw cmd.usageError(`--spec ${path}: ${(error as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw cmd.usageError(`--spec ${path} must hold a JSON object (a deployment spec)`);
  }
  return spec as Record<string, unknown>;
}

async function list(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({
    ...run,
    usage: LIST_USAGE,
    flags: { model: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    required: [],
  });
  const limit = cmd.number('limit', { integer: true, min: 1 });
  const { model, cursor } = cmd.values;
  const page = await cmd.api.listDeployments({
    ...(model !== undefined && { model }),
    ...(limit !== undefined && { limit: String(limit) }),
    ...(cursor !== undefined && { cursor }),
  });
  cmd.print(page, () => {
    const table = formatTable({
      columns: ['deployment', 'model', 'routes', 'canary', 'etag', 'updated', 'by'],
      rows: page.items.map((d) => [
        d.name,
        d.spec.model,
        describeRoutes(d.spec.routes),
        d.state.canary?.status === 'running' ? `v${d.state.canary.canary} running` : '',
        d.etag,
        formatTime(d.updatedAt),
        d.updatedBy,
      ]),
      empty: '(no deployments)',
    });
    return page.nextCursor === undefined ? table : `${table}(more: --cursor ${page.nextCursor})\n`;
  });
  return 0;
}

async function show(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: SHOW_USAGE, flags: {}, required: ['name'] });
  const deployment = await cmd.api.getDeployment(cmd.args.name);
  cmd.print(deployment, () => showText(deployment));
  return 0;
}

function showText(d: DeploymentWithEtag): string {
  const indent = (value: unknown): string => JSON.stringify(value, null, 2).replaceAll('\n', '\n  ');
  const lines = [
    `deployment ${d.name} of model ${d.spec.model}: revision ${d.revision} (etag ${d.etag}), updated ${formatTime(d.updatedAt)} by ${d.updatedBy}`,
    `routes: ${describeRoutes(d.spec.routes)}`,
    ...(d.state.canary === undefined ? [] : [describeCanary(d.state.canary)]),
    `spec:\n  ${indent(d.spec)}`,
  ];
  return lines.map((l) => `${l}\n`).join('');
}

async function status(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: STATUS_USAGE, flags: {}, required: ['name'] });
  const reply = await cmd.api.deploymentStatus(cmd.args.name);
  cmd.print(reply, () => statusText(reply));
  return 0;
}

async function events(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({
    ...run,
    usage: EVENTS_USAGE,
    flags: { limit: { type: 'string' }, cursor: { type: 'string' } },
    required: ['name'],
  });
  const limit = cmd.number('limit', { integer: true, min: 1 });
  const { cursor } = cmd.values;
  const page = await cmd.api.deploymentEvents(cmd.args.name, {
    ...(limit !== undefined && { limit: String(limit) }),
    ...(cursor !== undefined && { cursor }),
  });
  cmd.print(page, () => {
    const table = eventsTable(page.items);
    return page.nextCursor === undefined ? table : `${table}(more: --cursor ${page.nextCursor})\n`;
  });
  return 0;
}

function eventsTable(items: readonly DeploymentEvent[]): string {
  return formatTable({
    columns: ['when', 'kind', 'by', 'message'],
    rows: items.map((e) => [formatTime(e.at), e.kind, e.by, describeEvent(e)]),
    empty: '(no events)',
  });
}

async function remove(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: DELETE_USAGE, flags: {}, required: ['name'] });
  await cmd.api.deleteDeployment(cmd.args.name);
  cmd.print({ name: cmd.args.name, deleted: true }, () => `deleted deployment ${cmd.args.name}\n`);
  return 0;
}
