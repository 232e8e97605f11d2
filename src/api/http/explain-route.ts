/**
 * `POST /v2/models/{m}[/versions/{v}]/explain`: exact SHAP values of an inference request's rows,
 * per raw input column (see `src/serving/explain-version.ts`). The body is an inference request
 * (JSON or the binary tensor extension), read and checked exactly as `infer` reads it.
 */
import { z } from 'zod';
import type { Explanation } from '../../serving/explain-version.ts';
import { readInferBody } from './infer-body.ts';
import type { RouteInput } from './route.ts';
import type { ServingContext } from './route-context.ts';

/** The reply of `POST …/explain`. */
export const ExplainReply = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional().meta({ description: "The request's id, echoed" }),
  method: z
    .enum(['tree_path_dependent', 'linear_interventional'])
    .meta({ description: 'Exact TreeSHAP (path-dependent, weighted by training covers) or exact linear SHAP' }),
  explained: z.enum(['value', 'log_odds', 'logits']).meta({
    description:
      "What the values add up to: a regressor's value, a binary classifier's log-odds of its positive class, a multiclass classifier's logits",
  }),
  features: z.array(z.string()).meta({ description: 'The raw input columns, in the order of the innermost axis' }),
  outputs: z.array(z.string()).meta({ description: 'The explained outputs: `predictions`, or a class per margin' }),
  base_values: z.array(z.number()).meta({ description: 'The explained output with no feature known, per output' }),
  shap_values: z
    .array(z.array(z.array(z.number())))
    .meta({ description: '[row][output][feature]: Σ over features + base_values[output] = the explained output' }),
});

/** Error codes of the route, for the documentation. */
export const EXPLAIN_ERRORS = [
  'BAD_REQUEST',
  'INVALID_JSON',
  'INVALID_INPUT',
  'INVALID_PARAMETER',
  'MODEL_NOT_FOUND',
  'VERSION_NOT_FOUND',
  'BODY_TOO_LARGE',
  'UNSUPPORTED',
  'MODEL_NOT_READY',
] as const;

/** The handler. */
export async function explain(
  { params, body, request }: RouteInput<{ model: string; version?: string }, undefined, Buffer | undefined>,
  { service, config }: ServingContext,
): Promise<Explanation> {
  const { decoded } = readInferBody(body, request, config);
  return service.explain({
    model: params.model,
    request: decoded,
    headers: request.headers,
    ...(params.version !== undefined && { version: params.version }),
  });
}
