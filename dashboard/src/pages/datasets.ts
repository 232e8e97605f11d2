/** Dataset versions and their profiles: per column a histogram (numbers) or top categories, and the summary. */
import { getAll, getJson, seg } from '../api.ts';
import { barChart } from '../charts.ts';
import { h, link, num, section, shortHash, table, when } from '../dom.ts';
import type { Page } from '../page.ts';
import type { ColumnProfile, DatasetVersion } from '../types.ts';

/** Bin labels from edges: `[a, b)`, shortened. */
export function binLabels(edges: readonly number[]): string[] {
  return edges.slice(0, -1).map((edge, i) => `${num(edge)}–${num(edges[i + 1])}`);
}

function columnChart(column: ColumnProfile): HTMLElement | null {
  const histogram = column.numeric?.histogram;
  if (histogram !== null && histogram !== undefined) {
    return barChart({
      name: `profile-${column.name}`,
      title: `${column.name} (numeric)`,
      labels: binLabels(histogram.edges),
      series: [{ label: 'rows', values: histogram.counts }],
    });
  }
  const top = column.categorical?.top;
  if (top !== undefined && top.length > 0) {
    return barChart({
      name: `profile-${column.name}`,
      title: `${column.name} (top ${top.length} of ${column.categorical?.distinct ?? '?'} values)`,
      labels: top.map((t) => (t.value.length > 24 ? `${t.value.slice(0, 23)}…` : t.value)),
      series: [{ label: 'rows', values: top.map((t) => t.count) }],
      horizontal: true,
    });
  }
  if (column.boolean !== null) {
    return barChart({
      name: `profile-${column.name}`,
      title: `${column.name} (boolean)`,
      labels: ['true', 'false'],
      series: [{ label: 'rows', values: [column.boolean.trueCount, column.boolean.count - column.boolean.trueCount] }],
    });
  }
  return null;
}

function summary(column: ColumnProfile): string {
  const n = column.numeric;
  if (n !== null)
    return `mean ${num(n.mean)} · std ${num(n.std)} · min ${num(n.min)} · p50 ${num(n.quantiles?.['p50'])} · max ${num(n.max)}`;
  if (column.categorical !== null) return `${num(column.categorical.distinct)} distinct`;
  return '';
}

export const datasetsPage: Page = {
  name: 'datasets',
  live: false,
  async draw(into) {
    const datasets = await getAll<DatasetVersion>('/api/v1/datasets', 200);
    into.append(
      h('h1', {}, 'Datasets'),
      table(
        ['version', 'name', 'rows', 'columns', 'source', 'recorded'],
        datasets.map((d) => [
          link(`/datasets/${seg(d.version)}`, shortHash(d.version)),
          d.name,
          num(d.numRows),
          num(d.profile?.columns.length),
          d.source,
          when(d.createdAt),
        ]),
        { 'data-table': 'datasets' },
      ),
    );
  },
};

export const datasetPage: Page = {
  name: 'dataset',
  live: false,
  async draw(into, { params }) {
    const dataset = await getJson<DatasetVersion>(`/api/v1/datasets/${seg(params['version'] as string)}`);
    const columns = dataset.profile?.columns ?? [];
    into.append(
      h('h1', {}, `Dataset ${dataset.name}`),
      h('p', { class: 'muted' }, `${dataset.version} · ${num(dataset.numRows)} rows · ${dataset.source}`),
      table(
        ['column', 'kind', 'missing', 'summary'],
        columns.map((c) => [
          c.name,
          c.kind,
          `${num(c.missing)} (${num((100 * c.missing) / Math.max(c.count, 1))}%)`,
          summary(c),
        ]),
      ),
      section('Profile', h('div', { class: 'charts' }, ...columns.map(columnChart))),
    );
  },
};
