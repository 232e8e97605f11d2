/**
 * `stratum datasets list|show`: the dataset versions training runs recorded — content hash,
 * name, source, rows and the profile taken when the version was first seen — over
 * `/api/v1/datasets`. A dataset is named by its version (or the start of it) or by its name (the
 * newest version of that name).
 */
import type { DatasetVersionRecord } from '../../store/metadata-store.ts';
import { API_OPTIONS, PAGE_OPTIONS, type AnyParsedCommand, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatTime } from './format-values.ts';
import { resolvePrefix } from './resolve-prefix.ts';
import { formatTable } from './table.ts';

const FULL_VERSION = /^sha256:[0-9a-f]{64}$/;

/** `sha256:0123456789ab…`: enough to tell versions apart, and to type back. */
function shortVersion(version: string): string {
  return version.length > 19 ? `${version.slice(0, 19)}…` : version;
}

const list = defineCommand({
  name: 'list',
  summary: 'List dataset versions, newest first',
  args: [],
  options: {
    name: { type: 'string', value: 'name', description: 'only the versions of this dataset' },
    ...PAGE_OPTIONS,
    ...API_OPTIONS,
  },
  examples: ['stratum datasets list', 'stratum datasets list --name spam-assassin.jsonl --json'],
  async run(cmd) {
    const { name, cursor } = cmd.values;
    const page = await cmd.api.listDatasets({
      limit: String(cmd.number('limit') ?? 50),
      ...(name !== undefined && { name }),
      ...(cursor !== undefined && { cursor }),
    });
    // The profiles are the bulk of the reply and say nothing in a list: --json keeps them.
    cmd.print(page, () => {
      const table = formatTable({
        columns: ['version', 'name', 'rows', 'created', 'by', 'source'],
        alignRight: ['rows'],
        rows: page.items.map((d) => [
          shortVersion(d.version),
          d.name,
          d.numRows.toLocaleString('en-US'),
          formatTime(d.createdAt),
          d.createdBy,
          d.source,
        ]),
        empty: '(no dataset versions)',
      });
      return page.nextCursor === undefined ? table : `${table}(more: --cursor ${page.nextCursor})\n`;
    });
    return 0;
  },
});

/** The dataset version `given` names: a version, the start of one, or a dataset name (its newest version). */
async function datasetOf(
  cmd: Pick<AnyParsedCommand, 'api' | 'usageError'>,
  given: string,
): Promise<DatasetVersionRecord> {
  if (FULL_VERSION.test(given)) return cmd.api.getDataset(given);
  const named = await cmd.api.listDatasets({ name: given, limit: '1' });
  if (named.items[0] !== undefined) return named.items[0];
  const prefix = given.startsWith('sha256:') ? given : `sha256:${given}`;
  const version = await resolvePrefix({
    given: prefix,
    complete: (v) => FULL_VERSION.test(v),
    list: (cursor) => cmd.api.listDatasets({ limit: '1000', ...(cursor !== undefined && { cursor }) }),
    idOf: (d) => d.version,
    what: 'dataset version or name',
    usageError: cmd.usageError,
  });
  return cmd.api.getDataset(version);
}

const show = defineCommand({
  name: 'show',
  summary: 'A dataset version: source, rows and its profile, column by column',
  description:
    "A dataset version: its name, source, rows, and the profile recorded with it — per column the kind, missing values, min, median, max, mean, standard deviation, distinct count, top categories and a histogram. Name it by its version (or the start of it, as `datasets list` prints it) or by the dataset's name for its newest version.",
  args: [{ name: 'dataset', description: 'a version (sha256:…, or its first characters) or a dataset name' }],
  options: API_OPTIONS,
  examples: ['stratum datasets show spam-assassin.jsonl', 'stratum datasets show sha256:3f1c0a9e77d2'],
  async run(cmd) {
    const dataset = await datasetOf(cmd, cmd.args.dataset);
    // Loaded here: the profile's schema pulls in zod, which the other commands' start can do without.
    const [{ parseDatasetProfile }, { formatProfile }] = await Promise.all([
      import('../../data/profile/dataset-profile.ts'),
      import('../../data/profile/format-profile.ts'),
    ]);
    cmd.print(dataset, () => {
      const head = [
        `dataset ${dataset.name}  ${dataset.version}\n`,
        `  source   ${dataset.source}\n`,
        `  rows     ${dataset.numRows.toLocaleString('en-US')}\n`,
        `  created  ${formatTime(dataset.createdAt)} by ${dataset.createdBy}\n`,
      ].join('');
      let profile: string;
      try {
        profile = formatProfile(parseDatasetProfile(dataset.profile));
      } catch (error) {
        profile = `(the recorded profile cannot be read: ${(error as Error).message})`;
      }
      return `${head}\nprofile: ${profile}\n`;
    });
    return 0;
  },
});

/** `stratum datasets`. */
export const DATASETS_GROUP: CommandGroup = {
  name: 'datasets',
  summary: 'Dataset versions recorded by training runs, with their profiles',
  commands: [list, show],
};
