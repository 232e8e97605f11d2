/**
 * `stratum models push|list|show`: registers ONNX files as immutable versions and shows what the
 * registry holds, over the management API (`/api/v1/models`).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ApiClient } from '../../client/api-client.ts';
import type { AliasRecord, VersionRecord } from '../../store/metadata-store.ts';
import { COMMON_USAGE, type CommandRun, groupHelp, ioOf, parseCommand } from './command-context.ts';
import { DEFAULT_URL } from './command-context.ts';
import { formatBytes, formatMetrics, formatShape, formatTime, shortDigest } from './format-values.ts';
import { formatTable } from './table.ts';

const PUSH_USAGE =
  'stratum models push <file.onnx> --name <model> [--description <text>] [--tag <t>]… [--metric <k=v>]… [--alias <alias>]';
const LIST_USAGE = 'stratum models list [--name <substring>] [--tag <tag>] [--limit <n>] [--cursor <c>]';
const SHOW_USAGE = 'stratum models show <model>';

/** Help of `stratum models`. */
export const MODELS_HELP = `Usage:
  ${PUSH_USAGE}
      Register the file as the model's next version (it must be a valid ONNX model); --alias also
      points that alias at the new version. --json prints the version (with "alias" when moved).
  ${LIST_USAGE}
      List registered models.
  ${SHOW_USAGE}
      A model, its versions (newest first) and its aliases.
${COMMON_USAGE}
`;

/** Runs `stratum models …`; resolves with the exit code. */
export async function runModelsCommand(run: CommandRun): Promise<number> {
  const [subcommand, ...argv] = run.argv;
  const io = ioOf(run);
  if (subcommand === 'push') return push({ argv, io, defaultUrl: run.defaultUrl ?? DEFAULT_URL });
  if (subcommand === 'list') return list({ argv, io, defaultUrl: run.defaultUrl ?? DEFAULT_URL });
  if (subcommand === 'show') return show({ argv, io, defaultUrl: run.defaultUrl ?? DEFAULT_URL });
  return groupHelp({ run, help: MODELS_HELP, subcommand });
}

async function push(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({
    ...run,
    usage: PUSH_USAGE,
    flags: {
      name: { type: 'string' },
      description: { type: 'string' },
      tag: { type: 'string', multiple: true },
      metric: { type: 'string', multiple: true },
      alias: { type: 'string' },
    },
    required: ['file'],
  });
  const { name, description, tag, metric, alias } = cmd.values;
  if (name === undefined) throw cmd.usageError('missing --name <model>');
  // The API takes tags as one comma-separated query parameter.
  const badTag = tag?.find((t) => t === '' || t.includes(','));
  if (badTag !== undefined) throw cmd.usageError(`--tag must be non-empty and without commas, got "${badTag}"`);
  const metrics: Record<string, number> = {};
  for (const pair of metric ?? []) {
    const eq = pair.indexOf('=');
    const value = Number(pair.slice(eq + 1));
    if (eq <= 0 || pair.slice(eq + 1).trim() === '' || !Number.isFinite(value)) {
      throw cmd.usageError(`--metric must look like name=number, got "${pair}"`);
    }
    metrics[pair.slice(0, eq)] = value;
  }
  const bytes = await readFile(cmd.args.file).catch((error: unknown) => {
    throw cmd.usageError(`cannot read ${cmd.args.file}: ${(error as Error).message}`);
  });
  if (!cmd.json) cmd.note(`uploading ${basename(cmd.args.file)} (${formatBytes(bytes.length)}) to model "${name}"…`);
  const version = await cmd.api.pushVersion({
    model: name,
    bytes,
    ...(description !== undefined && { description }),
    ...(tag !== undefined && { tags: tag }),
    ...(metric !== undefined && { metrics }),
    // Registered with its alias in one write: a refused move leaves no version behind.
    ...(alias !== undefined && { alias: { name: alias, reason: 'pushed with --alias' } }),
  });
  const moved = alias === undefined ? undefined : await cmd.api.getAlias(name, alias);
  cmd.print(moved === undefined ? version : { ...version, alias: moved }, () => {
    const lines = [
      `registered ${version.model} version ${version.version} (sha256 ${shortDigest(version.artifactDigest)}, ${formatBytes(version.artifactSize)})\n`,
      signatureTable(version),
    ];
    if (moved !== undefined) lines.push(`alias ${moved.alias} → version ${moved.version} (etag ${moved.etag})\n`);
    return lines.join('');
  });
  return 0;
}

