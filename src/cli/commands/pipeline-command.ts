/**
 * `stratum pipeline apply|run|list|runs|show|cancel` over `/api/v1/pipelines`: declare a
 * retraining pipeline from a YAML file, start a run by hand (following its steps with --wait),
 * and read what the runs did.
 */
import type { PipelineSummary } from '../../pipelines/pipeline-service.ts';
import type { PipelineRunRecord } from '../../store/pipeline-records.ts';
import { API_OPTIONS, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatDuration, formatTime } from './format-values.ts';
import { formatTable } from './table.ts';

interface StepView {
  readonly name: string;
  readonly status: string;
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly error?: { readonly message: string };
}

const FINISHED = new Set(['succeeded', 'rejected', 'rolled_back', 'failed', 'cancelled']);

/** Whether `arg` names a spec file rather than a stored pipeline. */
function isFile(arg: string): boolean {
  return /\.(ya?ml|json)$/i.test(arg);
}

function triggerText(trigger: unknown): string {
  const t = trigger as { kind: string; rule?: string; slot?: string };
  if (t.kind === 'alert') return `alert ${t.rule ?? ''}`;
  if (t.kind === 'schedule') return `schedule ${t.slot ?? ''}`;
  return t.kind;
}

function outcomeReason(run: PipelineRunRecord): string {
  const outcome = run.outcome as { reason?: string; error?: { message: string } } | undefined;
  return outcome?.reason ?? outcome?.error?.message ?? '';
}

/** The run's steps, one line each. */
export function runText(run: PipelineRunRecord): string {
  const lines = [
    `run ${run.id} of ${run.pipeline}: ${run.status} (${triggerText(run.trigger)}, by ${run.createdBy}, ${formatTime(run.createdAt)})`,
  ];
  for (const step of run.steps as StepView[]) {
    const took = step.finishedAt === undefined ? '' : ` in ${formatDuration(step.finishedAt - step.startedAt)}`;
    lines.push(
      `  ${step.name.padEnd(9)} ${step.status}${took}${step.error === undefined ? '' : `: ${step.error.message}`}`,
    );
  }
  const reason = outcomeReason(run);
  if (FINISHED.has(run.status) && reason !== '') lines.push(`  → ${reason}`);
  return `${lines.join('\n')}\n`;
}

const apply = defineCommand({
  name: 'apply',
  summary: 'Create or replace a pipeline from a spec file (YAML or JSON)',
  args: [{ name: 'spec', description: 'the pipeline spec, .yaml or .json', file: true }],
  options: { ...API_OPTIONS },
  examples: ['stratum pipeline apply churn-retrain.yaml'],
  async run(cmd) {
    const { readPipelineFile } = await import('../../pipelines/read-pipeline-file.ts');
    const spec = await readPipelineFile(cmd.args.spec);
    const record = await cmd.api.putPipeline(spec);
    cmd.print(record, () => `pipeline ${record.name} ${record.created ? 'created' : 'updated'}\n`);
    return 0;
  },
});

const run = defineCommand({
  name: 'run',
  summary: 'Start a run of a pipeline now (a spec file is applied first); --wait follows its steps',
  args: [{ name: 'pipeline', description: 'a pipeline name, or a spec file to apply and run', file: true }],
  options: {
    wait: {
      type: 'boolean',
      description:
        'follow the run until it ends; exit 1 if it failed or was cancelled, 3 if its candidate was rejected or rolled back',
    },
    ...API_OPTIONS,
  },
  examples: ['stratum pipeline run churn-retrain', 'stratum pipeline run churn-retrain.yaml --wait'],
  async run(cmd) {
    let name = cmd.args.pipeline;
    if (isFile(name)) {
      const { readPipelineFile } = await import('../../pipelines/read-pipeline-file.ts');
      const spec = await readPipelineFile(name);
      await cmd.api.putPipeline(spec);
      name = spec.name;
    }
    let current = await cmd.api.startPipelineRun(name);
    cmd.note(`run ${current.id} of ${name} queued`);
    if (cmd.values.wait !== true) {
      cmd.print(current, () => `${current.id}\n`);
      return 0;
    }
    let shown = '';
    const show = (record: PipelineRunRecord): void => {
      const text = runText(record);
      if (text !== shown) cmd.note(text.trimEnd());
      shown = text;
    };
    // Each step change is a progress event of the run's job; the run's record is what is shown.
    await cmd.api.followJob(current.id, (update) => {
      if (update.type === 'event' && update.event.type === 'progress') {
        void cmd.api.getPipelineRun(current.id).then(show, () => undefined);
      }
    });
    current = await cmd.api.getPipelineRun(current.id);
    show(current);
    cmd.print(current, () => `${current.status}\n`);
    if (current.status === 'failed' || current.status === 'cancelled') return 1;
    return current.status === 'succeeded' ? 0 : 3;
  },
});

