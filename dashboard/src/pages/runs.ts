/**
 * Tracked runs: the list (pick some to compare), one run's parameters, summary metrics and metric
 * curves by step (one chart per metric key, as TensorBoard draws them), and runs side by side:
 * parameters and metrics in columns (differences marked) and every key's curves overlaid.
 */
import { getAll, getJson, seg } from '../api.ts';
import { lineChart } from '../charts.ts';
import { append, h, link, num, section, shortHash, table, when } from '../dom.ts';
import type { Page } from '../page.ts';
import type { Run, RunMetric } from '../types.ts';

/** `{a: {b: 1}}` → `{'a.b': 1}`, so nested parameters line up in a table. */
function flatten(value: unknown, prefix = '', into: Record<string, string> = {}): Record<string, string> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, into);
  } else {
    into[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return into;
}

/** Metric values grouped by key, ordered by step. */
function curves(items: readonly RunMetric[]): Map<string, { x: number; y: number }[]> {
  const byKey = new Map<string, { x: number; y: number }[]>();
  for (const m of items) {
    let points = byKey.get(m.key);
    if (points === undefined) byKey.set(m.key, (points = []));
    points.push({ x: m.step, y: m.value });
  }
  for (const points of byKey.values()) points.sort((a, b) => a.x - b.x);
  return new Map([...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function duration(run: Run): string {
  return run.finishedAt === undefined ? 'running' : `${num((run.finishedAt - run.startedAt) / 1000)} s`;
}

export const runsPage: Page = {
  name: 'runs',
  live: false,
  async draw(into) {
    const runs = await getAll<Run>('/api/v1/runs', 200);
    const chosen = new Set<string>();
    const compare = h(
      'button',
      { type: 'button', id: 'compare', disabled: true },
      'Compare selected',
    ) as HTMLButtonElement;
    compare.addEventListener('click', () => {
      location.hash = `/runs/compare?ids=${[...chosen].map(encodeURIComponent).join(',')}`;
    });
    const pick = (id: string): HTMLElement => {
      const box = h('input', {
        type: 'checkbox',
        'data-run': id,
        'aria-label': `select run ${id}`,
      }) as HTMLInputElement;
      box.addEventListener('change', () => {
        if (box.checked) chosen.add(id);
        else chosen.delete(id);
        compare.disabled = chosen.size < 2;
      });
      return box;
    };
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].filter((k) => k !== 'steps').slice(0, 4);
    append(
      into,
      h('h1', {}, 'Runs'),
      h('p', {}, compare),
      table(
        ['', 'run', 'name', 'status', 'started', 'took', 'data', ...keys],
        runs.map((r) => [
          pick(r.id),
          link(`/runs/${seg(r.id)}`, r.id.slice(0, 8)),
          r.name,
          h('span', { class: `status ${r.status}` }, r.status),
          when(r.startedAt),
          duration(r),
          r.datasetVersion === undefined
            ? '–'
            : link(`/datasets/${seg(r.datasetVersion)}`, shortHash(r.datasetVersion)),
          ...keys.map((k) => num(r.metrics[k])),
        ]),
        { 'data-table': 'runs' },
      ),
    );
  },
};

export const runPage: Page = {
  name: 'run',
  live: false,
  async draw(into, { params }) {
    const id = params['id'] as string;
    const [run, metrics] = await Promise.all([
      getJson<Run>(`/api/v1/runs/${seg(id)}`),
      getJson<{ items: RunMetric[] }>(`/api/v1/runs/${seg(id)}/metrics`),
    ]);
    const byKey = curves(metrics.items);
    append(
      into,
      h('h1', {}, `Run ${run.name}`),
      h(
        'p',
        {},
        h('span', { class: `status ${run.status}` }, run.status),
        ` · ${run.id} · started ${when(run.startedAt)} · ${duration(run)}`,
        run.datasetVersion === undefined ? '' : ' · data ',
        run.datasetVersion === undefined
          ? ''
          : link(`/datasets/${seg(run.datasetVersion)}`, shortHash(run.datasetVersion)),
        run.codeVersion === undefined ? '' : ` · code ${run.codeVersion.slice(0, 10)}`,
      ),
      run.error === undefined ? null : h('p', { class: 'error' }, run.error),
      section(
        'Metric curves by step',
        byKey.size === 0
          ? h('p', { class: 'muted' }, 'No metrics logged by step.')
          : h(
              'div',
              { class: 'charts' },
              ...[...byKey.entries()].map(([key, points]) =>
                lineChart({ name: `run-${key}`, title: key, x: 'step', series: [{ label: key, points }] }),
              ),
            ),
      ),
      section(
        'Summary metrics',
        table(
          ['metric', 'value'],
          Object.entries(run.metrics).map(([k, v]) => [k, num(v)]),
        ),
      ),
      section(
        'Parameters',
        table(
          ['parameter', 'value'],
          Object.entries(flatten(run.params)).map(([k, v]) => [k, v]),
        ),
      ),
      section(
        'Artifacts',
        table(
          ['name', 'digest'],
          run.artifacts.map((a) => [a.name, (a.digest ?? '').slice(0, 16)]),
        ),
      ),
    );
  },
};

/** A table with one column per run and one row per key; rows whose values differ are marked. */
function sideBySide(runs: readonly Run[], rows: readonly { key: string; values: readonly string[] }[]): HTMLElement {
  return h(
    'table',
    { class: 'compare' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), ...runs.map((r) => h('th', {}, `${r.name} ${r.id.slice(0, 8)}`)))),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h(
          'tr',
          { class: new Set(row.values).size > 1 ? 'differs' : undefined },
          h('th', {}, row.key),
          ...row.values.map((v) => h('td', {}, v)),
        ),
      ),
    ),
  );
}

export const comparePage: Page = {
  name: 'compare',
  live: false,
  async draw(into, { query }) {
    const ids = (query.get('ids') ?? '').split(',').filter(Boolean);
    const loaded = await Promise.all(
      ids.map(async (id) => {
        const [run, metrics] = await Promise.all([
          getJson<Run>(`/api/v1/runs/${seg(id)}`),
          getJson<{ items: RunMetric[] }>(`/api/v1/runs/${seg(id)}/metrics`),
        ]);
        return { run, curves: curves(metrics.items) };
      }),
    );
    const runs = loaded.map((l) => l.run);
    const params = runs.map((r) => flatten(r.params));
    const paramKeys = [...new Set(params.flatMap((p) => Object.keys(p)))].sort();
    const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
    const curveKeys = [...new Set(loaded.flatMap((l) => [...l.curves.keys()]))].sort();
    append(
      into,
      h('h1', {}, `Comparing ${runs.length} runs`),
      section(
        'Metric curves by step',
        h(
          'div',
          { class: 'charts' },
          ...curveKeys.map((key) =>
            lineChart({
              name: `compare-${key}`,
              title: key,
              x: 'step',
              series: loaded.map((l) => ({
                label: `${l.run.name} ${l.run.id.slice(0, 8)}`,
                points: l.curves.get(key) ?? [],
              })),
            }),
          ),
        ),
      ),
      section(
        'Summary metrics',
        sideBySide(
          runs,
          metricKeys.map((k) => ({ key: k, values: runs.map((r) => num(r.metrics[k])) })),
        ),
      ),
      section(
        'Parameters',
        sideBySide(
          runs,
          paramKeys.map((k) => ({ key: k, values: params.map((p) => p[k] ?? '–') })),
        ),
      ),
    );
  },
};
