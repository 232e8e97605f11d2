/**
 * The inference log side of a replica, when the log is on: its store (a connection of its own to
 * the metadata database, for feedback and quality), the writer and its thread (another connection,
 * where records are encoded and inserted off the event loop), the recorder the inference service
 * calls, and feedback and live quality for the management routes. Nothing of it exists when every
 * sample rate is 0.
 */
import type { InferenceLogContext } from '../api/http/route-context.ts';
import type { Config } from '../config/index.ts';
import { createFeedback } from '../deploy/feedback.ts';
import { createInferenceLogRecorder, inferenceLogOn } from '../deploy/inference-log-recorder.ts';
import { storeLogSink } from '../deploy/inference-log-sink.ts';
import { openThreadLogSink } from '../deploy/inference-log-thread-sink.ts';
import { createInferenceLogWriter, type InferenceLogWriter } from '../deploy/inference-log-writer.ts';
import { createLiveQuality } from '../deploy/live-quality.ts';
import type { FairnessSettingsSource } from '../deploy/version-fairness.ts';
import type { Logger } from '../logging/logger.ts';
import { createInferenceLogMetrics } from '../monitor/inference-log-metrics.ts';
import { createLiveQualityMetrics } from '../monitor/live-quality-metrics.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { InferenceRecorder } from '../serving/inference-recorder.ts';
import type { InferenceLogStore } from '../store/inference-log-store.ts';
import { openInferenceLogStore } from '../store/open-inference-log-store.ts';

/** What the server wires in. */
export interface InferenceLogSide {
  readonly recorder: InferenceRecorder;
  readonly routes: InferenceLogContext;
  readonly writer: InferenceLogWriter;
  readonly store: InferenceLogStore;
}

/** Opens the side, or returns undefined when the log is off; pushes its cleanups (writer first, then store). */
export async function openInferenceLogSide(options: {
  config: Readonly<Config>;
  logger: Logger;
  metrics: ServingMetrics;
  cleanups: (() => Promise<void>)[];
  /** Each version's sensitive columns, for live fairness. @default none */
  fairness?: FairnessSettingsSource;
}): Promise<InferenceLogSide | undefined> {
  const { config, logger, metrics, cleanups } = options;
  if (!inferenceLogOn(config.inferenceLog)) return undefined;
  const store = await openInferenceLogStore({ url: config.databaseUrl, logger });
  cleanups.push(() => store.close());
  const logMetrics = createInferenceLogMetrics(metrics.registry);
  // A private in-memory database is this connection's alone: a thread could not open it.
  const sink =
    config.databaseUrl === 'sqlite::memory:' ? storeLogSink(store) : openThreadLogSink({ url: config.databaseUrl });
  cleanups.push(() => sink.close());
  const writer = createInferenceLogWriter({
    sink,
    settings: config.inferenceLog,
    metrics: logMetrics,
    logger: logger.child({ component: 'inference-log' }),
  });
  // Cleanups run in reverse: the writer's last flush happens before its thread and the store close.
  cleanups.push(() => writer.close());
  const recorder = createInferenceLogRecorder({ settings: config.inferenceLog, writer });
  const quality = createLiveQuality({
    store,
    settings: config.quality,
    metrics: createLiveQualityMetrics(metrics.registry),
    ...(options.fairness !== undefined && { fairness: options.fairness }),
  });
  const feedback = createFeedback({
    store,
    flushPending: () => writer.flush(),
    metrics: logMetrics,
    // The gauges follow the labels without waiting for someone to read the quality endpoint.
    onAccepted: (deployments) => {
      for (const deployment of deployments) {
        quality.of(deployment).catch((error: unknown) => {
          logger.warn({ deployment, reason: (error as Error).message }, 'could not refresh live quality');
        });
      }
    },
  });
  return { recorder, routes: { feedback, quality }, writer, store };
}
