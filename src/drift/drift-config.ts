/**
 * A deployment's drift settings: the current window, the thresholds, the share of drifted columns
 * that makes the dataset drifted, and per-column test overrides. Validated once when they are set
 * (a bad field is named by its path), stored as parsed, and read back through the same schema.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { formatIssues } from '../errors/format-issues.ts';

/** The tests a column can be judged by. */
export const DRIFT_TESTS = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'] as const;
/** A test's name. */
export type DriftTest = (typeof DRIFT_TESTS)[number];

/** Tests whose score is a p-value (drift when below the threshold); the others are distances (drift at or above). */
export const P_VALUE_TESTS: ReadonlySet<DriftTest> = new Set(['ks', 'chisquare', 'z']);

const DURATION = /^([1-9]\d{0,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `15m`, `1h`, `7d`. */
export const DurationSchema = z.string().regex(DURATION, 'expected a duration like "90s", "15m", "1h" or "7d"');

/** Milliseconds of a duration accepted by {@link DurationSchema}. */
export function durationMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (match === null) throw new StratumError('BAD_REQUEST', `invalid duration ${JSON.stringify(duration)}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The largest window read at once (rows). */
export const MAX_WINDOW_ROWS = 5_000_000;

/** The current window: the last `rows` requests, or those of the last `duration` (at most `maxRows`). */
export const DriftWindowSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('count'),
      /** @default 1000 */
      rows: z.number().int().min(1).max(MAX_WINDOW_ROWS).default(1000),
    })
    .strict(),
  z
    .object({
      kind: z.literal('time'),
      /** @default '1h' */
      duration: DurationSchema.default('1h'),
      /** Newest rows kept when the period holds more. @default 100000 */
      maxRows: z.number().int().min(1).max(MAX_WINDOW_ROWS).default(100_000),
    })
    .strict(),
]);
/** A parsed window. */
export type DriftWindow = z.infer<typeof DriftWindowSchema>;

/** One column's overrides. */
export const ColumnDriftSettingsSchema = z
  .object({
    /** The test instead of the default one (see `choose-test.ts`). */
    test: z.enum(DRIFT_TESTS).optional(),
    /** The threshold instead of the test kind's default. */
    threshold: z.number().positive().max(1000).optional(),
    /** Leave the column out. @default false */
    ignore: z.boolean().default(false),
  })
  .strict();

/** A deployment's drift settings. */
export const DriftConfigSchema = z
  .object({
    window: DriftWindowSchema.default({ kind: 'count', rows: 1000 }),
    /** Share of drifted columns at which the dataset counts as drifted (Evidently's `drift_share`). @default 0.5 */
    driftShare: z.number().gt(0).max(1).default(0.5),
    /** Threshold of the p-value tests (ks, chisquare, z): drift when p < it. @default 0.05 */
    pValueThreshold: z.number().gt(0).lt(1).default(0.05),
    /** Threshold of the distances (wasserstein, jensenshannon, psi): drift when ≥ it. @default 0.1 */
    distanceThreshold: z.number().positive().max(1000).default(0.1),
    /** Per-column overrides, by column name (`prediction.<output>` for a prediction). @default {} */
    columns: z.record(z.string().min(1).max(256), ColumnDriftSettingsSchema).default({}),
    /** Judge the predictions too, where the reference has them. @default true */
    predictions: z.boolean().default(true),
    /**
     * Compute a report this often by itself (every serving replica with the registry checks its
     * deployments), so alert rules on the drift gauges see drift without anyone asking. Unset: only
     * on request.
     */
    every: DurationSchema.optional(),
  })
  .strict();

/** Parsed drift settings. */
export type DriftConfig = z.infer<typeof DriftConfigSchema>;
/** Drift settings as a person writes them (every field optional). */
export type DriftConfigInput = z.input<typeof DriftConfigSchema>;

/**
 * Validates drift settings.
 *
 * @throws StratumError BAD_REQUEST naming each bad field by its path, e.g. `columns.age.test: …`.
 */
export function parseDriftConfig(input: unknown): DriftConfig {
  const parsed = DriftConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new StratumError('BAD_REQUEST', `invalid drift config: ${formatIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/**
 * A window written in a query string: a row count (`5000`) or a duration (`1h`).
 *
 * @throws StratumError BAD_REQUEST when it is neither.
 */
export function parseWindowParameter(text: string): DriftWindow {
  if (/^\d+$/.test(text)) {
    return parseDriftConfig({ window: { kind: 'count', rows: Number(text) } }).window;
  }
  if (DURATION.test(text)) return { kind: 'time', duration: text, maxRows: 100_000 };
  throw new StratumError(
    'BAD_REQUEST',
    `window: expected a row count ("5000") or a duration ("15m", "1h", "7d"), got ${JSON.stringify(text)}`,
  );
}

/** The window as one string (`count:1000`, `time:1h`), as reports are filed under. */
export function windowKey(window: DriftWindow): string {
  return window.kind === 'count' ? `count:${window.rows}` : `time:${window.duration}`;
}
