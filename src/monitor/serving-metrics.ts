/**
 * Prometheus metrics of the serving path. Each server owns its registry (no global state); label
 * children are bound once per model version. A bound prom-client child still hashes and checks
 * its labels on every call, so the per-request counts (requests answered, requests pending) are
 * kept as plain numbers per version and added to prom-client when the registry is read.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds buckets from 50 µs to 10 s. */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** Metrics bound to one model version. */
export interface VersionMetrics {
  success(protocol: string, seconds: number): void;
  failure(protocol: string, reason: string): void;
  queued(seconds: number): void;
  /** `reason` is the batcher's CutReason, kept a plain label here so monitoring does not import serving. */
  batch(options: { size: number; reason: string; computeSeconds: number }): void;
  pending(delta: number): void;
  /** A finished warm-up: its runs counted by source and outcome. */
  warmup(report: { readonly source: string; readonly runs: number; readonly failures: number }): void;
}

/** The serving metrics. */
export interface ServingMetrics {
  readonly registry: Registry;
  forVersion(model: string, version: string): VersionMetrics;
  /** A failure before a model version was resolved (bad JSON, unknown model, …). */
  failure(options: { model: string; protocol: string; reason: string }): void;
  /** A copy of a request sent to a deployment's shadow version, by outcome. */
  shadow(options: { deployment: string; version: string; outcome: 'agree' | 'disagree' | 'error' | 'dropped' }): void;
  /** A rollout event (blue-green switch, canary step, promotion, rollback). */
  rollout(options: { deployment: string; kind: string }): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
}

