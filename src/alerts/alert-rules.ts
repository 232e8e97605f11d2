/**
 * Alert rules as users declare them (YAML or JSON; strict, like the training spec): what to
 * measure, when it is bad, for how long, when it is good again, and what to do.
 *
 * ```yaml
 * rules:
 *   - name: error-rate
 *     measure: { kind: ratio, metric: stratum_inference_requests_total, where: { outcome: failure },
 *                of: stratum_inference_requests_total, window: 60s }
 *     above: 0.05        # or below:
 *     clear: 0.02        # hysteresis: resolved only once back under 0.02 (default: the threshold)
 *     for: 30s
 *     actions:
 *       - webhook: { url: https://hooks.example.com/stratum, secretEnv: STRATUM_ALERT_SECRET }
 *       - rollback: { deployment: iris }
 * ```
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../errors/format-issues.ts';
import { StratumError } from '../errors/index.ts';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `250ms`, `30s`, `5m`, `1h` (or a number of seconds) → milliseconds. */
const DURATION_MESSAGE = 'must be a duration such as "30s", "5m" or "250ms", or a number of seconds';
const Duration = z.union(
  [
    z
      .number()
      .nonnegative('must be ≥ 0 seconds')
      .transform((s) => s * 1000),
    z
      .string()
      .regex(DURATION, DURATION_MESSAGE)
      .transform((text) => {
        const [, value, unit] = DURATION.exec(text) as unknown as [string, string, keyof typeof UNIT_MS];
        return Number(value) * UNIT_MS[unit];
      }),
  ],
  { error: DURATION_MESSAGE },
);

const MetricName = z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a Prometheus metric name');
const Labels = z.record(z.string(), z.string()).default({});

/** What a rule measures, from the metrics this process exports. */
const Measure = z.discriminatedUnion('kind', [
  /** A gauge or counter as it is now, summed over the series matching `where`. */
  z.strictObject({ kind: z.literal('value'), metric: MetricName, where: Labels }),
  /** A counter's increase per second over the window. */
  z.strictObject({ kind: z.literal('rate'), metric: MetricName, where: Labels, window: Duration }),
  /** One counter's increase over another's in the window (error rate: failures over requests). */
  z.strictObject({
    kind: z.literal('ratio'),
    metric: MetricName,
    where: Labels,
    of: MetricName,
    ofWhere: Labels,
    window: Duration,
  }),
  /** A histogram's quantile over the window, as PromQL's histogram_quantile of the increase. */
  z.strictObject({
    kind: z.literal('quantile'),
    metric: MetricName,
    where: Labels,
    quantile: z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)'),
    window: Duration,
  }),
]);
export type Measure = z.infer<typeof Measure>;

const Action = z.union([
  z.strictObject({
    webhook: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
      /** The environment variable holding the HMAC key: the key itself never sits in a rules file. */
      secretEnv: z.string().min(1).optional(),
    }),
  }),
  z.strictObject({ rollback: z.strictObject({ deployment: z.string().min(1) }) }),
  z.strictObject({ pipeline: z.strictObject({ name: z.string().min(1) }) }),
]);
export type AlertAction = z.infer<typeof Action>;

const Rule = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be lower-case letters, digits, ".", "_" or "-"'),
    measure: Measure,
    above: z.number().optional(),
    below: z.number().optional(),
    clear: z.number().optional(),
    for: Duration.default(0),
    actions: z.array(Action).default([]),
  })
  .superRefine((rule, ctx) => {
    if ((rule.above === undefined) === (rule.below === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['above'], message: 'give exactly one of "above" and "below"' });
      return;
    }
    if (rule.clear === undefined) return;
    if (rule.above !== undefined && rule.clear > rule.above) {
      ctx.addIssue({ code: 'custom', path: ['clear'], message: `must be ≤ above (${rule.above})` });
    }
    if (rule.below !== undefined && rule.clear < rule.below) {
      ctx.addIssue({ code: 'custom', path: ['clear'], message: `must be ≥ below (${rule.below})` });
    }
  });

const RulesFile = z.strictObject({ rules: z.array(Rule) }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.rules.forEach((rule, i) => {
    if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: 'is used twice' });
    seen.add(rule.name);
  });
});

/** A checked rule: one direction, its threshold and its clear level. */
export interface AlertRule {
  readonly name: string;
  readonly measure: Measure;
  readonly direction: 'above' | 'below';
  readonly threshold: number;
  /** Resolved only once the value is back past this (hysteresis). */
  readonly clear: number;
  readonly forMs: number;
  readonly actions: readonly AlertAction[];
}

/**
 * Checks rules (a parsed YAML/JSON value).
 * @throws StratumError CONFIG_INVALID naming the path of every bad field.
 */
export function parseAlertRules(value: unknown, source = 'alert rules'): AlertRule[] {
  const parsed = RulesFile.safeParse(value);
  if (!parsed.success) throw new StratumError('CONFIG_INVALID', `${source}: ${formatIssues(parsed.error)}`);
  return parsed.data.rules.map((rule) => {
    const direction = rule.above !== undefined ? 'above' : 'below';
    const threshold = (rule.above ?? rule.below) as number;
    return Object.freeze({
      name: rule.name,
      measure: rule.measure,
      direction,
      threshold,
      clear: rule.clear ?? threshold,
      forMs: rule.for,
      actions: Object.freeze(rule.actions),
    });
  });
}

/** Reads rules from YAML (JSON is YAML). @throws StratumError CONFIG_INVALID */
export function parseAlertRulesText(text: string, source: string): AlertRule[] {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new StratumError('CONFIG_INVALID', `${source}: not valid YAML: ${(error as Error).message}`);
  }
  return parseAlertRules(value, source);
}
