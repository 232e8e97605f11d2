/**
 * `stratum models push|list|show`: registers ONNX files as immutable versions and shows what the
 * registry holds — each version with its description, the run that made it and that run's lineage
 * (dataset version, code commit) — over the management API (`/api/v1/models`, `/api/v1/runs`).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ApiClient } from '../../client/api-client.ts';
import type { AliasRecord, RunRecord, VersionRecord } from '../../store/metadata-store.ts';
import { API_OPTIONS, PAGE_OPTIONS, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatBytes, formatMetrics, formatShape, formatTime, shortDigest } from './format-values.ts';
import { formatTable } from './table.ts';

const push = defineCommand({
  name: 'push',
  summary: "Register an ONNX file as a model's next version",
  description:
    'Register the file as the model\'s next version (it must be a valid ONNX model; its signature is read from the graph). --alias also points that alias at the new version. --json prints the version (with "alias" when moved).',
  args: [{ name: 'file', description: 'the ONNX model to upload', file: true }],
  options: {
    name: { type: 'string', value: 'model', required: true, description: 'the model to add a version to' },
    description: { type: 'string', value: 'text', description: 'what this version is' },
    tag: { type: 'string', value: 'tag', multiple: true, description: 'a tag of the version (repeatable)' },
    metric: {
      type: 'string',
      value: 'k=v',
      multiple: true,
      description: 'a metric of the version, name=number (repeatable)',
    },
    alias: { type: 'string', value: 'alias', description: 'also point this alias at the new version' },
    ...API_OPTIONS,
  },
  examples: [
    'stratum models push model.onnx --name digits --description "MNIST MLP" --alias production',
    'stratum models push retrained.onnx --name digits --metric accuracy=0.981 --tag mnist',
  ],
  async run(cmd) {
    const { name, description, tag, metric, alias } = cmd.values;
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
  },
});

const list = defineCommand({
  name: 'list',
  summary: 'List registered models',
  args: [],
  options: {
    name: { type: 'string', value: 'substring', description: 'only models whose name contains this' },
    tag: { type: 'string', value: 'tag', description: 'only models with this tag' },
    ...PAGE_OPTIONS,
    ...API_OPTIONS,
  },
  examples: ['stratum models list', 'stratum models list --tag mnist --json'],
  async run(cmd) {
    const limit = cmd.number('limit');
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
  },
});

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

/** The runs the versions' lineage names, by id (a run that is gone is left out). */
async function runsOf(api: ApiClient, versions: readonly VersionRecord[]): Promise<Map<string, RunRecord>> {
  const ids = [...new Set(versions.flatMap((v) => (v.lineage.runId === undefined ? [] : [v.lineage.runId])))];
  const runs = await Promise.all(ids.map((id) => api.getRun(id).catch(() => undefined)));
  return new Map(runs.flatMap((run) => (run === undefined ? [] : [[run.id, run] as const])));
}

const show = defineCommand({
  name: 'show',
  summary: 'A model, its versions (with run, lineage and metrics) and its aliases',
  description:
    "A model, then each version newest first: status, digest, size, description, tags, the run that trained it with its lineage (dataset version, code commit) and its metrics to 3 significant digits, then the model's aliases. --json prints the records in full precision, with the runs.",
  args: [{ name: 'model', description: 'the model' }],
  options: API_OPTIONS,
  examples: ['stratum models show digits', "stratum models show digits --json | jq '.versions[0].metrics'"],
  async run(cmd) {
    const name = cmd.args.model;
    const model = await cmd.api.getModel(name);
    const [versions, aliases] = await Promise.all([allVersions(cmd.api, name), cmd.api.listAliases(name)]);
    const runs = await runsOf(cmd.api, versions);
    cmd.print({ model, versions, aliases: aliases.items, runs: [...runs.values()] }, () => {
      const head = [
        `model ${model.name}${model.description === '' ? '' : ` — ${model.description}`}\n`,
        `created ${formatTime(model.createdAt)} by ${model.createdBy}${model.tags.length > 0 ? `, tags ${model.tags.join(',')}` : ''}\n`,
      ].join('');
      const body = versions.length === 0 ? '(no versions)\n' : versions.map((v) => versionText(v, runs)).join('\n');
      return `${head}\nversions\n${body}\naliases\n${aliasesTable(aliases.items)}`;
    });
    return 0;
  },
});

/** One version as a block: a head line, then the fields it has, aligned. */
function versionText(version: VersionRecord, runs: ReadonlyMap<string, RunRecord>): string {
  const { lineage } = version;
  const run = lineage.runId === undefined ? undefined : runs.get(lineage.runId);
  const fields: [string, string][] = [];
  if (version.description !== '') fields.push(['description', version.description]);
  if (version.tags.length > 0) fields.push(['tags', version.tags.join(', ')]);
  if (lineage.runId !== undefined) {
    fields.push(['run', run === undefined ? `${lineage.runId} (not found)` : `${run.id} (${run.name}, ${run.status})`]);
  }
  const dataset = lineage.datasetVersion ?? run?.datasetVersion;
  if (dataset !== undefined)
    fields.push(['dataset', `${dataset}${lineage.source === undefined ? '' : ` (${lineage.source})`}`]);
  if (run?.codeVersion !== undefined) fields.push(['commit', run.codeVersion]);
  if (lineage.parentVersion !== undefined) fields.push(['parent', `version ${lineage.parentVersion}`]);
  if (Object.keys(version.metrics).length > 0) fields.push(['metrics', formatMetrics(version.metrics)]);
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  const head = `version ${version.version}  ${version.status}  ${formatTime(version.createdAt)} by ${version.createdBy}  sha256 ${shortDigest(version.artifactDigest)}  ${formatBytes(version.artifactSize)}\n`;
  return head + fields.map(([label, value]) => `  ${label.padEnd(width)}  ${value}\n`).join('');
}

/** `stratum models`. */
export const MODELS_GROUP: CommandGroup = {
  name: 'models',
  summary: 'Register model versions and see what the registry holds',
  commands: [push, list, show],
};

function signatureTable(version: VersionRecord): string {
  const rows = [
    ...version.signature.inputs.map((t) => ['input', t.name, t.datatype, formatShape(t.shape)]),
    ...version.signature.outputs.map((t) => ['output', t.name, t.datatype, formatShape(t.shape)]),
  ];
  return formatTable({ columns: ['', 'tensor', 'datatype', 'shape'], rows });
}

/** The aliases of a model as a table (shared with `stratum alias list`). */
export function aliasesTable(aliases: readonly AliasRecord[]): string {
  return formatTable({
    columns: ['alias', 'version', 'etag', 'updated', 'by'],
    rows: aliases.map((a) => [a.alias, String(a.version), `"${a.revision}"`, formatTime(a.updatedAt), a.updatedBy]),
    empty: '(no aliases)',
  });
}
