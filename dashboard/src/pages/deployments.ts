/**
 * Deployments: each with its traffic split and live charts (requests/s, p50/p99 latency, error
 * rate) from this server's serving statistics; one deployment's page splits them by version and
 * lists its history.
 */
import { getAll, getJson, getOptional, seg } from '../api.ts';
import { lineChart, type LineSeries } from '../charts.ts';
import { colour } from '../charts.ts';
import { h, link, num, section, table, unavailable, when } from '../dom.ts';
import type { Page } from '../page.ts';
import type { Deployment, DeploymentEvent, DeploymentStats, DeploymentStatus, StatsPoint } from '../types.ts';

/** A bar split into each version's share of the traffic. */
function trafficSplit(routes: readonly { version: number; weight: number }[]): HTMLElement {
  return h(
    'div',
    { class: 'split', 'data-split': routes.map((r) => `${r.version}:${r.weight}`).join(',') },
    ...routes.map((r, i) =>
      h(
        'span',
        { style: `width:${r.weight}%;background:${colour(i)}`, title: `version ${r.version}: ${r.weight}%` },
        `v${r.version} ${num(r.weight)}%`,
      ),
    ),
  );
}

type Field = (p: StatsPoint) => number | null;

function series(label: string, points: readonly StatsPoint[], field: Field): LineSeries {
  return { label, points: points.map((p) => ({ x: p.at, y: field(p) })) };
}

/** The three live charts of a deployment; by version when `byVersion`. */
function trafficCharts(stats: DeploymentStats, options: { byVersion: boolean }): HTMLElement {
  const groups = options.byVersion
    ? stats.versions.map((v) => ({ label: `v${v.version}`, points: v.points }))
    : [{ label: 'all versions', points: stats.total }];
  const name = stats.deployment;
  const latency = groups.flatMap((g) => [
    series(`${g.label} p50`, g.points, (p) => p.p50Ms),
    series(`${g.label} p99`, g.points, (p) => p.p99Ms),
  ]);
  return h(
    'div',
    { class: 'charts' },
    lineChart({
      name: `${name}-requests`,
      title: 'Requests/s',
      x: 'time',
      fromZero: true,
      series: groups.map((g) => series(g.label, g.points, (p) => p.requestsPerSecond)),
    }),
    lineChart({ name: `${name}-latency`, title: 'Latency p50 / p99 (ms)', x: 'time', fromZero: true, series: latency }),
    lineChart({
      name: `${name}-errors`,
      title: 'Error rate (%)',
      x: 'time',
      fromZero: true,
      series: groups.map((g) => series(g.label, g.points, (p) => (p.errorRate === null ? null : p.errorRate * 100))),
    }),
  );
}

function routesText(deployment: Deployment): string {
  return deployment.spec.routes
    .map((r) => `${r.version !== undefined ? `v${r.version}` : `@${r.alias}`} ${num(r.weight)}%`)
    .join(', ');
}

export const deploymentsPage: Page = {
  name: 'deployments',
  live: true,
  async draw(into) {
    const deployments = await getAll<Deployment>('/api/v1/deployments');
    into.append(h('h1', {}, 'Deployments'));
    if (deployments.length === 0) into.append(h('p', { class: 'muted' }, 'No deployments yet.'));
    const cards = await Promise.all(
      deployments.map(async (d) => {
        const [status, stats] = await Promise.all([
          getJson<DeploymentStatus>(`/api/v1/deployments/${seg(d.name)}/status`),
          getOptional<DeploymentStats>(`/api/v1/deployments/${seg(d.name)}/stats`),
        ]);
        return h(
          'section',
          { class: 'card', 'data-deployment': d.name },
          h(
            'h2',
            {},
            link(`/deployments/${seg(d.name)}`, d.name),
            h('span', { class: 'muted' }, ` model ${d.spec.model}`),
          ),
          h('p', {}, 'Traffic: ', routesText(d), status.converged ? '' : h('span', { class: 'warn' }, ' (converging)')),
          trafficSplit(status.desiredRoutes),
          stats === undefined ? unavailable('Live statistics') : trafficCharts(stats, { byVersion: false }),
        );
      }),
    );
    into.append(...cards);
  },
};

export const deploymentPage: Page = {
  name: 'deployment',
  live: true,
  async draw(into, { params }) {
    const name = params['name'] as string;
    const base = `/api/v1/deployments/${seg(name)}`;
    const [deployment, status, stats, events] = await Promise.all([
      getJson<Deployment>(base),
      getJson<DeploymentStatus>(`${base}/status`),
      getOptional<DeploymentStats>(`${base}/stats`),
      getJson<{ items: DeploymentEvent[] }>(`${base}/events?limit=20`),
    ]);
    into.append(
      h('h1', {}, `Deployment ${name}`),
      h(
        'p',
        {},
        'Model ',
        link(`/models/${seg(deployment.spec.model)}`, deployment.spec.model),
        ` · revision ${deployment.revision} (served ${status.servedRevision ?? '–'}) · `,
        link(`/deployments/${seg(name)}/drift`, 'drift'),
        ' · ',
        link(`/deployments/${seg(name)}/quality`, 'live quality'),
      ),
      section(
        'Traffic split',
        h('p', {}, routesText(deployment), deployment.spec.shadow !== undefined ? ' · with a shadow version' : ''),
        trafficSplit(status.desiredRoutes),
      ),
      section(
        'Live traffic by version',
        stats === undefined ? unavailable('Live statistics') : trafficCharts(stats, { byVersion: true }),
      ),
      section(
        'History',
        table(
          ['when', 'what', 'by', 'message'],
          events.items.map((e) => [when(e.at), e.kind, e.by, e.message]),
        ),
      ),
    );
  },
};
