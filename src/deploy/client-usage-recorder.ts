/**
 * Records what a deployment's clients use: the input names their requests carry and the output
 * names they read — the ones a request lists in `outputs`, or, when it lists none, every output it
 * received. The registry checks moves against this (`registry/signature-check.ts`), so an output
 * no client reads never blocks one. The hot path is a set lookup per name; the store is written
 * only when this replica sees a name for the first time (another replica or a restart may write it
 * again: the store keeps the first).
 */
import type { Logger } from '../logging/logger.ts';
import type { InferTarget } from '../serving/model-source.ts';
import type { InferRequest, InferResponse } from '../serving/types.ts';

/** New names to add to what a deployment's clients use. */
export interface NewClientUsage {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Options of {@link createClientUsageRecorder}. */
export interface ClientUsageRecorderOptions {
  /** The deployment's name, for logs. */
  readonly name: string;
  /** Persists new names (the registry's `recordClientUsage`). */
  readonly record: (usage: NewClientUsage) => Promise<void>;
  readonly logger: Logger;
}

/** The usage recorder of one deployment on this replica. */
export interface ClientUsageRecorder {
  /** `target`, noting what each request it answers used. */
  watch(target: InferTarget): InferTarget;
  /** Notes what an answered request used. */
  observe(request: InferRequest, response: InferResponse): void;
}

/** Creates the recorder of one deployment. */
export function createClientUsageRecorder(options: ClientUsageRecorderOptions): ClientUsageRecorder {
  const { name, logger } = options;
  const inputs = new Set<string>();
  const outputs = new Set<string>();

  function observe(request: InferRequest, response: InferResponse): void {
    let newInputs: string[] | undefined;
    let newOutputs: string[] | undefined;
    for (const input of request.inputs) {
      if (!inputs.has(input.name)) (newInputs ??= []).push(input.name);
    }
    // A request that names no outputs receives them all: it counts as reading each one.
    for (const output of request.outputs ?? response.outputs) {
      if (!outputs.has(output.name)) (newOutputs ??= []).push(output.name);
    }
    if (newInputs === undefined && newOutputs === undefined) return;
    const usage = { inputs: newInputs ?? [], outputs: newOutputs ?? [] };
    // Marked seen before the write, so requests arriving meanwhile do not write the same names.
    for (const n of usage.inputs) inputs.add(n);
    for (const n of usage.outputs) outputs.add(n);
    options.record(usage).catch((error: unknown) => {
      // Forgotten again, so that the next request carrying them retries the write.
      for (const n of usage.inputs) inputs.delete(n);
      for (const n of usage.outputs) outputs.delete(n);
      logger.warn({ deployment: name, usage, reason: (error as Error).message }, 'could not record client usage');
    });
  }

  return {
    observe,
    watch: (target) => ({
      model: target.model,
      version: target.version,
      ...(target.explain !== undefined && { explain: target.explain.bind(target) }),
      async infer(request, protocol) {
        const response = await target.infer(request, protocol);
        observe(request, response);
        return response;
      },
    }),
  };
}
