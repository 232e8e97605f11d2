/**
 * Evaluates alert rules on this process's metrics at an interval and acts on what fires: a signed
 * webhook notification (fired and resolved), a deployment rollback, a retraining pipeline. Keeps
 * each rule's state and a bounded history of transitions for the API and the dashboard.
 */
import type { Logger } from '../logging/logger.ts';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertAction, AlertRule } from './alert-rules.ts';
import { type AlertState, INITIAL_STATE, nextAlertState } from './alert-state.ts';
import { createMetricWindow } from './metric-window.ts';
import { createWebhookNotifier, type WebhookNotifier } from './webhook-notifier.ts';

/** What a firing rule can do besides notifying; wired by the server. */
export interface AlertEffects {
  rollback?(deployment: string): Promise<void>;
  /** Starts a run of the pipeline `name`; `cause` names the rule and when it fired. */
  startPipeline?(name: string, cause: { rule: string; firedAt: string }): Promise<void>;
}

/** A transition, as kept in the history and sent to webhooks. */
export interface AlertEvent {
  readonly rule: string;
  readonly transition: 'fired' | 'resolved';
  readonly at: string;
  readonly value: number | undefined;
  readonly threshold: number;
  readonly direction: 'above' | 'below';
  /** Outcome of each non-webhook action taken on firing. */
  readonly actions?: readonly { action: string; outcome: 'ok' | 'failed'; message?: string }[];
}

export interface AlertStatus {
  readonly rule: string;
  readonly phase: AlertState['phase'];
  readonly value?: number;
  readonly since?: string;
  readonly noData: boolean;
  readonly threshold: number;
  readonly direction: 'above' | 'below';
}

export interface AlertManagerOptions {
  readonly rules: readonly AlertRule[];
  /** The metrics rules read, and where the alert metrics are registered. */
  readonly registry: Registry;
  readonly logger: Logger;
  readonly effects?: AlertEffects;
  /** Evaluation interval. @default 5000 */
  readonly intervalMs?: number;
  /** Transitions kept. @default 500 */
  readonly historySize?: number;
  readonly notifier?: WebhookNotifier;
  /** Where webhook keys are read (`secretEnv`): the environment the configuration was loaded from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
}

export interface AlertManager {
  /** One evaluation of every rule (the interval calls it; tests call it directly). */
  evaluate(): Promise<readonly AlertEvent[]>;
  status(): AlertStatus[];
  history(): readonly AlertEvent[];
  close(): Promise<void>;
}

