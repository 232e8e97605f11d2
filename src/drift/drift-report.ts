/**
 * The drift report's shape, as stored and served (`GET /api/v1/deployments/{d}/drift`): per column
 * the test, its statistic (and p-value), the threshold and the verdict, with the reference and
 * current histograms a dashboard draws; and for the dataset, the share of drifted columns.
 */
import { z } from 'zod';
import { DRIFT_TESTS } from './drift-config.ts';

/** Shares per bin (numeric) or category (categorical); each side sums to 1. */
export const DriftHistogramSchema = z.object({
  /** Bin edges of a numeric column (one more than the shares). */
  edges: z.array(z.number()).optional(),
  /** Categories of a categorical column; `(other)` gathers the rest. */
  categories: z.array(z.string()).optional(),
  reference: z.array(z.number()),
  current: z.array(z.number()),
});

/** One column's verdict. */
export const DriftColumnSchema = z.object({
  name: z.string(),
  kind: z.enum(['numeric', 'categorical']),
  test: z.enum(DRIFT_TESTS),
  /** The distance, or the test statistic of a p-value test (a huge finite number stands for ∞). */
  statistic: z.number(),
  pValue: z.number().optional(),
  threshold: z.number(),
  drifted: z.boolean(),
  histogram: DriftHistogramSchema,
});

/** A drift report. */
export const DriftReportSchema = z.object({
  deployment: z.string(),
  model: z.string(),
  version: z.number().int(),
  computedAt: z.string().describe('ISO 8601'),
  /** `no-data`: the window held no rows, so nothing was judged (which is not "no drift"). */
  status: z.enum(['ok', 'no-data']),
  window: z.object({
    kind: z.enum(['count', 'time']),
    rows: z.number().int(),
    from: z.string().optional(),
    to: z.string().optional(),
  }),
  reference: z.object({ rows: z.number().int() }),
  datasetDrift: z.boolean(),
  driftShare: z.number(),
  driftShareThreshold: z.number(),
  columns: z.array(DriftColumnSchema),
});

/** Shares per bin or category. */
export type DriftHistogram = z.infer<typeof DriftHistogramSchema>;
/** One column's verdict. */
export type DriftColumn = z.infer<typeof DriftColumnSchema>;
/** A drift report. */
export type DriftReport = z.infer<typeof DriftReportSchema>;
