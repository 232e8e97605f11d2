/**
 * What a deployment is (its spec, written by people) and where its rollout stands (its state,
 * written by the rollout controller). Both are stored as JSON by the metadata store; these
 * schemas are the only place their shape is defined.
 */
import { z } from 'zod';
import { ModelConfigSchema, SyntheticWarmupSchema } from '../serving/model-config.ts';
import { AliasNameSchema, ResourceNameSchema, VersionNumberSchema } from './names.ts';

/** A version or an alias, exactly one of them. */
const TargetFields = {
  version: VersionNumberSchema.optional(),
  alias: AliasNameSchema.optional(),
};

function exactlyOneTarget(value: { version?: number | undefined; alias?: string | undefined }): boolean {
  return (value.version === undefined) !== (value.alias === undefined);
}

/** One route: a version (or an alias) and the share of traffic it takes. */
export const RouteSchema = z
  .object({ ...TargetFields, weight: z.number().min(0).max(100) })
  .strict()
  .refine(exactlyOneTarget, { message: 'a route names exactly one of "version" or "alias"' });

/** A version that receives a copy of the traffic; its answers are compared, never returned. */
export const ShadowSchema = z
  .object({
    ...TargetFields,
    /** Share of requests copied to the shadow. @default 1 */
    sampleRate: z.number().gt(0).max(1).default(1),
  })
  .strict()
  .refine(exactlyOneTarget, { message: 'the shadow names exactly one of "version" or "alias"' });

/** Where the A/B key of a request is read from (the first present wins). */
export const StickySchema = z
  .object({
    /** An HTTP header (or gRPC metadata key), e.g. `x-user-id`. */
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/)
      .transform((h) => h.toLowerCase())
      .optional(),
    /** A request parameter, e.g. `user_id`. */
    parameter: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((s) => s.header !== undefined || s.parameter !== undefined, {
    message: 'sticky needs a "header" or a "parameter"',
  });

/** The range of each gate's value (the policy adds the defaults; per-rollout overrides have none). */
const GateRanges = {
  maxErrorRate: z.number().min(0).max(1),
  minErrorRateIncrease: z.number().min(0).max(1),
  minLatencyShiftMs: z.number().min(0).max(600_000),
  minLatencyShiftRatio: z.number().min(0).max(1000),
  maxP99Ms: z.number().positive(),
  maxDisagreement: z.number().min(0).max(1),
};

/**
 * The gates a canary must pass at every step, judged on the live traffic of the step (see
 * `docs/ARCHITECTURE.md`, "Canary"). A gate is breached only on evidence: a one-sided test
 * significant at the policy's `confidence` and, for the comparisons with the stable version, an
 * effect larger than the declared minimum.
 */
const GateFields = z
  .object({
    /**
     * Largest share of failed canary requests: breached when the canary's error rate is above it
     * with the policy's confidence (exact binomial test). @default 0.05
     */
    maxErrorRate: GateRanges.maxErrorRate.default(0.05),
    /**
     * Error rate the canary may add to the stable version's (absolute, 0.01 = 1 percentage
     * point): breached when the canary's rate is significantly higher (Fisher's exact test, or
     * the two-proportion z-test with many errors) and higher by more than this. @default 0.01
     */
    minErrorRateIncrease: GateRanges.minErrorRateIncrease.default(0.01),
    /**
     * Latency the canary may add to the stable version's (ms): breached when the canary is
     * significantly slower (one-sided Mann–Whitney U test) and its Hodges–Lehmann shift is over
     * both this and `minLatencyShiftRatio` of the stable median. @default 1
     */
    minLatencyShiftMs: GateRanges.minLatencyShiftMs.default(1),
    /** The same shift relative to the stable version's median latency (0.1 = 10%). @default 0.1 */
    minLatencyShiftRatio: GateRanges.minLatencyShiftRatio.default(0.1),
    /**
     * Largest canary p99 in ms (optional): breached when significantly more than 1% of the
     * canary's requests are slower than this (exact binomial test).
     */
    maxP99Ms: GateRanges.maxP99Ms.optional(),
    /**
     * Largest share of compared requests whose outputs disagree with the stable version:
     * breached when the disagreement is above it with the policy's confidence. @default 0.1
     */
    maxDisagreement: GateRanges.maxDisagreement.default(0.1),
  })
  .strict();

/**
 * `maxP99Ratio` was a gate until issue 9 (a ratio of two p99s, one slow request deciding it);
 * specs stored before, and scripts still sending it, parse with it dropped.
 */
function withoutRetiredGates(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('maxP99Ratio' in value)) return value;
  const rest: Record<string, unknown> = { ...value };
  delete rest['maxP99Ratio'];
  return rest;
}