const list = defineCommand({
  name: 'list',
  summary: 'List pipelines with their schedule, newest run and next scheduled run',
  args: [],
  options: { ...API_OPTIONS },
  examples: ['stratum pipeline list', 'stratum pipeline list --json'],
  async run(cmd) {
    const reply = await cmd.api.listPipelines();
    cmd.print(reply, () =>
      formatTable({
        columns: ['pipeline', 'model', 'schedule', 'last run', 'status', 'next'],
        rows: reply.items.map((p: PipelineSummary) => [
          p.name,
          p.spec.train.register?.model ?? '',
          p.spec.schedule ?? '',
          p.lastRun === undefined ? '' : formatTime(p.lastRun.createdAt),
          p.lastRun?.status ?? '',
          p.nextRunAt ?? '',
        ]),
        maxCellWidth: 40,
        empty: '(no pipelines)',
      }),
    );
    return 0;
  },
});

const runs = defineCommand({
  name: 'runs',
  summary: "List a pipeline's runs, newest first",
  args: [{ name: 'pipeline', description: 'the pipeline name' }],
  options: {
    limit: { type: 'string', value: 'n', number: { integer: true, min: 1, max: 500 }, description: 'at most n runs' },
    ...API_OPTIONS,
  },
  examples: ['stratum pipeline runs churn-retrain'],
  async run(cmd) {
    const limit = cmd.number('limit');
    const reply = await cmd.api.listPipelineRuns(
      cmd.args.pipeline,
      limit === undefined ? undefined : { limit: String(limit) },
    );
    cmd.print(reply, () =>
      formatTable({
        columns: ['run', 'status', 'trigger', 'started', 'took', 'outcome'],
        rows: reply.items.map((r) => [
          r.id,
          r.status,
          triggerText(r.trigger),
          formatTime(r.createdAt),
          r.finishedAt === undefined ? '' : formatDuration(r.finishedAt - r.createdAt),
          outcomeReason(r),
        ]),
        maxCellWidth: 60,
        empty: '(no runs)',
      }),
    );
    return 0;
  },
});

const show = defineCommand({
  name: 'show',
  summary: 'Show a run: its trigger, every step with its status, and how it ended',
  args: [{ name: 'run', description: 'the run id (its job id)' }],
  options: { ...API_OPTIONS },
  examples: ['stratum pipeline show 01J…', 'stratum pipeline show 01J… --json'],
  async run(cmd) {
    const record = await cmd.api.getPipelineRun(cmd.args.run);
    cmd.print(record, () => runText(record));
    return 0;
  },
});

const cancel = defineCommand({
  name: 'cancel',
  summary: 'Cancel a run (its jobs are cancelled, a canary it started rolled back)',
  args: [{ name: 'run', description: 'the run id' }],
  options: { ...API_OPTIONS },
  examples: ['stratum pipeline cancel 01J…'],
  async run(cmd) {
    const record = await cmd.api.cancelPipelineRun(cmd.args.run);
    cmd.print(record, () => `run ${record.id}: ${record.status}\n`);
    return 0;
  },
});

/** `stratum pipeline …` */
export const PIPELINE_GROUP: CommandGroup = {
  name: 'pipeline',
  summary: 'Retraining pipelines: apply a spec, run it, follow and list runs',
  commands: [apply, run, list, runs, show, cancel],
};
