/**
 * A batch's model loaded in the runtime pool (one instance per worker thread, so the chunks
 * running at once keep every thread busy), with the plans of its feeds and output columns. Runs
 * go to the instances in turn.
 */
import { randomUUID } from 'node:crypto';
import type { RuntimePool } from '../../runtime/runtime-pool.ts';
import type { WireTensor } from '../../runtime/messages.ts';
import type { PlannedSource } from './batch-plan.ts';
import type { BatchSpec } from './batch-spec.ts';
import type { ResolvedModel } from './batch-model.ts';
import { type FeedsPlan, planFeeds } from './model-feeds.ts';
import { type OutputsPlan, planOutputs } from './output-columns.ts';

/** A loaded batch model. */
export interface BatchSession {
  readonly feeds: FeedsPlan;
  readonly outputs: OutputsPlan;
  /** Runs a batch on the next instance; the feeds' buffers are transferred. */
  run(tensors: readonly WireTensor[]): Promise<readonly WireTensor[]>;
  /** Unloads the model. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link openBatchSession}. */
export interface OpenBatchSessionOptions {
  readonly runtime: RuntimePool;
  readonly model: ResolvedModel;
  readonly spec: Pick<BatchSpec, 'inputs' | 'outputs' | 'passThrough'>;
  readonly source: PlannedSource;
  /** Sessions to create. @default the pool's worker count */
  readonly instances?: number;
}

/** Loads the model and plans its feeds and outputs; refuses a mapping that does not fit. */
export async function openBatchSession(options: OpenBatchSessionOptions): Promise<BatchSession> {
  const { runtime, model, spec } = options;
  const key = `batch:${model.label}:${randomUUID()}`;
  const loaded = await runtime.load({
    key,
    bytes: model.bytes,
    instances: options.instances ?? runtime.size,
    // One thread per session: the chunks running at once use the cores, not ORT's intra-op pool.
    settings: { intraOpThreads: 1, interOpThreads: 1 },
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= runtime.unload(key));
  try {
    const feeds = planFeeds({ spec, inputs: loaded.inputs, sourceColumns: options.source.columns });
    const outputs = planOutputs({
      passThrough: spec.passThrough ?? [],
      modelOutputs: loaded.outputs,
      outputs: spec.outputs,
      classes: model.classes,
    });
    let next = 0;
    return {
      feeds,
      outputs,
      async run(tensors) {
        const instance = next;
        next = (next + 1) % loaded.instances;
        const result = await runtime.run({ key, instance, feeds: tensors, fetches: outputs.fetches });
        return result.outputs;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
