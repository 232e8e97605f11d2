/**
 * Where the current window's rows come from: the inputs (and outputs) of live requests a
 * deployment served. The sampled inference log implements it; {@link createMemoryWindowSource}
 * is the in-process one (tests, and a server without the log).
 */

/** Which rows to read. */
export interface DriftWindowQuery {
  readonly deployment: string;
  /** Only requests this version answered (as a string, as the serving path labels versions). */
  readonly version?: string;
  /** Only requests at or after this time. */
  readonly since?: Date;
  /** At most this many rows, the newest. */
  readonly limit?: number;
}

/** The rows read, oldest first. */
export interface DriftWindowRows {
  /** Each request's raw input columns. */
  readonly rows: readonly Readonly<Record<string, unknown>>[];
  /** Each request's outputs by name, row for row with `rows` (scalars; others are ignored). */
  readonly predictions?: readonly Readonly<Record<string, unknown>>[];
  /** When the oldest and newest rows were recorded, where known. */
  readonly from?: Date;
  readonly to?: Date;
}

/** A source of current windows. */
export interface DriftWindowSource {
  readWindow(query: DriftWindowQuery): Promise<DriftWindowRows>;
}

/** One recorded request. */
export interface RecordedRequest {
  readonly deployment: string;
  readonly version: string;
  readonly row: Readonly<Record<string, unknown>>;
  readonly prediction?: Readonly<Record<string, unknown>>;
  /** @default now */
  readonly at?: Date;
}

/** An in-memory source that keeps the last `capacity` requests of each deployment. */
export interface MemoryWindowSource extends DriftWindowSource {
  record(request: RecordedRequest): void;
}

/** Options of {@link createMemoryWindowSource}. */
export interface MemoryWindowSourceOptions {
  /** Requests kept per deployment (oldest dropped first). @default 100000 */
  readonly capacity?: number;
}

/** Creates an empty in-memory source. */
export function createMemoryWindowSource(options: MemoryWindowSourceOptions = {}): MemoryWindowSource {
  const capacity = options.capacity ?? 100_000;
  const byDeployment = new Map<string, (RecordedRequest & { at: Date })[]>();
  return {
    record(request) {
      let list = byDeployment.get(request.deployment);
      if (list === undefined) {
        list = [];
        byDeployment.set(request.deployment, list);
      }
      list.push({ ...request, at: request.at ?? new Date() });
      // Trimmed in steps, so that recording stays O(1) amortised.
      if (list.length > capacity * 1.25) list.splice(0, list.length - capacity);
    },
    readWindow(query) {
      const list = byDeployment.get(query.deployment) ?? [];
      let picked = list.filter(
        (r) =>
          (query.version === undefined || r.version === query.version) &&
          (query.since === undefined || r.at >= query.since),
      );
      if (list.length > capacity) picked = picked.slice(-capacity);
      if (query.limit !== undefined) picked = picked.slice(-query.limit);
      const withPredictions = picked.every((r) => r.prediction !== undefined);
      const first = picked[0];
      const last = picked[picked.length - 1];
      return Promise.resolve({
        rows: picked.map((r) => r.row),
        ...(picked.length > 0 &&
          withPredictions && { predictions: picked.map((r) => r.prediction as Record<string, unknown>) }),
        ...(first !== undefined && { from: first.at }),
        ...(last !== undefined && { to: last.at }),
      });
    },
  };
}