export function createAlertManager(options: AlertManagerOptions): AlertManager {
  const now = options.now ?? Date.now;
  const env = options.env;
  const historySize = options.historySize ?? 500;
  const keepMs = Math.max(60_000, ...options.rules.map((r) => ('window' in r.measure ? r.measure.window : 0)));
  const window = createMetricWindow({ registry: options.registry, keepMs: keepMs + (options.intervalMs ?? 5000) * 2 });
  const states = new Map<string, AlertState>(options.rules.map((r) => [r.name, INITIAL_STATE]));
  const history: AlertEvent[] = [];
  const notifications = new Counter({
    name: 'stratum_alert_notifications_total',
    help: 'Alert webhook notifications by outcome.',
    labelNames: ['outcome'] as const,
    registers: [options.registry],
  });
  const firing = new Gauge({
    name: 'stratum_alert_firing',
    help: 'Whether each alert rule fires (1) or not (0).',
    labelNames: ['rule'] as const,
    registers: [options.registry],
  });
  for (const rule of options.rules) firing.labels(rule.name).set(0);
  const notifier =
    options.notifier ??
    createWebhookNotifier({ logger: options.logger, onOutcome: (outcome) => notifications.labels(outcome).inc() });
  let evaluating: Promise<readonly AlertEvent[]> | undefined;
  let closed = false;

  const act = async (rule: AlertRule, action: AlertAction, event: Omit<AlertEvent, 'actions'>) => {
    if ('webhook' in action) {
      const secret = action.webhook.secretEnv === undefined ? undefined : env[action.webhook.secretEnv];
      if (action.webhook.secretEnv !== undefined && secret === undefined) {
        options.logger.warn(
          { rule: rule.name, env: action.webhook.secretEnv },
          'alert webhook key variable is not set; sending unsigned',
        );
      }
      notifier.notify({ url: action.webhook.url, payload: event, ...(secret !== undefined && { secret }) });
      return undefined;
    }
    if (event.transition !== 'fired') return undefined;
    const [name, run] =
      'rollback' in action
        ? [`rollback ${action.rollback.deployment}`, () => options.effects?.rollback?.(action.rollback.deployment)]
        : [
            `pipeline ${action.pipeline.name}`,
            () => options.effects?.startPipeline?.(action.pipeline.name, { rule: rule.name, firedAt: event.at }),
          ];
    try {
      if (!hasEffect(options.effects, action)) throw new Error('not available in this process');
      await run();
      return { action: name, outcome: 'ok' as const };
    } catch (error) {
      options.logger.error({ rule: rule.name, action: name, err: (error as Error).message }, 'alert action failed');
      return { action: name, outcome: 'failed' as const, message: (error as Error).message };
    }
  };

  const evaluateOnce = async (): Promise<readonly AlertEvent[]> => {
    const at = now();
    await window.sample(at);
    const events: AlertEvent[] = [];
    for (const rule of options.rules) {
      const value = window.measure(rule.measure, at);
      const { state, transition } = nextAlertState(rule, states.get(rule.name) ?? INITIAL_STATE, { value, now: at });
      states.set(rule.name, state);
      firing.labels(rule.name).set(state.phase === 'firing' ? 1 : 0);
      if (transition === undefined) continue;
      const base = {
        rule: rule.name,
        transition,
        at: new Date(at).toISOString(),
        value,
        threshold: rule.threshold,
        direction: rule.direction,
      };
      const outcomes = [];
      for (const action of rule.actions) {
        const outcome = await act(rule, action, base);
        if (outcome !== undefined) outcomes.push(outcome);
      }
      const event: AlertEvent = outcomes.length > 0 ? { ...base, actions: outcomes } : base;
      options.logger.warn({ rule: rule.name, transition, value }, `alert ${rule.name} ${transition}`);
      history.push(event);
      if (history.length > historySize) history.shift();
      events.push(event);
    }
    return events;
  };

  const timer = setInterval(() => {
    if (evaluating === undefined && !closed) {
      evaluating = evaluateOnce()
        .catch((error: unknown) => {
          options.logger.error({ err: (error as Error).message }, 'alert evaluation failed');
          return [];
        })
        .finally(() => (evaluating = undefined));
    }
  }, options.intervalMs ?? 5000);
  timer.unref();

  return {
    async evaluate() {
      // One evaluation at a time: the interval's, if running, then this one.
      await evaluating;
      return evaluateOnce();
    },
    status() {
      return options.rules.map((rule) => {
        const state = states.get(rule.name) ?? INITIAL_STATE;
        return {
          rule: rule.name,
          phase: state.phase,
          ...(state.value !== undefined && { value: state.value }),
          ...(state.since !== undefined &&
            state.phase !== 'inactive' && { since: new Date(state.since).toISOString() }),
          noData: state.noData === true,
          threshold: rule.threshold,
          direction: rule.direction,
        };
      });
    },
    history: () => [...history],
    async close() {
      closed = true;
      clearInterval(timer);
      await evaluating;
      if (options.notifier === undefined) await notifier.close();
    },
  };
}

function hasEffect(effects: AlertEffects | undefined, action: AlertAction): boolean {
  if ('rollback' in action) return effects?.rollback !== undefined;
  if ('pipeline' in action) return effects?.startPipeline !== undefined;
  return true;
}
