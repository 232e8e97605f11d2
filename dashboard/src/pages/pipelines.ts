/**
 * Retraining pipelines: every pipeline with its last run; a pipeline's runs with the gate's metric
 * (candidate against production) run by run; a run's steps as a timeline with what each produced.
 */
import { getJson, getOptional, seg } from '../api.ts';
import { barChart, lineChart } from '../charts.ts';
import { h, link, num, section, table, unavailable, when } from '../dom.ts';
import type { Page } from '../page.ts';
import type { Pipeline, PipelineRun, PipelineStep } from '../types.ts';

function trigger(run: PipelineRun): string {
  if (run.trigger.kind === 'alert') return `alert ${run.trigger.rule ?? ''}`;
  if (run.trigger.kind === 'schedule') return `schedule ${run.trigger.slot ?? ''}`;
  return `by hand (${run.createdBy})`;
}

function status(run: PipelineRun | undefined): HTMLElement | string {
  if (run === undefined) return '–';
  return h('span', { class: `status status-${run.status}` }, run.status.replace('_', ' '));
}

function seconds(step: PipelineStep): number | null {
  return step.finishedAt === undefined ? null : (step.finishedAt - step.startedAt) / 1000;
}

export const pipelinesPage: Page = {
  name: 'pipelines',
  live: true,
  async draw(into) {
    const reply = await getOptional<{ items: Pipeline[] }>('/api/v1/pipelines');
    into.append(h('h1', {}, 'Pipelines'));
    if (reply === undefined) {
      into.append(unavailable('Retraining pipelines'));
      return;
    }
    if (reply.items.length === 0) {
      into.append(h('p', { class: 'muted' }, 'No pipelines yet: `stratum pipeline apply spec.yaml` declares one.'));
      return;
    }
    into.append(
      table(
        ['pipeline', 'model', 'deploys to', 'schedule', 'next run', 'last run', 'status'],
        reply.items.map((p) => [
          link(`/pipelines/${seg(p.name)}`, p.name),
          p.spec.train.register?.model ?? '–',
          p.spec.deploy?.deployment ?? '(candidate only)',
          p.spec.schedule ?? '–',
          p.nextRunAt === undefined ? '–' : when(Date.parse(p.nextRunAt)),
          p.lastRun === undefined ? '–' : link(`/pipeline-runs/${seg(p.lastRun.id)}`, when(p.lastRun.createdAt)),
          status(p.lastRun),
        ]),
      ),
    );
  },
};

export const pipelinePage: Page = {
  name: 'pipeline',
  live: true,
  async draw(into, { params }) {
    const name = params['name'] as string;
    const [pipeline, runs] = await Promise.all([
      getJson<Pipeline>(`/api/v1/pipelines/${seg(name)}`),
      getJson<{ items: PipelineRun[] }>(`/api/v1/pipelines/${seg(name)}/runs?limit=100`),
    ]);
    const metric = pipeline.spec.evaluate.metric;
    into.append(
      h('h1', {}, 'Pipeline ', name),
      h(
        'p',
        { class: 'muted' },
        `retrains ${pipeline.spec.train.register?.model ?? '?'}; a candidate must beat production on ${metric} by ${pipeline.spec.evaluate.margin}`,
        pipeline.spec.schedule === undefined ? '' : `; runs at "${pipeline.spec.schedule}" (UTC)`,
      ),
    );
    const judged = runs.items.filter((r) => r.outcome?.gate !== undefined).reverse();
    if (judged.length > 0) {
      into.append(
        section(
          `The gate, run by run (${metric})`,
          h(
            'div',
            { class: 'charts' },
            lineChart({
              name: 'pipeline-gate',
              title: `${metric}: candidate vs production on the held-out set`,
              x: 'time',
              series: [
                {
                  label: 'candidate',
                  points: judged.map((r) => ({ x: r.createdAt, y: r.outcome?.gate?.candidate ?? null })),
                },
                {
                  label: 'production',
                  points: judged.map((r) => ({ x: r.createdAt, y: r.outcome?.gate?.production ?? null })),
                },
              ],
            }),
          ),
        ),
      );
    }
    into.append(
      section(
        'Runs',
        table(
          ['run', 'started', 'trigger', 'status', 'took', 'outcome'],
          runs.items.map((r) => [
            link(`/pipeline-runs/${seg(r.id)}`, r.id.slice(0, 12)),
            when(r.createdAt),
            trigger(r),
            status(r),
            r.finishedAt === undefined ? '–' : `${num((r.finishedAt - r.createdAt) / 1000)} s`,
            r.outcome?.reason ?? r.outcome?.error?.message ?? '',
          ]),
        ),
      ),
    );
  },
};

export const pipelineRunPage: Page = {
  name: 'pipeline-run',
  live: true,
  async draw(into, { params }) {
    const run = await getJson<PipelineRun>(`/api/v1/pipeline-runs/${seg(params['id'] as string)}`);
    into.append(
      h('h1', {}, 'Run of ', link(`/pipelines/${seg(run.pipeline)}`, run.pipeline), ' ', status(run)),
      h(
        'p',
        { class: 'muted' },
        `${trigger(run)}, ${when(run.createdAt)}`,
        run.outcome?.reason === undefined ? '' : ` — ${run.outcome.reason}`,
      ),
    );
    const gate = run.outcome?.gate;
    if (gate !== undefined) {
      into.append(
        section(
          'The gate',
          h(
            'div',
            { class: 'charts' },
            barChart({
              name: 'run-gate',
              title: `${gate.metric} on the held-out set (margin ${gate.margin})`,
              labels: gate.production === undefined ? ['candidate'] : ['candidate', 'production'],
              series: [
                {
                  label: gate.metric,
                  values: gate.production === undefined ? [gate.candidate] : [gate.candidate, gate.production],
                },
              ],
            }),
          ),
        ),
      );
    }
    into.append(
      section(
        'Steps',
        h(
          'div',
          { class: 'charts' },
          barChart({
            name: 'run-steps',
            title: 'seconds per step',
            labels: run.steps.map((s) => s.name),
            series: [{ label: 'seconds', values: run.steps.map((s) => seconds(s) ?? 0) }],
            horizontal: true,
          }),
        ),
        table(
          ['step', 'status', 'started', 'took', 'what it produced'],
          run.steps.map((s) => [
            s.name,
            s.status,
            when(s.startedAt),
            seconds(s) === null ? '–' : `${num(seconds(s))} s`,
            s.error === undefined
              ? h('pre', { class: 'json' }, JSON.stringify(s.outputs ?? {}, null, 1).slice(0, 2000))
              : h('span', { class: 'error' }, `${s.error.code}: ${s.error.message}`),
          ]),
        ),
      ),
    );
  },
};
