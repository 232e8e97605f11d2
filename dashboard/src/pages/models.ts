/**
 * Models, their versions and aliases, and each version's lineage: the run that trained it and the
 * dataset version it was trained on (both links), its metrics, signature and model card.
 */
import { getAll, getJson, getOptional, seg } from '../api.ts';
import { barChart } from '../charts.ts';
import { append, h, link, num, section, shortHash, table, when } from '../dom.ts';
import type { Page } from '../page.ts';
import type { Alias, Model, TensorSpec, Version } from '../types.ts';

function lineageCells(version: Version): HTMLElement {
  const { runId, datasetVersion, source, experiment, parentVersion } = version.lineage;
  return h(
    'span',
    { class: 'lineage' },
    runId !== undefined ? link(`/runs/${seg(runId)}`, `run ${runId.slice(0, 8)}`) : null,
    runId !== undefined && datasetVersion !== undefined ? ' ← ' : null,
    datasetVersion !== undefined ? link(`/datasets/${seg(datasetVersion)}`, `data ${shortHash(datasetVersion)}`) : null,
    experiment !== undefined ? ` · experiment ${experiment}` : null,
    parentVersion !== undefined ? ` · from v${parentVersion}` : null,
    runId === undefined && datasetVersion === undefined ? (source ?? 'pushed') : null,
  );
}

function metricsText(metrics: Readonly<Record<string, number>>): string {
  return Object.entries(metrics)
    .filter(([key]) => key !== 'steps')
    .slice(0, 4)
    .map(([key, value]) => `${key} ${num(value)}`)
    .join(' · ');
}

export const modelsPage: Page = {
  name: 'models',
  live: false,
  async draw(into) {
    const models = await getAll<Model>('/api/v1/models');
    const rows = await Promise.all(
      models.map(async (m) => {
        const [versions, aliases] = await Promise.all([
          getJson<{ items: Version[] }>(`/api/v1/models/${seg(m.name)}/versions?limit=1`),
          getJson<{ items: Alias[] }>(`/api/v1/models/${seg(m.name)}/aliases`),
        ]);
        const latest = versions.items[0];
        return [
          link(`/models/${seg(m.name)}`, m.name),
          latest === undefined ? '–' : `v${latest.version}`,
          aliases.items.map((a) => `${a.alias} → v${a.version}`).join(', ') || '–',
          m.description,
          when(m.updatedAt),
        ];
      }),
    );
    append(
      into,
      h('h1', {}, 'Models'),
      models.length === 0
        ? h('p', { class: 'muted' }, 'No models yet.')
        : table(['model', 'latest', 'aliases', 'description', 'updated'], rows),
    );
  },
};

export const modelPage: Page = {
  name: 'model',
  live: false,
  async draw(into, { params }) {
    const name = params['model'] as string;
    const base = `/api/v1/models/${seg(name)}`;
    const [model, versions, aliases] = await Promise.all([
      getJson<Model>(base),
      getAll<Version>(`${base}/versions`, 200),
      getJson<{ items: Alias[] }>(`${base}/aliases`),
    ]);
    const aliasesOf = (v: number): string =>
      aliases.items
        .filter((a) => a.version === v)
        .map((a) => a.alias)
        .join(', ');
    append(
      into,
      h('h1', {}, `Model ${model.name}`),
      model.description === '' ? null : h('p', {}, model.description),
      section(
        'Aliases',
        table(
          ['alias', 'version', 'moved', 'by'],
          aliases.items.map((a) => [
            a.alias,
            link(`/models/${seg(name)}/versions/${a.version}`, `v${a.version}`),
            when(a.updatedAt),
            a.updatedBy,
          ]),
        ),
      ),
      section(
        'Versions',
        table(
          ['version', 'aliases', 'status', 'lineage (run ← data)', 'metrics', 'registered'],
          versions.map((v) => [
            link(`/models/${seg(name)}/versions/${v.version}`, `v${v.version}`),
            aliasesOf(v.version),
            v.status,
            lineageCells(v),
            metricsText(v.metrics),
            when(v.createdAt),
          ]),
          { 'data-table': 'versions' },
        ),
      ),
    );
    const charted = Object.keys(versions[0]?.metrics ?? {}).filter((k) => k !== 'steps');
    if (versions.length > 1 && charted.length > 0) {
      const ordered = [...versions].reverse();
      append(
        into,
        section(
          'Metrics by version',
          h(
            'div',
            { class: 'charts' },
            ...charted.slice(0, 3).map((key) =>
              barChart({
                name: `version-metric-${key}`,
                title: key,
                labels: ordered.map((v) => `v${v.version}`),
                series: [{ label: key, values: ordered.map((v) => v.metrics[key] ?? 0) }],
              }),
            ),
          ),
        ),
      );
    }
  },
};

function tensors(specs: readonly TensorSpec[]): string {
  return specs.map((t) => `${t.name} ${t.datatype}[${t.shape.join(',')}]`).join('; ');
}

/** A model card (built in parallel): shown as it comes, key by key. */
function card(value: unknown): HTMLElement {
  if (typeof value !== 'object' || value === null) return h('pre', {}, JSON.stringify(value, null, 2));
  return h(
    'dl',
    { class: 'model-card' },
    ...Object.entries(value).flatMap(([key, v]) => [
      h('dt', {}, key),
      h('dd', {}, typeof v === 'object' && v !== null ? h('pre', {}, JSON.stringify(v, null, 2)) : String(v)),
    ]),
  );
}

export const versionPage: Page = {
  name: 'version',
  live: false,
  async draw(into, { params }) {
    const name = params['model'] as string;
    const number = params['version'] as string;
    const base = `/api/v1/models/${seg(name)}/versions/${seg(number)}`;
    const [version, modelCard] = await Promise.all([getJson<Version>(base), getOptional<unknown>(`${base}/card`)]);
    append(
      into,
      h('h1', {}, `${name} v${version.version}`),
      section(
        'Lineage',
        h('p', { 'data-lineage': 'true' }, lineageCells(version)),
        table(
          ['artifact', 'size', 'status', 'registered', 'by'],
          [
            [
              version.artifactDigest.slice(0, 16),
              `${num(version.artifactSize)} B`,
              version.status,
              when(version.createdAt),
              version.createdBy,
            ],
          ],
        ),
      ),
      section(
        'Metrics',
        table(
          ['metric', 'value'],
          Object.entries(version.metrics).map(([k, v]) => [k, num(v)]),
        ),
      ),
      section(
        'Signature',
        h('p', {}, 'inputs: ', tensors(version.signature.inputs)),
        h('p', {}, 'outputs: ', tensors(version.signature.outputs)),
      ),
      section(
        'Model card',
        modelCard === undefined
          ? h('p', { class: 'unavailable' }, 'Model card: not available on this server.')
          : card(modelCard),
      ),
    );
  },
};