/** Gates a canary must pass at every step, measured on its live traffic. */
export const GatesSchema = z.preprocess(withoutRetiredGates, GateFields);

const StepsSchema = z
  .array(z.number().gt(0).max(100))
  .min(1)
  .max(20)
  .refine((s) => s.every((p, i) => i === 0 || p > (s[i - 1] ?? 0)), { message: 'steps must increase' })
  .refine((s) => s[s.length - 1] === 100, { message: 'the last step must be 100' });
const StepSecondsSchema = z.number().min(0).max(86_400);
const MinRequestsSchema = z.number().int().min(1).max(10_000_000);
const CompareRateSchema = z.number().min(0).max(1);
const ConfidenceSchema = z.number().min(0.5).max(0.999999);
const ConsecutiveBreachesSchema = z.number().int().min(1).max(100);
const MaxWaitSecondsSchema = z
  .number()
  .min(0)
  .max(7 * 86_400);

/** How a canary proceeds. */
export const CanaryPolicySchema = z
  .object({
    /** Traffic percentages, increasing, the last one 100. @default [5, 25, 50, 100] */
    steps: StepsSchema.default([5, 25, 50, 100]),
    /** Least time at each step before it may advance (s). @default 30 */
    stepSeconds: StepSecondsSchema.default(30),
    /**
     * Requests each version needs in a step before its gates are checked, and again between two
     * checks (at the last step, the canary alone: the stable version gets no routed traffic).
     * @default 100
     */
    minRequests: MinRequestsSchema.default(100),
    /** Confidence of every gate's test: a breach needs a one-sided p-value under 1 − confidence. @default 0.99 */
    confidence: ConfidenceSchema.default(0.99),
    /** Checks in a row that must breach before the canary is rolled back. @default 2 */
    consecutiveBreaches: ConsecutiveBreachesSchema.default(2),
    /**
     * Longest a step waits for enough traffic to be judged (s, counted from the step's start and
     * at least `stepSeconds`); then the canary is aborted, never advanced on a guess. @default 600
     */
    maxWaitSeconds: MaxWaitSecondsSchema.default(600),
    /** Share of canary requests also run on the stable version to measure disagreement. @default 0.25 */
    compareRate: CompareRateSchema.default(0.25),
    gates: GatesSchema.default(() => GatesSchema.parse({})),
  })
  .strict();

