/**
 * The request schemas of the HTTP routes: each route declares its path parameters, query and body
 * with these, and the OpenAPI document is generated from the same declarations (so the document
 * cannot drift from what the routes accept).
 */
import { z } from 'zod';
import { DeploymentSpecSchema, RolloutRequestSchema } from '../../registry/deployment-spec.ts';
import {
  ALIAS_NAME_PATTERN,
  AliasNameSchema,
  ResourceNameSchema,
  TagSchema,
  VersionNumberSchema,
} from '../../registry/names.ts';
import { documentedAs } from './route.ts';

// Path parameters. Each reports its own message, naming the parameter and the value received.

/** `:version` of the management API: a positive integer. */
export const VersionParam = z
  .string()
  .transform((raw, ctx) => {
    const parsed = VersionNumberSchema.safeParse(Number(raw));
    if (!parsed.success || !/^\d+$/.test(raw)) {
      ctx.addIssue({ code: 'custom', message: `version must be a positive integer, got "${raw}"` });
      return z.NEVER;
    }
    return parsed.data;
  })
  .meta({ type: 'integer', minimum: 1 } as Record<string, unknown>);
/** `:alias`: an alias name. */
export const AliasParam = z
  .string()
  .superRefine((raw, ctx) => {
    const parsed = AliasNameSchema.safeParse(raw);
    if (!parsed.success) ctx.addIssue({ code: 'custom', message: `alias "${raw}" ${parsed.error.issues[0]?.message}` });
  })
  .meta({ pattern: ALIAS_NAME_PATTERN.source });

export const ModelParams = z.object({ model: z.string() });
export const ModelVersionParams = z.object({ model: z.string(), version: VersionParam });
export const ModelAliasParams = z.object({ model: z.string(), alias: AliasParam });
export const DeploymentParams = z.object({ name: z.string() });
export const RunParams = z.object({ id: z.string() });
export const DatasetParams = z.object({ version: z.string() });
/** The inference protocol's `:version` is any string (the model source decides what it names). */
export const OipModelParams = z.object({ model: z.string() });
export const OipVersionParams = z.object({ model: z.string(), version: z.string() });

export const PageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().min(1).max(512).optional(),
};

export const ModelsQuery = z
  .object({ ...PageQuery, name: z.string().max(128).optional(), tag: TagSchema.optional() })
  .strict();
export const VersionsQuery = z
  .object({ ...PageQuery, status: z.enum(['ready', 'archived']).optional(), tag: TagSchema.optional() })
  .strict();
export const DeploymentsQuery = z.object({ ...PageQuery, model: ResourceNameSchema.optional() }).strict();
export const PageOnlyQuery = z.object(PageQuery).strict();

export const CreateModelBody = z
  .object({
    name: ResourceNameSchema,
    description: z.string().max(4096).default(''),
    tags: z.array(TagSchema).max(64).default([]),
  })
  .strict();
export const PatchModelBody = z
  .object({ description: z.string().max(4096).optional(), tags: z.array(TagSchema).max(64).optional() })
  .strict();
export const PatchVersionBody = z
  .object({
    status: z.enum(['ready', 'archived']).optional(),
    tags: z.array(TagSchema).max(64).optional(),
    description: z.string().max(4096).optional(),
  })
  .strict();
export const PushQuery = z
  .object({
    description: z.string().max(4096).optional(),
    modelDescription: z.string().max(4096).optional(),
    tags: z.string().max(4096).optional(),
    metrics: z.string().max(65_536).optional(),
    lineage: z.string().max(65_536).optional(),
    /** Point this alias at the new version in the same write (refused like an alias move: no version is left behind). */
    alias: AliasNameSchema.optional(),
    /** Why the alias moves (recorded in its history). */
    reason: z.string().max(1024).optional(),
    /** Move the alias even where the signature does not fit a deployment's clients; needs `reason`. */
    force: z.enum(['true', 'false']).optional(),
  })
  .strict();
