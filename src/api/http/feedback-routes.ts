/**
 * Feedback and live quality (issue 12): `POST /api/v1/feedback` stores labels for logged requests
 * (answering for every item), `GET /api/v1/deployments/{name}/quality` reads each version's live
 * metrics. Both need the inference log; without it they answer UNSUPPORTED naming the setting.
 */
import { z } from 'zod';
import { MAX_FEEDBACK_ITEMS } from '../../deploy/feedback.ts';
import { StratumError } from '../../errors/index.ts';
import { FairnessSchema } from '../../registry/model-card.ts';
import { DeploymentParams } from './management-schemas.ts';
import { type HttpRoute, routeFactory } from './route.ts';
import type { InferenceLogContext, ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

/** `POST /api/v1/feedback`: items are checked one by one, so a bad item is rejected alone. */
export const FeedbackBody = z
  .object({
    items: z
      .array(z.unknown())
      .min(1)
      .max(MAX_FEEDBACK_ITEMS)
      .describe('[{"request_id": "…", "label": 1}, …]: a label per row (an array) for a request of several rows'),
  })
  .strict();

const FeedbackReply = z.object({
  accepted: z.number().int(),
  relabelled: z.number().int(),
  rejected: z.array(
    z.object({ index: z.number().int(), request_id: z.string().nullable(), code: z.string(), reason: z.string() }),
  ),
});

const QualityQuery = z
  .object({
    windowRecords: z.coerce.number().int().min(1).max(1_000_000).optional(),
    windowSeconds: z.coerce.number().int().min(1).max(31_536_000).optional(),
  })
  .strict();

const QualityMetricsReply = z.union([
  z.object({ accuracy: z.number(), auc: z.number().nullable(), f1: z.number() }),
  z.object({ rmse: z.number(), mae: z.number() }),
]);
const QualityReply = z.object({
  deployment: z.string(),
  versions: z.array(
    z.object({
      version: z.string(),
      model: z.string(),
      task: z.enum(['classification', 'regression']),
      labelled: z.number().int(),
      metrics: QualityMetricsReply,
      series: z.array(z.object({ at: z.string(), metrics: QualityMetricsReply })),
      /** The card's fairness report on the count window, per sensitive column the training declared. */
      fairness: z.array(FairnessSchema).optional(),
    }),
  ),
});

function logOf(context: ManagementContext): InferenceLogContext {
  if (context.inferenceLog === undefined) {
    throw new StratumError(
      'UNSUPPORTED',
      'the inference log is off: set inferenceLog.sampleRate (STRATUM_INFERENCE_LOG_SAMPLE_RATE) above 0 to log requests and take feedback',
    );
  }
  return context.inferenceLog;
}

/** The feedback and quality routes. */
export const FEEDBACK_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'POST',
    path: '/api/v1/feedback',
    permission: 'models:infer',
    // Labels are data about predictions, like the requests themselves, not a change to what serves.
    audit: false,
    summary: 'Labels for logged requests: {"items": [{"request_id", "label"}]}; every rejected item is named',
    tags: ['deployments'],
    body: FeedbackBody,
    reply: FeedbackReply,
    errors: ['BAD_REQUEST', 'INVALID_JSON', 'UNSUPPORTED', 'STORE_UNAVAILABLE'],
    handler: ({ body }, context) => logOf(context).feedback.submit(body.items),
  }),
  route({
    method: 'GET',
    path: '/api/v1/deployments/:name/quality',
    permission: 'registry:read',
    summary:
      "Live quality of a deployment's versions from feedback: metrics and fairness (per declared sensitive column) over the count window, series over time",
    tags: ['deployments'],
    params: DeploymentParams,
    query: QualityQuery,
    reply: QualityReply,
    errors: ['BAD_REQUEST', 'DEPLOYMENT_NOT_FOUND', 'UNSUPPORTED', 'STORE_UNAVAILABLE'],
    handler: async ({ params, query }, context) => {
      const quality = await logOf(context).quality.of(params.name, {
        ...(query.windowRecords !== undefined && { windowRecords: query.windowRecords }),
        ...(query.windowSeconds !== undefined && { windowSeconds: query.windowSeconds }),
      });
      if (quality.versions.length === 0 && !context.deployments.has(params.name)) {
        throw new StratumError('DEPLOYMENT_NOT_FOUND', `no deployment "${params.name}" and nothing logged for it`, {
          details: { deployment: params.name },
        });
      }
      return quality;
    },
  }),
];