/** Per-rollout overrides of a deployment's canary policy: no defaults, so absent fields keep the deployment's. */
export const CanaryOverridesSchema = z
  .object({
    steps: StepsSchema.optional(),
    stepSeconds: StepSecondsSchema.optional(),
    minRequests: MinRequestsSchema.optional(),
    confidence: ConfidenceSchema.optional(),
    consecutiveBreaches: ConsecutiveBreachesSchema.optional(),
    maxWaitSeconds: MaxWaitSecondsSchema.optional(),
    compareRate: CompareRateSchema.optional(),
    // Without defaults (zod's `partial()` would keep them): an absent gate keeps the deployment's.
    gates: z
      .preprocess(
        withoutRetiredGates,
        z
          .object({
            maxErrorRate: GateRanges.maxErrorRate.optional(),
            minErrorRateIncrease: GateRanges.minErrorRateIncrease.optional(),
            minLatencyShiftMs: GateRanges.minLatencyShiftMs.optional(),
            minLatencyShiftRatio: GateRanges.minLatencyShiftRatio.optional(),
            maxP99Ms: GateRanges.maxP99Ms.optional(),
            maxDisagreement: GateRanges.maxDisagreement.optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

/** Serving settings of a deployment: the batching and instance knobs of a model's config.json. */
export const DeploymentServingSchema = ModelConfigSchema.omit({ versionPolicy: true, warmup: true }).extend({
  warmup: z.union([z.boolean(), SyntheticWarmupSchema]).optional(),
});

/** The spec of a deployment. */
export const DeploymentSpecSchema = z
  .object({
    /** The registered model whose versions it serves. @default the deployment's name */
    model: ResourceNameSchema,
    routes: z
      .array(RouteSchema)
      .min(1)
      .max(16)
      .superRefine((routes, ctx) => {
        const total = routes.reduce((sum, r) => sum + r.weight, 0);
        if (Math.abs(total - 100) > 1e-9) {
          ctx.addIssue({ code: 'custom', message: `route weights must sum to 100, got ${total}` });
        }
        const seen = new Set<string>();
        for (const r of routes) {
          const key = r.version !== undefined ? `version ${r.version}` : `alias "${r.alias}"`;
          if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `${key} is routed twice` });
          seen.add(key);
        }
      }),
    sticky: StickySchema.optional(),
    shadow: ShadowSchema.optional(),
    serving: DeploymentServingSchema.default({}),
    /** Defaults for canary rollouts on this deployment. */
    canary: CanaryPolicySchema.default(() => CanaryPolicySchema.parse({})),
    description: z.string().max(4096).default(''),
  })
  .strict();

export type Route = z.infer<typeof RouteSchema>;
export type DeploymentSpec = z.infer<typeof DeploymentSpecSchema>;
export type CanaryPolicy = z.infer<typeof CanaryPolicySchema>;
export type Gates = z.infer<typeof GatesSchema>;

/** A request to start a rollout. */
export const RolloutRequestSchema = z
  .object({
    strategy: z.enum(['blue-green', 'canary']),
    ...TargetFields,
    /** Overrides of the deployment's canary policy for this rollout. */
    canary: CanaryOverridesSchema.optional(),
    reason: z.string().max(1024).optional(),
    /** Roll out even where the signature does not fit what the deployment's clients use (needs `reason`). */
    force: z.boolean().optional(),
  })
  .strict()
  .refine(exactlyOneTarget, { message: 'a rollout names exactly one of "version" or "alias"' })
  .refine((r) => r.force !== true || (r.reason ?? '').trim() !== '', {
    message: '"force": true needs a non-empty "reason" (it is recorded with the move)',
    path: ['reason'],
  });

export type RolloutRequest = z.infer<typeof RolloutRequestSchema>;

/** Where a canary stands; kept in the deployment's state. */
export interface CanaryState {
  readonly id: string;
  readonly status: 'running' | 'promoted' | 'rolled_back' | 'aborted';
  readonly stable: number;
  readonly canary: number;
  readonly policy: CanaryPolicy;
  /** Index into `policy.steps`. */
  readonly step: number;
  readonly stepStartedAt: number;
  readonly startedAt: number;
  readonly startedBy: string;
  /** The alias the deployment follows, moved to the canary on promotion. */
  readonly alias?: string;
  readonly finishedAt?: number;
  /** Why it was rolled back or aborted. */
  readonly reason?: string;
  /** Why the canary was forced past the signature check, when it was; its promotion is forced too. */
  readonly forcedReason?: string;
}

/** The state part of a deployment record. */
export interface DeploymentState {
  /** The running canary, or the last one that finished. */
  readonly canary?: CanaryState;
}

/** A deployment as the API shows it. */
export interface Deployment {
  readonly name: string;
  readonly spec: DeploymentSpec;
  readonly state: DeploymentState;
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/**
 * Reads a stored state, tolerating an empty one. A canary's policy is parsed again, so that a
 * canary stored before a policy field existed runs with that field's default.
 */
export function parseDeploymentState(value: unknown): DeploymentState {
  if (typeof value !== 'object' || value === null) return {};
  const state = value as DeploymentState;
  const policy = CanaryPolicySchema.safeParse(state.canary?.policy);
  if (state.canary === undefined || !policy.success) return state;
  return { ...state, canary: { ...state.canary, policy: policy.data } };
}
