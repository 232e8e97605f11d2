/**
 * Where the inference service finds a model by name: the folder repository (`--models`) or the
 * registry's deployments. Each source routes a request to one loaded version; a deployment may
 * pick the version per request (weights, A/B key) and watch what it answers.
 */
import type { Signature } from '../tensor/signature.ts';
import type { Explanation } from './explain-version.ts';
import type { ModelStatistics } from './model-stats.ts';
import type { InferRequest, InferResponse } from './types.ts';
import type { VersionState } from './version-table.ts';
import type { WarmupReport } from './warmup.ts';

/** What a request was routed to. */
export interface InferTarget {
  readonly model: string;
  readonly version: string;
  infer(request: InferRequest, protocol: string): Promise<InferResponse>;
  /** Explains the request's rows (absent: the version cannot explain). */
  explain?(request: InferRequest): Promise<Explanation>;
}

/** Transport details a source may route on (an A/B key in a header). */
export interface RouteContext {
  readonly name: string;
  readonly version?: string;
  readonly request: InferRequest;
  /** Lower-case header (REST) or metadata (gRPC) names. */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
}

/** One row of the repository index. */
export interface SourceIndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: VersionState;
  readonly reason?: string;
  /** The warm-up of a ready version, when it failed (also summarised in `reason`). */
  readonly warmup?: WarmupReport;
}

/** A set of served models. */
export interface ModelSource {
  /** Whether this source owns the name (even when nothing of it is ready). */
  has(name: string): boolean;
  /** Names with at least one loaded version. */
  names(): string[];
  /**
   * Picks the version that serves a request.
   * @throws StratumError MODEL_NOT_FOUND, VERSION_NOT_FOUND or MODEL_NOT_READY.
   */
  route(context: RouteContext): InferTarget;
  /**
   * Ready version numbers (ascending), and the signature and class names (a JSON array, when the
   * model declares them) of `version` (default: the primary one).
   */
  metadata(name: string, version?: string): { versions: string[]; signature: Signature; classes?: string };
  /** @throws StratumError MODEL_NOT_FOUND / VERSION_NOT_FOUND when unknown. */
  ready(name: string, version?: string): boolean;
  statistics(name?: string, version?: string): ModelStatistics[];
  index(): Promise<SourceIndexEntry[]>;
}
