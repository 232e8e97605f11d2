/** Live quality of a deployment's versions: metrics from labelled feedback, now and over time. */
import { getOptional, seg } from '../api.ts';
import { lineChart } from '../charts.ts';
import { h, link, num, section, table, unavailable } from '../dom.ts';
import type { Page } from '../page.ts';
import type { QualityReport } from '../types.ts';

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
    );
  },
};
