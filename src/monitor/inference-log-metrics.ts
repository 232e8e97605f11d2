/**
 * Prometheus metrics of the inference log and feedback: what was logged, written, dropped (the
 * buffer was full, or a write failed) and the feedback items accepted or rejected. Registered in the
 * server's registry, beside the serving metrics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Counters of the inference log and feedback. */
export interface InferenceLogMetrics {
  /** Records taken into the buffer. */
  buffered(): void;
  /** Records dropped because the buffer was full. */
  dropped(): void;
  /** Records written by one flush, and records lost because it failed. */
  flushed(options: { written: number; failed: number }): void;
  /** Records waiting in the buffer now. */
  pending(count: number): void;
  /** Feedback items by outcome (`accepted`, or the rejection reason's code). */
  feedback(outcome: string, count: number): void;
}

/** Registers the metrics in `registry`. */
export function createInferenceLogMetrics(registry: Registry): InferenceLogMetrics {
  const records = new Counter({
    name: 'stratum_inference_log_records_total',
    help: 'Inference log records by outcome: buffered, written, dropped (buffer full), failed (the write failed, or the record could not be packed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const buffered = records.labels({ outcome: 'buffered' });
  const written = records.labels({ outcome: 'written' });
  const dropped = records.labels({ outcome: 'dropped' });
  const failed = records.labels({ outcome: 'failed' });
  const pending = new Gauge({
    name: 'stratum_inference_log_pending',
    help: 'Inference log records buffered and not yet written.',
    registers: [registry],
  });
  const feedback = new Counter({
    name: 'stratum_feedback_items_total',
    help: 'Feedback items by outcome: accepted, unknown_request, ambiguous_request, wrong_label_type, …',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return {
    buffered: () => buffered.inc(),
    dropped: () => dropped.inc(),
    flushed({ written: w, failed: f }) {
      if (w > 0) written.inc(w);
      if (f > 0) failed.inc(f);
    },
    pending: (count) => pending.set(count),
    feedback: (outcome, count) => feedback.labels({ outcome }).inc(count),
  };
}