function signatureTable(version: VersionRecord): string {
  const rows = [
    ...version.signature.inputs.map((t) => ['input', t.name, t.datatype, formatShape(t.shape)]),
    ...version.signature.outputs.map((t) => ['output', t.name, t.datatype, formatShape(t.shape)]),
  ];
  return formatTable({ columns: ['', 'tensor', 'datatype', 'shape'], rows });
}

async function list(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({
    ...run,
    usage: LIST_USAGE,
    flags: { name: { type: 'string' }, tag: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    required: [],
  });
  const limit = cmd.number('limit', { integer: true, min: 1 });
  const { name, tag, cursor } = cmd.values;
  const page = await cmd.api.listModels({
    ...(name !== undefined && { name }),
    ...(tag !== undefined && { tag }),
    ...(limit !== undefined && { limit: String(limit) }),
    ...(cursor !== undefined && { cursor }),
  });
  cmd.print(page, () => {
    const table = formatTable({
      columns: ['model', 'tags', 'created', 'by', 'description'],
      rows: page.items.map((m) => [m.name, m.tags.join(','), formatTime(m.createdAt), m.createdBy, m.description]),
      empty: '(no models)',
    });
    return page.nextCursor === undefined ? table : `${table}(more: --cursor ${page.nextCursor})\n`;
  });
  return 0;
}

/** Every version of a model, newest first (the API's order), across pages. */
async function allVersions(api: ApiClient, model: string): Promise<VersionRecord[]> {
  const versions: VersionRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.listVersions(model, { limit: '1000', ...(cursor !== undefined && { cursor }) });
    versions.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return versions;
}

async function show(run: Required<CommandRun>): Promise<number> {
  const cmd = parseCommand({ ...run, usage: SHOW_USAGE, flags: {}, required: ['model'] });
  const name = cmd.args.model;
  const model = await cmd.api.getModel(name);
  const [versions, aliases] = await Promise.all([allVersions(cmd.api, name), cmd.api.listAliases(name)]);
  cmd.print({ model, versions, aliases: aliases.items }, () => {
    const head = [
      `model ${model.name}${model.description === '' ? '' : ` — ${model.description}`}\n`,
      `created ${formatTime(model.createdAt)} by ${model.createdBy}${model.tags.length > 0 ? `, tags ${model.tags.join(',')}` : ''}\n`,
    ].join('');
    return `${head}\nversions\n${versionsTable(versions)}\naliases\n${aliasesTable(aliases.items)}`;
  });
  return 0;
}

function versionsTable(versions: readonly VersionRecord[]): string {
  return formatTable({
    columns: ['version', 'created', 'digest', 'size', 'status', 'tags', 'metrics'],
    alignRight: ['version', 'size'],
    rows: versions.map((v) => [
      String(v.version),
      formatTime(v.createdAt),
      shortDigest(v.artifactDigest),
      formatBytes(v.artifactSize),
      v.status,
      v.tags.join(','),
      formatMetrics(v.metrics),
    ]),
    empty: '(no versions)',
  });
}

/** The aliases of a model as a table (shared with `stratum alias list`). */
export function aliasesTable(aliases: readonly AliasRecord[]): string {
  return formatTable({
    columns: ['alias', 'version', 'etag', 'updated', 'by'],
    rows: aliases.map((a) => [a.alias, String(a.version), `"${a.revision}"`, formatTime(a.updatedAt), a.updatedBy]),
    empty: '(no aliases)',
  });
}
