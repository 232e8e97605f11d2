/**
 * `stratum runs list|show|compare`: the tracked runs `stratum train` records — parameters,
 * dataset and code versions, metrics, artifacts — over `/api/v1/runs`, with metrics rounded for
 * people (full precision with `--json`). A run may be named by the start of its id.
 */
import type { ApiClient } from '../../client/api-client.ts';
import type { RunMetric, RunRecord } from '../../store/metadata-store.ts';
import { API_OPTIONS, PAGE_OPTIONS, type AnyParsedCommand, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatBytes, formatDuration, formatMetrics, formatNumber, formatTime, shortDigest } from './format-values.ts';
import { resolvePrefix } from './resolve-prefix.ts';
import { formatTable } from './table.ts';

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The metrics a run list shows first, when the run has them. */
const HEADLINE_METRICS = ['accuracy', 'roc_auc', 'f1', 'rmse', 'mae', 'r2'];

/** The run whose id is or starts with `given`. */
async function runIdOf(cmd: Pick<AnyParsedCommand, 'api' | 'usageError'>, given: string): Promise<string> {
  return resolvePrefix({
    given,
    complete: (id) => RUN_ID.test(id),
    list: (cursor) => cmd.api.listRuns({ limit: '1000', ...(cursor !== undefined && { cursor }) }),
    idOf: (run) => run.id,
    what: 'run',
    usageError: cmd.usageError,
  });
}

function duration(run: RunRecord): string {
  return run.finishedAt === undefined ? 'running' : formatDuration(run.finishedAt - run.startedAt);
}

function headline(metrics: Readonly<Record<string, number>>): string {
  const keys = HEADLINE_METRICS.filter((k) => k in metrics);
  const shown = (keys.length > 0 ? keys : Object.keys(metrics)).slice(0, 3);
  return formatMetrics(Object.fromEntries(shown.map((k) => [k, metrics[k] as number])));
}

const list = defineCommand({
  name: 'list',
  summary: 'List tracked runs, newest first',
  args: [],
  options: {
    experiment: {
      type: 'string',
      value: 'name',
      description: "only the runs of this experiment (the training spec's name)",
    },
    status: { type: 'string', choices: ['running', 'succeeded', 'failed'], description: 'only runs in this state' },
    ...PAGE_OPTIONS,
    ...API_OPTIONS,
  },
  examples: ['stratum runs list', 'stratum runs list --experiment spam-logistic --limit 5'],
  async run(cmd) {
    const { experiment, status, cursor } = cmd.values;
    const page = await cmd.api.listRuns({
      limit: String(cmd.number('limit') ?? 50),
      ...(experiment !== undefined && { name: experiment }),
      ...(status !== undefined && { status }),
      ...(cursor !== undefined && { cursor }),
    });
    cmd.print(page, () => {
      const table = formatTable({
        columns: ['run', 'experiment', 'status', 'started', 'took', 'metrics'],
        rows: page.items.map((r) => [
          r.id,
          r.name,
          r.status,
          formatTime(r.startedAt),
          duration(r),
          headline(r.metrics),
        ]),
        empty: '(no runs)',
      });
      return page.nextCursor === undefined ? table : `${table}(more: --cursor ${page.nextCursor})\n`;
    });
    return 0;
  },
});

/** A run's parameters as `path → value` rows (nested objects joined with dots, arrays as JSON). */
export function flattenParams(params: unknown, prefix = ''): [string, string][] {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return [[prefix, typeof params === 'string' ? params : JSON.stringify(params)]];
  }
  return Object.entries(params).flatMap(([key, value]) =>
    flattenParams(value, prefix === '' ? key : `${prefix}.${key}`),
  );
}

/** The last value of each stepped metric (`train_loss`, `validation_loss`), with its step. */
function finalSteps(metrics: readonly RunMetric[]): Map<string, RunMetric> {
  const last = new Map<string, RunMetric>();
  for (const metric of metrics) {
    const seen = last.get(metric.key);
    if (seen === undefined || metric.step > seen.step) last.set(metric.key, metric);
  }
  return last;
}

async function describedDataset(api: ApiClient, version: string | undefined): Promise<string> {
  if (version === undefined) return '';
  const dataset = await api.getDataset(version).catch(() => undefined);
  return dataset === undefined
    ? version
    : `${version} (${dataset.name}, ${dataset.numRows.toLocaleString('en-US')} rows)`;
}

const show = defineCommand({
  name: 'show',
  summary: 'A run: parameters, metrics, dataset, code version and artifacts',
  args: [{ name: 'run', description: 'the run id, or its first characters' }],
  options: API_OPTIONS,
  examples: ['stratum runs show 1f0c2a9e', 'stratum runs show 1f0c2a9e --json | jq .metrics'],
  async run(cmd) {
    const run = await cmd.api.getRun(await runIdOf(cmd, cmd.args.run));
    const [steps, dataset] = await Promise.all([
      cmd.api.runMetrics(run.id),
      describedDataset(cmd.api, run.datasetVersion),
    ]);
    cmd.print({ ...run, steps: [...finalSteps(steps.items).values()] }, () =>
      showText(run, { steps: steps.items, dataset }),
    );
    return 0;
  },
});

