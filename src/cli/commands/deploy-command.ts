/**
 * `stratum deploy create|list|show|status|events|delete` and, through the rollout module,
 * `rollout|abort`: deployments of registered models over `/api/v1/deployments`.
 */
import { readFile } from 'node:fs/promises';
import type { DeploymentWithEtag } from '../../client/api-client.ts';
import type { DeploymentEvent } from '../../store/metadata-store.ts';
import { versionNumber } from './command-context.ts';
import { API_OPTIONS, PAGE_OPTIONS, type CommandGroup, defineCommand, type ParsedCommand } from './command-spec.ts';
import { describeCanary, describeEvent, describeRoutes, statusText } from './deployment-text.ts';
import { formatTime } from './format-values.ts';
import { abortCommand, rolloutCommand, waitConverged } from './rollout-command.ts';
import { formatTable } from './table.ts';

const CREATE_OPTIONS = {
  model: { type: 'string', value: 'm', default: "the deployment's name", description: 'the model to serve' },
  version: {
    type: 'string',
    value: 'v',
    multiple: true,
    description: 'route to this version (repeatable, one route each, in order with --alias)',
  },
  alias: {
    type: 'string',
    value: 'a',
    multiple: true,
    description: 'route through this alias: the deployment follows its moves (repeatable)',
  },
  weight: {
    type: 'string',
    value: 'w',
    multiple: true,
    default: 'equal shares',
    description: 'the share of traffic of each route, in the order of the routes (one per route, or none)',
  },
  'sticky-header': { type: 'string', value: 'h', description: 'keep a caller on one route by this request header' },
  'shadow-version': { type: 'string', value: 'v', description: 'copy traffic to this version and compare its answers' },
  'max-batch-size': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 0 },
    description: 'the largest batch the batcher forms',
  },
  instances: {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    description: 'execution instances per version',
  },
  description: { type: 'string', value: 'text', description: 'what the deployment is for' },
  spec: {
    type: 'string',
    value: 'spec.json',
    file: true,
    description: 'a full deployment spec instead of the flags above',
  },
  wait: { type: 'boolean', description: 'return once this server serves the deployment' },
  ...API_OPTIONS,
} as const;

type CreateCommand = ParsedCommand<typeof CREATE_OPTIONS, readonly [{ name: 'name'; description: string }]>;

const create = defineCommand({
  name: 'create',
  summary: 'Create a deployment serving versions or aliases of a model',
  description:
    'Create a deployment: a named endpoint (its name is the model name in the inference protocol) serving versions or aliases of a model, with weights. Several --version/--alias take one --weight each, in the same order. --spec sends a full deployment spec instead. --wait returns once this server serves it.',
  args: [{ name: 'name', description: 'the deployment (the name clients call)' }],
  options: CREATE_OPTIONS,
  usage: [
    'stratum deploy create <name> (--version <v> | --alias <a>)… [--weight <w>]… [--model <m>] [options]',
    'stratum deploy create <name> --spec <spec.json> [--wait]',
  ],
  examples: [
    'stratum deploy create digits --alias production --wait',
    'stratum deploy create digits-ab --model digits --version 1 --version 2 --weight 90 --weight 10 --sticky-header x-user',
  ],
  async run(cmd) {
    const body = cmd.values.spec === undefined ? await simpleSpec(cmd) : await specFile(cmd, cmd.values.spec);
    const deployment = await cmd.api.createDeployment({ ...body, name: cmd.args.name });
    if (cmd.values.wait === true) await waitConverged({ cmd, name: deployment.name, revision: deployment.revision });
    cmd.print(
      deployment,
      () =>
        `created deployment ${deployment.name} of model ${deployment.spec.model}: ${describeRoutes(deployment.spec.routes)} (etag ${deployment.etag})\n`,
    );
    return 0;
  },
});

/** The spec of the flag form: routes in the order their --version/--alias flags were given. */
async function simpleSpec(cmd: CreateCommand): Promise<Record<string, unknown>> {
  const targets: ({ version: number } | { alias: string })[] = [];
  for (const token of cmd.tokens) {
    if (token.value === undefined) continue;
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
  const maxBatchSize = cmd.number('max-batch-size');
  const instances = cmd.number('instances');
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
  const conflicting = Object.keys(CREATE_OPTIONS).filter(
    (flag) =>
      !(flag in API_OPTIONS) &&
      flag !== 'spec' &&
      flag !== 'wait' &&
      (cmd.values as Record<string, unknown>)[flag] !== undefined,
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

const list = defineCommand({
  name: 'list',
  summary: 'List deployments',
  args: [],
  options: {
    model: { type: 'string', value: 'm', description: 'only deployments of this model' },
    ...PAGE_OPTIONS,
    ...API_OPTIONS,
  },
  examples: ['stratum deploy list', 'stratum deploy list --model digits --json'],
  async run(cmd) {
    const limit = cmd.number('limit');
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
  },
});

const show = defineCommand({
  name: 'show',
  summary: 'A deployment: its spec, rollout state, revision and ETag',
  args: [{ name: 'name', description: 'the deployment' }],
  options: API_OPTIONS,
  examples: ['stratum deploy show digits'],
  async run(cmd) {
    const deployment = await cmd.api.getDeployment(cmd.args.name);
    cmd.print(deployment, () => showText(deployment));
    return 0;
  },
});

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

const status = defineCommand({
  name: 'status',
  summary: "This server's view: the revision it serves, loaded versions, the live canary window",
  args: [{ name: 'name', description: 'the deployment' }],
  options: API_OPTIONS,
  examples: ['stratum deploy status digits'],
  async run(cmd) {
    const reply = await cmd.api.deploymentStatus(cmd.args.name);
    cmd.print(reply, () => statusText(reply));
    return 0;
  },
});

const events = defineCommand({
  name: 'events',
  summary: 'What happened to a deployment, newest first',
  args: [{ name: 'name', description: 'the deployment' }],
  options: {
    ...PAGE_OPTIONS,
    ...API_OPTIONS,
  },
  examples: ['stratum deploy events digits --limit 20'],
  async run(cmd) {
    const limit = cmd.number('limit');
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
  },
});

function eventsTable(items: readonly DeploymentEvent[]): string {
  return formatTable({
    columns: ['when', 'kind', 'by', 'message'],
    rows: items.map((e) => [formatTime(e.at), e.kind, e.by, describeEvent(e)]),
    empty: '(no events)',
  });
}

const remove = defineCommand({
  name: 'delete',
  summary: 'Delete a deployment',
  args: [{ name: 'name', description: 'the deployment' }],
  options: API_OPTIONS,
  examples: ['stratum deploy delete digits-ab'],
  async run(cmd) {
    await cmd.api.deleteDeployment(cmd.args.name);
    cmd.print({ name: cmd.args.name, deleted: true }, () => `deleted deployment ${cmd.args.name}\n`);
    return 0;
  },
});

/** `stratum deploy`. */
export const DEPLOY_GROUP: CommandGroup = {
  name: 'deploy',
  summary: 'Deployments of registered models: create, inspect, roll out, abort',
  commands: [create, list, show, status, events, remove, rolloutCommand, abortCommand],
};
