/**
 * Starts the runs of pipelines that declare a `schedule`. Each replica runs one; they agree
 * without talking: a slot's run is submitted under the idempotency key
 * `pipeline:<name>:schedule:<slot>`, so however many replicas see the slot, the queue keeps one
 * job. A slot missed while no replica ran is not made up (the next one comes). The scheduler
 * sleeps until the next slot or `checkMs`, whichever is sooner, and re-reads the pipelines each
 * time it wakes, so new and edited schedules take effect within `checkMs`.
 */
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { PipelineService } from './pipeline-service.ts';
import { nextScheduled } from './pipeline-spec.ts';

export interface PipelineScheduler {
  /** Starts the runs due at `at` (the timer calls it; tests call it with a time). Resolves with the names started. */
  tick(at?: number): Promise<readonly string[]>;
  close(): Promise<void>;
}

export function startPipelineScheduler(options: {
  readonly service: Pick<PipelineService, 'list' | 'start'>;
  readonly logger: Logger;
  /** @default 30000 */
  readonly checkMs?: number;
  readonly now?: () => number;
  /** Start the timer. Tests that drive `tick` themselves pass false. @default true */
  readonly timer?: boolean;
}): PipelineScheduler {
  const now = options.now ?? Date.now;
  const checkMs = options.checkMs ?? 30_000;
  // Slots after this time are due; before the first tick, the scheduler's start.
  let since = now();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<readonly string[]> | undefined;
  let closed = false;

  const tickOnce = async (at: number): Promise<{ started: string[]; next: number }> => {
    const started: string[] = [];
    let next = at + checkMs;
    for (const pipeline of await options.service.list()) {
      const schedule = pipeline.spec.schedule;
      if (schedule === undefined) continue;
      const slot = nextScheduled(schedule, since);
      if (slot !== undefined && slot <= at) {
        const iso = new Date(slot).toISOString();
        try {
          await options.service.start({
            name: pipeline.name,
            trigger: { kind: 'schedule', slot: iso },
            by: 'scheduler',
            idempotencyKey: `pipeline:${pipeline.name}:schedule:${iso}`,
          });
          started.push(pipeline.name);
        } catch (error) {
          const running = error instanceof StratumError && error.code === 'PIPELINE_RUNNING';
          options.logger[running ? 'info' : 'error'](
            { pipeline: pipeline.name, slot: iso, err: (error as Error).message },
            running ? 'scheduled pipeline run skipped: a run is still going' : 'scheduled pipeline run failed to start',
          );
        }
      }
      const following = nextScheduled(schedule, at);
      if (following !== undefined) next = Math.min(next, following);
    }
    since = at;
    return { started, next };
  };

  const arm = (next: number): void => {
    if (closed || options.timer === false) return;
    clearTimeout(timer);
    timer = setTimeout(() => void tick().catch(() => undefined), Math.max(0, next - now()) + 5);
    timer.unref();
  };

  const tick = (at = now()): Promise<readonly string[]> => {
    ticking ??= tickOnce(at)
      .then(({ started, next }) => {
        arm(next);
        return started;
      })
      .catch((error: unknown) => {
        options.logger.error({ err: (error as Error).message }, 'pipeline scheduler check failed');
        arm(now() + checkMs);
        return [] as string[];
      })
      .finally(() => (ticking = undefined));
    return ticking;
  };

  arm(now() + Math.min(checkMs, 1000));
  return {
    tick,
    async close() {
      closed = true;
      clearTimeout(timer);
      await ticking;
    },
  };
}