function showText(run: RunRecord, extra: { steps: readonly RunMetric[]; dataset: string }): string {
  const fields: [string, string][] = [
    ['status', run.status],
    ['started', `${formatTime(run.startedAt)} by ${run.createdBy}`],
    ['took', duration(run)],
  ];
  if (extra.dataset !== '') fields.push(['dataset', extra.dataset]);
  if (run.codeVersion !== undefined) fields.push(['commit', run.codeVersion]);
  if (run.error !== undefined) fields.push(['error', run.error]);
  const width = Math.max(...fields.map(([label]) => label.length));
  const head = `run ${run.id} (${run.name})\n${fields.map(([l, v]) => `  ${l.padEnd(width)}  ${v}\n`).join('')}`;
  const metrics = Object.entries(run.metrics).map(([key, value]) => [key, formatNumber(value)]);
  for (const metric of finalSteps(extra.steps).values()) {
    metrics.push([`${metric.key} (step ${metric.step})`, formatNumber(metric.value)]);
  }
  const sections = [
    head,
    `params\n${formatTable({ columns: ['param', 'value'], rows: flattenParams(run.params), empty: '(none)' })}`,
    `metrics\n${formatTable({ columns: ['metric', 'value'], rows: metrics, empty: '(none yet)' })}`,
    `artifacts\n${formatTable({
      columns: ['artifact', 'digest', 'size'],
      alignRight: ['size'],
      rows: run.artifacts.map((a) => [a.name, shortDigest(a.digest), formatBytes(a.size)]),
      empty: '(none)',
    })}`,
  ];
  return sections.join('\n');
}

/** One row of a comparison: a field and its value in each run. */
interface ComparedRow {
  readonly field: string;
  readonly values: readonly string[];
  readonly differs: boolean;
}

/** The rows comparing `runs` side by side: what they ran on, their parameters, their final metrics. */
export function compareRuns(runs: readonly RunRecord[], steps: readonly (readonly RunMetric[])[]): ComparedRow[] {
  const columns = runs.map((run, i) => {
    const cells = new Map<string, string>([
      ['experiment', run.name],
      ['status', run.status],
      ['dataset', run.datasetVersion ?? ''],
      ['commit', run.codeVersion ?? ''],
      ...flattenParams(run.params).map(([k, v]) => [`params.${k}`, v] as [string, string]),
      ...Object.entries(run.metrics).map(([k, v]) => [`metrics.${k}`, formatNumber(v)] as [string, string]),
      ...[...finalSteps(steps[i] ?? []).values()].map(
        (m) => [`final ${m.key}`, formatNumber(m.value)] as [string, string],
      ),
    ]);
    return cells;
  });
  const fields = [...new Set(columns.flatMap((cells) => [...cells.keys()]))];
  return fields.map((field) => {
    const values = columns.map((cells) => cells.get(field) ?? '');
    return { field, values, differs: new Set(values).size > 1 };
  });
}

const compare = defineCommand({
  name: 'compare',
  summary: 'Runs side by side: parameters and final metrics, differences marked',
  description:
    'Runs side by side: experiment, dataset and code versions, every parameter and the final metrics (3 significant digits), one column per run. Rows whose values differ are marked with *; --differences shows only those. --json prints the runs in full and the rows.',
  args: [{ name: 'runs', description: 'two or more run ids (or their first characters)', variadic: { min: 2 } }],
  options: {
    differences: { type: 'boolean', description: 'only the rows whose values differ' },
    ...API_OPTIONS,
  },
  examples: ['stratum runs compare 1f0c2a9e 7b3e11d0', 'stratum runs compare 1f0c2a9e 7b3e11d0 c41d9a2f --differences'],
  async run(cmd) {
    const ids = await Promise.all(cmd.args.runs.map((given) => runIdOf(cmd, given)));
    const runs = await Promise.all(ids.map((id) => cmd.api.getRun(id)));
    const steps = await Promise.all(ids.map(async (id) => (await cmd.api.runMetrics(id)).items));
    const rows = compareRuns(runs, steps).filter((row) => row.differs || cmd.values.differences !== true);
    cmd.print({ runs, rows }, () =>
      formatTable({
        // Ids are values: their case is kept.
        columns: ['', 'FIELD', ...runs.map((r) => r.id.slice(0, 8))],
        keepHeaderCase: true,
        rows: rows.map((row) => [row.differs ? '*' : '', row.field, ...row.values]),
        // Long values (a dataset's hash, a list of transforms) are cut; --json has them whole.
        maxCellWidth: 40,
        empty: '(no differences)',
      }),
    );
    return 0;
  },
});

/** `stratum runs`. */
export const RUNS_GROUP: CommandGroup = {
  name: 'runs',
  summary: 'Tracked training runs: list, inspect, compare',
  commands: [list, show, compare],
};