export const MetricsSchema = z.record(z.string().min(1).max(128), z.number());
export const LineageSchema = z
  .object({
    runId: z.string().max(256).optional(),
    datasetVersion: z.string().max(256).optional(),
    parentVersion: VersionNumberSchema.optional(),
    source: z.string().max(1024).optional(),
    /** The tuning experiment whose best trial the version is. */
    experiment: z.string().max(256).optional(),
    /** Digest of an artifact of sample requests that warm the version up. */
    samples: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be a sha256 digest (64 lower-case hex digits)')
      .optional(),
  })
  .strict();
export const AliasBody = z
  .object({
    version: VersionNumberSchema,
    reason: z.string().max(1024).optional(),
    /** Move even where the signature does not fit a deployment's clients; needs a `reason` (recorded). */
    force: z.boolean().optional(),
  })
  .strict();
export const DeleteReasonBody = z.object({ reason: z.string().max(1024).optional() }).strict();
// The registry parses deployment specs and rollout requests itself (its messages name the
// deployment); the route only checks the outline, and the document shows what the registry accepts.
export const CreateDeploymentBody = documentedAs(
  z.object({ name: ResourceNameSchema }).passthrough(),
  DeploymentSpecSchema.extend({ name: z.string() }).partial({ model: true }),
);
export const UpdateDeploymentBody = documentedAs(
  z.record(z.string(), z.unknown()),
  DeploymentSpecSchema.partial({ model: true }).extend({
    /** Apply even where a routed version does not fit the deployment's clients; needs `reason`. */
    force: z.boolean().optional(),
    /** Why (recorded in the deployment's events). */
    reason: z.string().max(1024).optional(),
  }),
);
export const RolloutBody = documentedAs(z.unknown(), RolloutRequestSchema);
export const AbortBody = z.object({ reason: z.string().max(1024).default('aborted by request') }).strict();
export const GcBody = z
  .object({
    /** Report what would go, remove nothing. */
    dryRun: z.boolean().default(false),
    /** Keep artifacts younger than this (s): an upload whose version is not yet written is one. */
    graceSeconds: z.number().int().min(0).max(31_536_000).default(600),
  })
  .strict();
export const GcReply = z.object({
  dryRun: z.boolean(),
  removed: z.array(z.object({ digest: z.string(), size: z.number(), storedAt: z.number() })),
  freedBytes: z.number(),
});

// Dataset versions.
export const DatasetVersionsQuery = z.object({ ...PageQuery, name: z.string().min(1).max(256).optional() }).strict();

// Tracked runs.
export const RunStatusSchema = z.enum(['running', 'succeeded', 'failed']);
export const ExperimentsQuery = z
  .object({ ...PageQuery, status: z.enum(['running', 'succeeded', 'failed', 'cancelled']).optional() })
  .strict();
export const ExperimentParams = z.object({ id: z.string().min(1).max(256) });
export const RunsQuery = z
  .object({ ...PageQuery, status: RunStatusSchema.optional(), name: z.string().min(1).max(256).optional() })
  .strict();
export const CreateRunBody = z
  .object({
    name: z.string().min(1).max(256),
    params: z.record(z.string().max(256), z.unknown()).default({}),
    datasetVersion: z.string().min(1).max(256).optional(),
    codeVersion: z.string().min(1).max(256).optional(),
  })
  .strict();
export const RunMetricsBody = z
  .object({
    metrics: z
      .array(
        z
          .object({
            key: z.string().min(1).max(128),
            step: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
            value: z.number().refine(Number.isFinite, 'must be a finite number'),
          })
          .strict(),
      )
      .min(1)
      .max(10_000),
  })
  .strict();
export const RunMetricsQuery = z.object({ key: z.string().min(1).max(128).optional() }).strict();
export const RunArtifactSchema = z
  .object({
    name: z.string().min(1).max(1024),
    digest: z.string().min(1).max(256),
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();
export const FinishRunBody = z
  .object({
    status: z.enum(['succeeded', 'failed']),
    error: z.string().min(1).max(65_536).optional(),
    metrics: MetricsSchema.optional(),
    artifacts: z.array(RunArtifactSchema).max(1000).optional(),
  })
  .strict();
