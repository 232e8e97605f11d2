/** Copying a request before it runs, for a deployment's side traffic. */
import type { InferRequest } from '../serving/types.ts';

/**
 * A request whose tensors own fresh buffers: running the original transfers its buffers to a
 * worker thread, so whatever reuses a request (a shadow, a comparison, warm-up) needs a copy.
 */
export function cloneRequest(request: InferRequest): InferRequest {
  return {
    ...request,
    inputs: request.inputs.map((input) => ({
      ...input,
      data: Array.isArray(input.data) ? input.data.map((b) => b.slice()) : (input.data as Float32Array).slice(),
    })),
  };
}
