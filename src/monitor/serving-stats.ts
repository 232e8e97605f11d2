/**
 * Serving statistics over time, for the dashboard: every few seconds the request counter and the
 * latency histogram of the serving metrics are read and what changed since the last sample is
 * kept per model version in a bounded ring buffer (the last `capacity` samples). Prometheus keeps
 * the long history; this answers "what happened in the last half hour" without one.
 */
import type { Registry } from 'prom-client';

/** What changed for one model version between two samples. */
export interface StatsSample {
  /** When the sample was taken (epoch ms). */
  readonly at: number;
  /** Seconds since the previous sample. */
  readonly seconds: number;
  /** Requests answered successfully. */
  readonly ok: number;
  /** Requests that failed. */
  readonly failed: number;
  /** Successful requests per latency bucket (not cumulative), one more than `bounds` (the last is +Inf). */
  readonly buckets: readonly number[];
}

/** The samples of one model version, oldest first. */
export interface VersionSamples {
  readonly model: string;
  readonly version: string;
  readonly samples: readonly StatsSample[];
}

/** Options of {@link createServingStats}. */
export interface ServingStatsOptions {
  /** The serving metrics' registry (`ServingMetrics.registry`). */
  readonly registry: Registry;
  /** How often to sample; 0 samples only when {@link ServingStats.sample} is called. @default 5000 */
  readonly intervalMs?: number;
  /** Samples kept per model version. @default 360 (half an hour at 5 s) */
  readonly capacity?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The sampler and what it kept. */
export interface ServingStats {
  readonly intervalMs: number;
  /** Upper bounds (seconds) of the latency buckets, without +Inf. */
  bounds(): readonly number[];
  /** Takes a sample now (the timer calls it; tests call it to get a point without waiting). */
  sample(): Promise<void>;
  /** The samples of a model's versions (a deployment's metrics carry its name as the model). */
  forModel(model: string): VersionSamples[];
  /** Stops sampling. Idempotent. */
  close(): void;
}

const REQUESTS = 'stratum_inference_requests_total';
const LATENCY = 'stratum_request_duration_seconds';

interface Totals {
  ok: number;
  failed: number;
  /** Cumulative bucket counts by upper bound, +Inf last. */
  cumulative: number[];
}

/** Starts sampling the serving metrics. */
export function createServingStats(options: ServingStatsOptions): ServingStats {
  const { registry } = options;
  const intervalMs = options.intervalMs ?? 5000;
  const capacity = options.capacity ?? 360;
  const now = options.now ?? Date.now;
  const rings = new Map<string, { model: string; version: string; samples: StatsSample[] }>();
  let previous = new Map<string, Totals>();
  let previousAt = now();
  let bounds: number[] = [];
  let running: Promise<void> | undefined;
  let closed = false;

  async function takeSample(): Promise<void> {
    const totals = await readTotals(registry);
    bounds = totals.bounds;
    const at = now();
    const seconds = Math.max((at - previousAt) / 1000, 1e-3);
    for (const [key, current] of totals.byVersion) {
      const before = previous.get(key);
      // A counter that went down was reset: everything it holds is new.
      const reset = before !== undefined && current.ok + current.failed < before.ok + before.failed;
      const base = before === undefined || reset ? undefined : before;
      const sample: StatsSample = {
        at,
        seconds,
        ok: current.ok - (base?.ok ?? 0),
        failed: current.failed - (base?.failed ?? 0),
        buckets: current.cumulative.map((_c, i) => bucketDelta(current, base, i)),
      };
      let ring = rings.get(key);
      if (ring === undefined) {
        const [model, version] = JSON.parse(key) as [string, string];
        ring = { model, version, samples: [] };
        rings.set(key, ring);
      }
      ring.samples.push(sample);
      if (ring.samples.length > capacity) ring.samples.splice(0, ring.samples.length - capacity);
    }
    previous = totals.byVersion;
    previousAt = at;
  }

  const sample = (): Promise<void> => {
    // One sample at a time: a slow read must not interleave with the next tick's.
    running ??= takeSample().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (!closed) sample().catch(() => undefined);
        }, intervalMs)
      : undefined;
  // The sampler never keeps a process alive on its own.
  timer?.unref();

  return {
    intervalMs,
    bounds: () => bounds,
    sample,
    forModel(model) {
      return [...rings.values()]
        .filter((r) => r.model === model)
        .map((r) => ({ model: r.model, version: r.version, samples: [...r.samples] }))
        .sort((a, b) => Number(a.version) - Number(b.version) || a.version.localeCompare(b.version));
    },
    close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

/** The non-cumulative count of bucket `i` between two readings. */
function bucketDelta(current: Totals, base: Totals | undefined, i: number): number {
  const at = (t: Totals | undefined, j: number): number => (j < 0 || t === undefined ? 0 : (t.cumulative[j] ?? 0));
  return at(current, i) - at(current, i - 1) - (at(base, i) - at(base, i - 1));
}

/** A histogram's value: prom-client's type leaves out which series (`_bucket`, `_sum`, `_count`) it is. */
interface LabelledValue {
  readonly labels: Partial<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

/** Reads the cumulative request counts and latency buckets per model version. */
async function readTotals(registry: Registry): Promise<{ bounds: number[]; byVersion: Map<string, Totals> }> {
  const byVersion = new Map<string, Totals>();
  const totalsOf = (labels: Partial<Record<string, string | number>>): Totals | undefined => {
    const model = String(labels['model'] ?? '');
    const version = String(labels['version'] ?? '');
    // Failures before a version was resolved (unknown model, bad JSON) belong to no version.
    if (version === '') return undefined;
    const key = JSON.stringify([model, version]);
    let totals = byVersion.get(key);
    if (totals === undefined) {
      totals = { ok: 0, failed: 0, cumulative: [] };
      byVersion.set(key, totals);
    }
    return totals;
  };
  const requests = await registry.getSingleMetric(REQUESTS)?.get();
  for (const { labels, value } of requests?.values ?? []) {
    const totals = totalsOf(labels);
    if (totals === undefined) continue;
    if (labels['outcome'] === 'success') totals.ok += value;
    else totals.failed += value;
  }
  const latency = await registry.getSingleMetric(LATENCY)?.get();
  const boundSet = new Set<number>();
  const rows: { labels: Partial<Record<string, string | number>>; le: number; value: number }[] = [];
  for (const { labels, value, metricName } of (latency?.values ?? []) as LabelledValue[]) {
    if (metricName !== `${LATENCY}_bucket`) continue;
    const le = labels['le'] === '+Inf' ? Infinity : Number(labels['le']);
    if (Number.isFinite(le)) boundSet.add(le);
    rows.push({ labels, le, value });
  }
  const bounds = [...boundSet].sort((a, b) => a - b);
  const slot = new Map(bounds.map((b, i) => [b, i]));
  for (const { labels, le, value } of rows) {
    const totals = totalsOf(labels);
    if (totals === undefined) continue;
    const index = Number.isFinite(le) ? (slot.get(le) as number) : bounds.length;
    while (totals.cumulative.length <= bounds.length) totals.cumulative.push(0);
    // Several protocols (REST, gRPC) of one version add up.
    totals.cumulative[index] = (totals.cumulative[index] ?? 0) + value;
  }
  for (const totals of byVersion.values()) {
    while (totals.cumulative.length <= bounds.length) totals.cumulative.push(0);
  }
  return { bounds, byVersion };
}
