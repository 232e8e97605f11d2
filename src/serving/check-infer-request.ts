/**
 * Checks a decoded request against the signature a model (version) serves, without running it:
 * asynchronous inference refuses a bad request at submission (400 at once) instead of failing
 * the job later. The job validates again when it runs, against the version it is routed to.
 */
import type { InferenceService } from './inference-service.ts';
import { hasDynamicBatchDimension } from './signature.ts';
import type { InferRequest } from './types.ts';
import { validateRequest } from './validate-request.ts';

/** What {@link checkInferRequest} checks. */
export interface CheckInferRequestOptions {
  readonly model: string;
  readonly version?: string;
  readonly request: InferRequest;
}

/**
 * Validates a request against the model's (primary or named) version signature.
 * @throws StratumError MODEL_NOT_FOUND, VERSION_NOT_FOUND, INVALID_INPUT or INVALID_OUTPUT.
 */
export function checkInferRequest(service: InferenceService, options: CheckInferRequestOptions): void {
  const { model, version, request } = options;
  const { inputs, outputs } = service.modelMetadata(model, version);
  const signature = { inputs, outputs };
  validateRequest({
    request,
    signature,
    batched: hasDynamicBatchDimension(signature),
    target: `model "${model}"${version === undefined ? '' : ` version ${version}`}`,
  });
}
