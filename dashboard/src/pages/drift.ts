/** Drift of a deployment's inputs: the share of drifted features and, per feature, reference vs current histograms. */
import { getOptional, seg } from '../api.ts';
import { barChart } from '../charts.ts';
import { h, link, num, section, table, unavailable } from '../dom.ts';
import type { Page } from '../page.ts';
import type { DriftReport } from '../types.ts';
import { binLabels } from './datasets.ts';

/** Counts as shares, so windows of different sizes compare. */
function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

export const driftPage: Page = {
  name: 'drift',
  live: true,
  async draw(into, { params }) {
    const name = params['name'] as string;
    const report = await getOptional<DriftReport>(`/api/v1/deployments/${seg(name)}/drift`);
    into.append(h('h1', {}, 'Drift of ', link(`/deployments/${seg(name)}`, name)));
    if (report === undefined) {
      into.append(unavailable('Drift'));
      return;
    }
    if (report.status === 'no-data') {
      into.append(h('p', { class: 'muted' }, 'No traffic recorded in the window yet.'));
      return;
    }
    into.append(
      h(
        'p',
        { class: report.datasetDrift ? 'warn' : undefined },
        `${report.datasetDrift ? 'Drift detected' : 'No drift'}: ${num(report.driftShare * 100)}% of features drifted ` +
          `(threshold ${num(report.driftShareThreshold * 100)}%) · version ${report.version} · ` +
          `${num(report.window.rows)} recent rows vs ${num(report.reference.rows)} reference rows`,
      ),
      table(
        ['feature', 'kind', 'test', 'statistic', 'p-value', 'threshold', 'drifted'],
        report.columns.map((c) => [
          c.name,
          c.kind,
          c.test,
          num(c.statistic),
          num(c.pValue),
          num(c.threshold),
          c.drifted ? 'yes' : 'no',
        ]),
      ),
      section(
        'Reference vs current',
        h(
          'div',
          { class: 'charts' },
          ...report.columns.map((c) =>
            barChart({
              name: `drift-${c.name}`,
              title: `${c.name}${c.drifted ? ' — drifted' : ''}`,
              labels:
                c.histogram.categories !== undefined ? [...c.histogram.categories] : binLabels(c.histogram.edges ?? []),
              series: [
                { label: 'reference', values: shares(c.histogram.reference) },
                { label: 'current', values: shares(c.histogram.current) },
              ],
              yLabel: 'share',
            }),
          ),
        ),
      ),
    );
  },
};