/** Creates the metrics with process metrics in a fresh registry. */
export function createServingMetrics(): ServingMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stratum_' });
  // Per (model, version): what the hot path counted since the registry was last read.
  const unflushed = new Map<string, UnflushedCounts>();
  const flushAll = (): void => {
    for (const counts of unflushed.values()) flush(counts);
  };
  const requests = new Counter({
    name: 'stratum_inference_requests_total',
    help: 'Inference requests by outcome; failures carry the error code as reason.',
    labelNames: ['model', 'version', 'protocol', 'outcome', 'reason'] as const,
    registers: [registry],
    collect: flushAll,
  });
  const inferences = new Counter({
    name: 'stratum_inference_count_total',
    help: 'Inferences performed (rows: a request with a batch of 8 counts 8).',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const executions = new Counter({
    name: 'stratum_inference_exec_count_total',
    help: 'Model executions (batches run).',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const cuts = new Counter({
    name: 'stratum_batch_cut_total',
    help: 'Why each batch was cut: max_batch_size, preferred_batch_size, queue_delay, adaptive_delay, instance_free, unbatched.',
    labelNames: ['model', 'version', 'reason'] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'stratum_batch_size',
    help: 'Rows per executed batch.',
    labelNames: ['model', 'version'] as const,
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const queueDuration = new Histogram({
    name: 'stratum_queue_duration_seconds',
    help: 'Time requests waited in the batch queue.',
    labelNames: ['model', 'version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const computeDuration = new Histogram({
    name: 'stratum_compute_duration_seconds',
    help: 'Time a batch spent in onnxruntime.',
    labelNames: ['model', 'version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'stratum_request_duration_seconds',
    help: 'Inference request latency from decoded request to encoded response.',
    labelNames: ['model', 'version', 'protocol'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const pending = new Gauge({
    name: 'stratum_pending_requests',
    help: 'Inference requests queued or running.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect: flushAll,
  });

  const warmupRuns = new Counter({
    name: 'stratum_warmup_runs_total',
    help: 'Warm-up runs before a version takes traffic, by source (zeros, random, requests, samples) and outcome (ok, failed). A version whose warm-up failed is served anyway.',
    labelNames: ['model', 'version', 'source', 'outcome'] as const,
    registers: [registry],
  });

  const shadowRequests = new Counter({
    name: 'stratum_shadow_requests_total',
    help: "Requests copied to a deployment's shadow version, by outcome: agree, disagree, error, dropped.",
    labelNames: ['deployment', 'version', 'outcome'] as const,
    registers: [registry],
  });
  const rollouts = new Counter({
    name: 'stratum_rollout_events_total',
    help: 'Rollout events seen by this replica: blue-green, canary-step, canary-promoted, canary-rolled-back.',
    labelNames: ['deployment', 'kind'] as const,
    registers: [registry],
  });
  return {
    registry,
    shadow({ deployment, version, outcome }) {
      shadowRequests.labels({ deployment, version, outcome }).inc();
    },
    rollout({ deployment, kind }) {
      rollouts.labels({ deployment, kind }).inc();
    },
    forVersion(model, version) {
      const labels = { model, version };
      const inf = inferences.labels(labels);
      const exec = executions.labels(labels);
      const size = batchSize.labels(labels);
      const queue = queueDuration.labels(labels);
      const compute = computeDuration.labels(labels);
      const own = unflushedCounts(unflushed, { labels, pending });
      const cutBy = new Map<string, Counter.Internal>();
      return {
        success(protocol, seconds) {
          const bound = own.succeeded.get(protocol) ?? {
            counter: requests.labels({ model, version, protocol, outcome: 'success', reason: '' }),
            latency: requestDuration.labels({ model, version, protocol }),
            count: 0,
          };
          if (bound.count++ === 0) own.succeeded.set(protocol, bound);
          bound.latency.observe(seconds);
        },
        failure(protocol, reason) {
          requests.labels({ model, version, protocol, outcome: 'failure', reason }).inc();
        },
        queued(seconds) {
          queue.observe(seconds);
        },
        batch({ size: rows, reason, computeSeconds }) {
          inf.inc(rows);
          exec.inc();
          size.observe(rows);
          compute.observe(computeSeconds);
          let cut = cutBy.get(reason);
          if (cut === undefined) {
            cut = cuts.labels({ model, version, reason });
            cutBy.set(reason, cut);
          }
          cut.inc();
        },
        pending(delta) {
          own.pendingDelta += delta;
        },
        warmup({ source, runs, failures }) {
          if (runs === 0) return;
          warmupRuns.labels({ model, version, source, outcome: 'ok' }).inc(runs - failures);
          if (failures > 0) warmupRuns.labels({ model, version, source, outcome: 'failed' }).inc(failures);
        },
      };
    },
    failure({ model, protocol, reason }) {
      requests.labels({ model, version: '', protocol, outcome: 'failure', reason }).inc();
    },
    render() {
      return registry.metrics();
    },
  };
}

/** One version's counts not yet added to prom-client. */
interface UnflushedCounts {
  readonly pending: Gauge.Internal<'model' | 'version'>;
  pendingDelta: number;
  /** Successful requests by protocol. */
  readonly succeeded: Map<
    string,
    {
      readonly counter: Counter.Internal;
      readonly latency: Histogram.Internal<'model' | 'version' | 'protocol'>;
      count: number;
    }
  >;
}

/** The counts of a version's labels, shared by every handle of that version (a reload binds them again). */
function unflushedCounts(
  unflushed: Map<string, UnflushedCounts>,
  bind: { labels: { model: string; version: string }; pending: Gauge<'model' | 'version'> },
): UnflushedCounts {
  const key = JSON.stringify([bind.labels.model, bind.labels.version]);
  let counts = unflushed.get(key);
  if (counts === undefined) {
    counts = { pending: bind.pending.labels(bind.labels), pendingDelta: 0, succeeded: new Map() };
    counts.pending.inc(0);
    unflushed.set(key, counts);
  }
  return counts;
}

function flush(counts: UnflushedCounts): void {
  if (counts.pendingDelta !== 0) {
    counts.pending.inc(counts.pendingDelta);
    counts.pendingDelta = 0;
  }
  for (const bound of counts.succeeded.values()) {
    if (bound.count === 0) continue;
    bound.counter.inc(bound.count);
    bound.count = 0;
  }
}
