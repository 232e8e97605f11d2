/**
 * A model's optional `config.json` in the model repository: batching, instances, warm-up and which
 * versions to serve. Field names follow Triton's model configuration where one exists.
 */
import { z } from 'zod';
import type { BatchingDefaults, RuntimeConfig } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import { formatIssues, specErrorMap } from '../errors/format-issues.ts';
import type { BatcherSettings } from './batcher.ts';

const positive = z.number().int().min(1);

/** What synthetic warm-up inputs hold: zeros, or uniform random values in `[min, max]`. */
export const WarmupDataSchema = z.union([
  z.literal('zeros'),
  z
    .object({
      random: z
        .object({
          min: z.number(),
          max: z.number(),
          /** Seed of the generator, so a warm-up is the same on every replica. @default 1 */
          seed: z.number().int().min(0).max(0xffffffff).optional(),
        })
        .strict()
        .refine((r) => r.min <= r.max, { message: 'min must not be greater than max' }),
    })
    .strict(),
]);

/** The warm-up settings a deployment may declare (no files: a deployment has no model folder). */
export const SyntheticWarmupSchema = z
  .object({
    /** Batch sizes of the synthetic warm-up. @default [1, ...preferredBatchSizes] */
    batchSizes: z.array(positive).max(64).optional(),
    /** @default 'zeros' */
    data: WarmupDataSchema.optional(),
  })
  .strict();

/** `config.json`'s `warmup`: off, on (zeros), synthetic settings, or a file of sample requests. */
export const WarmupSchema = z.union([
  z.boolean(),
  SyntheticWarmupSchema.extend({
    /**
     * A JSON file in the model's folder holding one OIP inference request body or an array of
     * them (JSON data only), run instead of synthetic inputs.
     */
    requests: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
        message: 'must be a path inside the model folder (relative, without "..")',
      })
      .optional(),
  }).strict(),
]);

/** The schema of `config.json`. */
export const ModelConfigSchema = z
  .object({
    /** Largest batch; 0 turns batching off. */
    maxBatchSize: z.number().int().min(0).max(65_536).optional(),
    dynamicBatching: z
      .object({
        maxQueueDelayMicroseconds: z.number().int().min(0).max(10_000_000).optional(),
        preferredBatchSizes: z.array(positive).max(64).optional(),
        maxQueueSize: positive.optional(),
        priorityLevels: z.number().int().min(1).max(16).optional(),
        defaultPriority: z.number().int().min(1).max(16).optional(),
        defaultTimeoutMicroseconds: z.number().int().min(0).optional(),
        /** While another instance is busy, hold a small batch up to half the recent batch time. */
        adaptiveQueueDelay: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /** Sessions (execution slots) per version. @default the runtime's worker count */
    instances: z.number().int().min(1).max(64).optional(),
    intraOpThreads: z.number().int().min(1).max(256).optional(),
    interOpThreads: z.number().int().min(1).max(256).optional(),
    /**
     * Runs a request on the main thread, without the hop to a session worker and back (two
     * thread wake-ups, ≈ 0.2 ms each on a small VM), when nothing else is queued or running and
     * the model's measured run of one request takes at most this long (µs). The run blocks the
     * event loop meanwhile, so keep it small; the model is loaded once more, on the main thread.
     * @default 0 (off)
     */
    inlineRunMaxMicroseconds: z.number().int().min(0).max(10_000).optional(),
    /**
     * Runs before a version takes traffic. A failed warm-up is recorded (log, metric, repository
     * index) and the version is served anyway. @default true (zeros)
     */
    warmup: WarmupSchema.optional(),
    versionPolicy: z
      .union([
        z.object({ latest: positive }).strict(),
        z.object({ all: z.literal(true) }).strict(),
        z.object({ specific: z.array(z.number().int().min(1)).min(1) }).strict(),
      ])
      .optional(),
  })
  .strict();

/** The parsed `config.json`. */
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** What a version is warmed up with before it takes traffic. */
export interface ResolvedWarmup {
  /** Batch sizes of the synthetic warm-up; empty means no synthetic warm-up. */
  readonly batchSizes: readonly number[];
  readonly data: z.infer<typeof WarmupDataSchema>;
  /** File of sample requests, relative to the model folder (repository models only). */
  readonly requests?: string;
}

/** Everything a model version is loaded with, defaults filled in. */
export interface ResolvedModelConfig extends Omit<BatcherSettings, 'batching'> {
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly warmup: ResolvedWarmup;
  readonly versionPolicy: NonNullable<ModelConfig['versionPolicy']>;
  /** See `inlineRunMaxMicroseconds` in config.json; 0 is off. */
  readonly inlineRunMaxMicroseconds: number;
}

/**
 * Parses `config.json` text.
 * @throws StratumError INVALID_MODEL naming the file and every issue with its path.
 */
export function parseModelConfig(text: string, file: string): ModelConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StratumError('INVALID_MODEL', `${file}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ModelConfigSchema.safeParse(json, { error: specErrorMap });
  if (!parsed.success) throw new StratumError('INVALID_MODEL', `${file}: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** Fills in defaults from the server configuration. */
export function resolveModelConfig(
  config: ModelConfig,
  defaults: { batching: BatchingDefaults; runtime: RuntimeConfig },
): ResolvedModelConfig {
  const b = config.dynamicBatching ?? {};
  const maxBatchSize = config.maxBatchSize ?? defaults.batching.maxBatchSize;
  const priorityLevels = b.priorityLevels ?? defaults.batching.priorityLevels;
  const preferred = [...new Set(b.preferredBatchSizes ?? [])]
    .filter((s) => s <= Math.max(1, maxBatchSize))
    .sort((x, y) => x - y);
  const declared = config.warmup ?? true;
  const settings = typeof declared === 'boolean' ? {} : declared;
  const warmup: ResolvedWarmup = {
    batchSizes: declared === false ? [] : [...(settings.batchSizes ?? new Set([1, ...preferred]))],
    data: settings.data ?? 'zeros',
    ...(settings.requests !== undefined && { requests: settings.requests }),
  };
  return {
    maxBatchSize,
    maxQueueDelayMicroseconds: b.maxQueueDelayMicroseconds ?? defaults.batching.maxQueueDelayMicroseconds,
    preferredBatchSizes: preferred,
    maxQueueSize: b.maxQueueSize ?? defaults.batching.maxQueueSize,
    priorityLevels,
    defaultPriority: Math.min(b.defaultPriority ?? defaults.batching.defaultPriority, priorityLevels),
    defaultTimeoutMicroseconds: b.defaultTimeoutMicroseconds ?? 0,
    adaptiveQueueDelay: b.adaptiveQueueDelay ?? true,
    instances: config.instances ?? defaults.runtime.workers,
    intraOpThreads: config.intraOpThreads ?? defaults.runtime.intraOpThreads,
    interOpThreads: config.interOpThreads ?? defaults.runtime.interOpThreads,
    warmup,
    versionPolicy: config.versionPolicy ?? { latest: 1 },
    inlineRunMaxMicroseconds: config.inlineRunMaxMicroseconds ?? 0,
  };
}
