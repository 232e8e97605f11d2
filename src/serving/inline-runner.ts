/**
 * A model version's session on the main thread, for a request that arrives while nothing else is
 * queued or running (config.json `inlineRunMaxMicroseconds`). A run in a session worker costs two
 * cross-thread wake-ups at low load (≈ 0.2 ms each way on a small VM, docs/BENCHMARKS.md); run
 * here, it costs none, but it blocks the event loop for its length. So it is allowed only while
 * the model's measured run of one request (a moving average of what the worker and this session
 * report) stays within the bound; until the first measurement, requests go to the worker.
 */
import type { RunResult } from '../runtime/runtime-pool.ts';
import type { OrtSession } from '../runtime/ort-session.ts';
import type { WireTensor } from '../runtime/messages.ts';
import type { ResolvedModelConfig } from './model-config.ts';

/** Options of {@link createInlineRunner}. */
export interface InlineRunnerOptions {
  readonly bytes: Uint8Array;
  readonly config: Pick<ResolvedModelConfig, 'intraOpThreads' | 'interOpThreads'>;
  /** Longest measured run (µs) that may block the event loop. */
  readonly maxMicroseconds: number;
}

/** The runner. */
export interface InlineRunner {
  /** Whether a run of one request may go here now (its measured time is within the bound). */
  allows(): boolean;
  /** Records the `session.run` time of a batch of one request, wherever it ran. */
  measured(computeNs: number): void;
  run(feeds: readonly WireTensor[], fetches: readonly string[]): Promise<RunResult>;
  /** Releases the session. Idempotent. */
  close(): Promise<void>;
}

/** Loads the model on the main thread (onnxruntime is imported only when a model asks for this). */
export async function createInlineRunner(options: InlineRunnerOptions): Promise<InlineRunner> {
  const { loadOrtSession } = await import('../runtime/ort-session.ts');
  const session: OrtSession = await loadOrtSession(options.bytes, {
    intraOpThreads: options.config.intraOpThreads,
    interOpThreads: options.config.interOpThreads,
  });
  const boundNs = options.maxMicroseconds * 1000;
  let recentNs = 0;
  let closed: Promise<void> | undefined;
  return {
    allows: () => closed === undefined && recentNs > 0 && recentNs <= boundNs,
    measured(computeNs) {
      recentNs = recentNs === 0 ? computeNs : recentNs * 0.8 + computeNs * 0.2;
    },
    async run(feeds, fetches) {
      const { outputs, computeNs } = await session.run(feeds, fetches);
      return { outputs, computeNs };
    },
    close() {
      closed ??= session.release();
      return closed;
    },
  };
}
