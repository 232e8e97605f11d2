/**
 * The inference log's {@link InferenceRecorder}: decides per request whether it is logged (the
 * deployment's sample rate, else the global one), gives a logged request without an id one
 * (returned in the response, so that feedback can name it), keeps a logged request's inputs
 * (copying only those that running it may take away), and hands the answered request to the
 * writer. A request that is not logged is left as it came: feedback could not name it anyway (its
 * id would be "not logged"), and at a 1% rate the other 99% pay only the random draw.
 */
import type { InferenceLogConfig } from '../config/index.ts';
import type { InferenceCapture, InferenceRecorder } from '../serving/inference-recorder.ts';
import type { InferInput } from '../serving/types.ts';
import { createTimeOrderedIds } from '../util/time-ordered-ids.ts';
import type { InferenceLogWriter } from './inference-log-writer.ts';
import type { RedactionRule } from './logged-tensor.ts';

/** Options of {@link createInferenceLogRecorder}. */
export interface InferenceLogRecorderOptions {
  readonly settings: Pick<InferenceLogConfig, 'sampleRate' | 'deployments' | 'redact'>;
  readonly writer: Pick<InferenceLogWriter, 'offer'>;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Ids for logged requests that came without one. @default UUIDv7s (time-ordered: see `util/time-ordered-ids.ts`) */
  readonly newId?: () => string;
}

/**
 * What the log keeps of a request's inputs. A batch of one sends a typed array that spans its
 * whole buffer to onnxruntime's worker by transfer (`stackInputs` in `serving/batch-tensors.ts`),
 * which empties it here: those are copied. A view into a larger buffer (a binary request's body)
 * is only ever read — stacked or copied, never transferred, never written — and neither are BYTES
 * elements (decoded to strings), so those are kept as they are: the log copies them once, when
 * the request is answered and the writer packs its record.
 */
function keptInputs(inputs: readonly InferInput[]): readonly InferInput[] {
  let copied: InferInput[] | undefined;
  inputs.forEach((input, i) => {
    const { data } = input;
    if (Array.isArray(data) || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) return;
    copied ??= [...inputs];
    copied[i] = { ...input, data: data.slice() };
  });
  return copied ?? inputs;
}

/** Whether any deployment (or the default) logs requests: without that, no recorder is needed. */
export function inferenceLogOn(settings: Pick<InferenceLogConfig, 'sampleRate' | 'deployments'>): boolean {
  return settings.sampleRate > 0 || Object.values(settings.deployments).some((d) => (d.sampleRate ?? 0) > 0);
}

/** Creates the recorder. */
export function createInferenceLogRecorder(options: InferenceLogRecorderOptions): InferenceRecorder {
  const { settings, writer } = options;
  const random = options.random ?? Math.random;
  const newId = options.newId ?? createTimeOrderedIds();

  const rateOf = (name: string): number => settings.deployments[name]?.sampleRate ?? settings.sampleRate;
  // The settings are frozen, so a deployment's merged rules are worked out once, not per request.
  const rules = new Map<string, Readonly<Record<string, RedactionRule>>>();
  const rulesOf = (name: string): Readonly<Record<string, RedactionRule>> => {
    let merged = rules.get(name);
    if (merged === undefined) {
      const own = settings.deployments[name]?.redact;
      merged = own === undefined ? settings.redact : { ...settings.redact, ...own };
      rules.set(name, merged);
    }
    return merged;
  };

  return {
    begin(name, request) {
      const rate = rateOf(name);
      if (rate <= 0 || random() >= rate) return { request };
      const requestId = request.id ?? newId();
      const withId = request.id === undefined ? { ...request, id: requestId } : request;
      const capture: InferenceCapture = {
        requestId,
        deployment: name,
        inputs: keptInputs(request.inputs),
        startedAt: performance.now(),
        ...(request.trace !== undefined && { trace: request.trace }),
      };
      return { request: withId, capture };
    },
    end(capture, { model, version, response }) {
      writer.offer({
        requestId: capture.requestId,
        deployment: capture.deployment,
        model,
        version,
        at: Date.now(),
        latencyMs: performance.now() - capture.startedAt,
        inputs: capture.inputs,
        outputs: response.outputs,
        redact: rulesOf(capture.deployment),
        ...(capture.trace !== undefined && { trace: capture.trace }),
      });
    },
  };
}
