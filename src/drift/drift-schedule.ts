/**
 * Computes drift reports by themselves for the deployments whose drift settings say `every`: at
 * each check (every `checkMs`), a deployment whose last report here is at least `every` old gets a
 * new one, which sets the drift gauges that alert rules read. A failed report is logged and tried
 * again at the next check; one check at a time.
 */
import type { Logger } from '../logging/logger.ts';
import { durationMs } from './drift-config.ts';
import type { DriftService } from './drift-service.ts';

/** The deployments to look at. */
export type ListDeploymentNames = () => Promise<readonly string[]>;

export interface DriftSchedule {
  /** One check now (the timer calls it; tests call it directly). Resolves with the deployments computed. */
  check(): Promise<readonly string[]>;
  close(): Promise<void>;
}

export function startDriftSchedule(options: {
  readonly drift: DriftService;
  readonly deployments: ListDeploymentNames;
  readonly logger: Logger;
  /** @default 10000 */
  readonly checkMs?: number;
  readonly now?: () => number;
}): DriftSchedule {
  const now = options.now ?? Date.now;
  const last = new Map<string, number>();
  let running: Promise<readonly string[]> | undefined;
  let closed = false;

  const checkOnce = async (): Promise<readonly string[]> => {
    const computed: string[] = [];
    for (const deployment of await options.deployments()) {
      if (closed) break;
      try {
        const config = await options.drift.getConfig(deployment);
        if (config.every === undefined) continue;
        const at = now();
        if (at - (last.get(deployment) ?? -Infinity) < durationMs(config.every)) continue;
        last.set(deployment, at);
        await options.drift.compute({ deployment });
        computed.push(deployment);
      } catch (error) {
        options.logger.warn({ deployment, err: (error as Error).message }, 'scheduled drift report failed');
      }
    }
    return computed;
  };
  const check = (): Promise<readonly string[]> => {
    running ??= checkOnce().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => {
    if (!closed) void check().catch(() => undefined);
  }, options.checkMs ?? 10_000);
  timer.unref();
  return {
    check,
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
