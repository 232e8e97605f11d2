/**
 * Live quality of a deployment's versions: metrics from labelled feedback, now and over time, and
 * fairness per sensitive column (the gaps, and a bar chart of each group's rates).
 */
import { getOptional, seg } from '../api.ts';
import { barChart, lineChart } from '../charts.ts';
import { h, link, num, section, table, unavailable } from '../dom.ts';
import type { Page } from '../page.ts';
import type { LiveFairness, QualityReport } from '../types.ts';

/** The per-group rates charted, by task. */
const GROUP_RATES: Readonly<Record<string, readonly string[]>> = {
  binary: ['selectionRate', 'accuracy', 'truePositiveRate', 'falsePositiveRate'],
  multiclass: ['accuracy'],
  regression: ['rmse', 'mae'],
};

const GAPS = [
  'demographicParityDifference',
  'demographicParityRatio',
  'equalizedOddsDifference',
  'accuracyDifference',
  'rmseDifference',
  'maeDifference',
] as const;

function fairnessSection(version: string, reports: readonly LiveFairness[]): HTMLElement {
  return section(
    `Fairness of ${version} (from feedback)`,
    table(
      ['column', 'task', 'groups', ...GAPS],
      reports.map((r) => [r.column, r.task, String(r.groups.length), ...GAPS.map((gap) => num(r[gap]))]),
    ),
    h(
      'div',
      { class: 'charts' },
      ...reports.map((r) => {
        const rates = GROUP_RATES[r.task] ?? [];
        return barChart({
          name: `fairness-${version}-${r.column}`,
          title: `${r.column}: per group`,
          labels: r.groups.map((g) => `${g.group} (${g.count})`),
          series: rates.map((rate) => ({
            label: rate,
            values: r.groups.map((g) => (typeof g[rate] === 'number' ? g[rate] : 0)),
          })),
        });
      }),
    ),
  );
}

const epoch = (at: number | string): number => (typeof at === 'number' ? at : Date.parse(at));

export const qualityPage: Page = {
  name: 'quality',
  live: true,
  async draw(into, { params }) {
    const name = params['name'] as string;
    const report = await getOptional<QualityReport>(`/api/v1/deployments/${seg(name)}/quality`);
    into.append(h('h1', {}, 'Live quality of ', link(`/deployments/${seg(name)}`, name)));
    if (report === undefined) {
      into.append(unavailable('Live quality'));
      return;
    }
    const keys = [...new Set(report.versions.flatMap((v) => Object.keys(v.metrics)))].sort();
    into.append(
      table(
        ['version', 'task', 'labelled', ...keys],
        report.versions.map((v) => [`v${v.version}`, v.task, num(v.labelled), ...keys.map((k) => num(v.metrics[k]))]),
      ),
      section(
        'Over time',
        h(
          'div',
          { class: 'charts' },
          ...keys.map((key) =>
            lineChart({
              name: `quality-${key}`,
              title: key,
              x: 'time',
              series: report.versions.map((v) => ({
                label: `v${v.version}`,
                points: v.series.map((p) => ({ x: epoch(p.at), y: p.metrics[key] ?? null })),
              })),
            }),
          ),
        ),
      ),
      ...report.versions.flatMap((v) =>
        v.fairness === undefined || v.fairness.length === 0 ? [] : [fairnessSection(`v${v.version}`, v.fairness)],
      ),
    );
  },
};
