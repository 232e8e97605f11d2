/**
 * This replica's alert rules, when `alerts.rulesFile` names a file: read and checked at start
 * (a bad file stops the start, naming the field), evaluated on the serving metrics, acting on the
 * registry's deployments (rolling back a running canary) and starting retraining pipelines.
 */
import { readFile } from 'node:fs/promises';
import { type AlertManager, createAlertManager } from '../alerts/alert-manager.ts';
import { parseAlertRulesText } from '../alerts/alert-rules.ts';
import { type Config, readEnvSecrets } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import type { Registry } from '../registry/registry.ts';

export async function openAlerts(options: {
  config: Readonly<Config>;
  logger: Logger;
  metrics: ServingMetrics;
  registry: Registry | undefined;
  pipelines: PipelineService | undefined;
  cleanups: (() => Promise<void>)[];
}): Promise<AlertManager | undefined> {
  const { config, logger, registry } = options;
  const file = config.alerts.rulesFile;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StratumError(
      'CONFIG_INVALID',
      `alerts.rulesFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const rules = parseAlertRulesText(text, file);
  const secretNames = rules.flatMap((rule) =>
    rule.actions.flatMap((action) =>
      'webhook' in action && action.webhook.secretEnv !== undefined ? [action.webhook.secretEnv] : [],
    ),
  );
  const manager = createAlertManager({
    rules,
    registry: options.metrics.registry,
    logger: logger.child({ component: 'alerts' }),
    env: readEnvSecrets(secretNames),
    intervalMs: config.alerts.intervalMs,
    ...(registry !== undefined && {
      effects: {
        ...(options.pipelines !== undefined && {
          startPipeline: startPipelineOn(options.pipelines),
        }),
        rollback: async (deployment: string) => {
          const current = await registry.getDeployment(deployment);
          const canary = current.state.canary;
          if (canary?.status !== 'running') {
            throw new Error(`deployment "${deployment}" has no running canary to roll back`);
          }
          await registry.rollbackCanary({
            name: deployment,
            canaryId: canary.id,
            reason: 'an alert rule fired',
            by: 'alerts',
          });
        },
      },
    }),
  });
  options.cleanups.push(() => manager.close());
  return manager;
}

/** An alert's pipeline action: one run per firing (the rule and its firing time key the run). */
function startPipelineOn(pipelines: PipelineService) {
  return async (name: string, cause: { rule: string; firedAt: string }): Promise<void> => {
    await pipelines.start({
      name,
      trigger: { kind: 'alert', rule: cause.rule, firedAt: cause.firedAt },
      by: `alert:${cause.rule}`,
      idempotencyKey: `pipeline:${name}:alert:${cause.rule}:${cause.firedAt}`,
    });
  };
}
