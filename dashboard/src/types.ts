/** The shapes the dashboard reads from the management API (only the fields it uses). */

export interface Deployment {
  readonly name: string;
  readonly spec: {
    readonly model: string;
    readonly routes: readonly { readonly version?: number; readonly alias?: string; readonly weight: number }[];
    readonly shadow?: { readonly version?: number; readonly alias?: string; readonly sampleRate?: number };
    readonly description?: string;
  };
  readonly state: { readonly canary?: { readonly step?: number; readonly stable?: number; readonly canary?: number } };
  readonly revision: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

export interface DeploymentStatus {
  readonly name: string;
  readonly revision: number;
  readonly servedRevision: number | null;
  readonly desiredRoutes: readonly { readonly version: number; readonly weight: number }[];
  readonly converged: boolean;
  readonly canary: unknown;
}

export interface DeploymentEvent {
  readonly at: number;
  readonly kind: string;
  readonly message: string;
  readonly by: string;
}

export interface StatsPoint {
  readonly at: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface DeploymentStats {
  readonly deployment: string;
  readonly intervalMs: number;
  readonly total: readonly StatsPoint[];
  readonly versions: readonly { readonly version: string; readonly points: readonly StatsPoint[] }[];
}

export interface Model {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Lineage {
  readonly runId?: string;
  readonly datasetVersion?: string;
  readonly parentVersion?: number;
  readonly source?: string;
  readonly experiment?: string;
}

export interface TensorSpec {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface Version {
  readonly model: string;
  readonly version: number;
  readonly artifactDigest: string;
  readonly artifactSize: number;
  readonly signature: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] };
  readonly metrics: Readonly<Record<string, number>>;
  readonly tags: readonly string[];
  readonly description: string;
  readonly status: string;
  readonly lineage: Lineage;
  readonly createdAt: number;
  readonly createdBy: string;
}

export interface Alias {
  readonly alias: string;
  readonly version: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

export interface Run {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly datasetVersion?: string;
  readonly codeVersion?: string;
  readonly error?: string;
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly artifacts: readonly { readonly name: string; readonly digest?: string; readonly size?: number }[];
}

export interface RunMetric {
  readonly key: string;
  readonly step: number;
  readonly value: number;
}

export interface NumericSummary {
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly std: number | null;
  readonly quantiles: Readonly<Record<string, number>> | null;
  readonly histogram: { readonly edges: readonly number[]; readonly counts: readonly number[] } | null;
}

export interface ColumnProfile {
  readonly name: string;
  readonly kind: string;
  readonly count: number;
  readonly missing: number;
  readonly numeric: NumericSummary | null;
  readonly categorical: {
    readonly count: number;
    readonly distinct: number;
    readonly top: readonly { readonly value: string; readonly count: number }[];
  } | null;
  readonly boolean: { readonly count: number; readonly trueCount: number } | null;
}

export interface DatasetVersion {
  readonly version: string;
  readonly name: string;
  readonly source: string;
  readonly numRows: number;
  readonly profile: { readonly rows: number; readonly columns: readonly ColumnProfile[] } | null;
  readonly createdAt: number;
}

/** `GET /api/v1/deployments/{d}/drift` (built in parallel; the dashboard reads it when it answers). */
export interface DriftReport {
  readonly deployment: string;
  readonly model: string;
  readonly version: number | string;
  readonly computedAt: number | string;
  readonly status: 'ok' | 'no-data';
  readonly window: {
    readonly kind: string;
    readonly rows: number;
    readonly from?: number | string;
    readonly to?: number | string;
  };
  readonly reference: { readonly rows: number };
  readonly datasetDrift: boolean;
  readonly driftShare: number;
  readonly driftShareThreshold: number;
  readonly columns: readonly {
    readonly name: string;
    readonly kind: string;
    readonly test: string;
    readonly statistic: number;
    readonly pValue?: number;
    readonly threshold: number;
    readonly drifted: boolean;
    readonly histogram: {
      readonly edges?: readonly number[];
      readonly categories?: readonly string[];
      readonly reference: readonly number[];
      readonly current: readonly number[];
    };
  }[];
}

/** `GET /api/v1/deployments/{d}/quality` (built in parallel). */
export interface QualityReport {
  readonly deployment: string;
  readonly versions: readonly {
    readonly version: number | string;
    readonly model: string;
    readonly task: string;
    readonly labelled: number;
    readonly metrics: Readonly<Record<string, number | null>>;
    readonly series: readonly {
      readonly at: number | string;
      readonly metrics: Readonly<Record<string, number | null>>;
    }[];
    /** Per sensitive column the version's training declared (Fairlearn's definitions). */
    readonly fairness?: readonly LiveFairness[];
  }[];
}

export interface PipelineStep {
  readonly name: string;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly inputs?: Readonly<Record<string, unknown>>;
  readonly outputs?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface PipelineRun {
  readonly id: string;
  readonly pipeline: string;
  readonly status: string;
  readonly trigger: { readonly kind: string; readonly rule?: string; readonly slot?: string };
  readonly steps: readonly PipelineStep[];
  readonly outcome?: {
    readonly reason?: string;
    readonly candidate?: number;
    readonly production?: number | null;
    readonly gate?: {
      readonly metric: string;
      readonly candidate: number;
      readonly production?: number;
      readonly margin: number;
      readonly passed: boolean;
    };
    readonly error?: { readonly message: string };
  };
  readonly createdBy: string;
  readonly createdAt: number;
  readonly finishedAt?: number;
}

export interface Pipeline {
  readonly name: string;
  readonly spec: {
    readonly schedule?: string;
    readonly train: { readonly register?: { readonly model: string } };
    readonly evaluate: { readonly metric: string; readonly margin: number };
    readonly deploy?: { readonly deployment: string };
  };
  readonly lastRun?: PipelineRun;
  readonly nextRunAt?: string;
  readonly updatedAt: number;
}

/** One sensitive column's live fairness: per group metrics and the gaps between groups. */
export interface LiveFairness {
  readonly column: string;
  readonly task: string;
  readonly groups: readonly ({ readonly group: string; readonly count: number } & Readonly<
    Record<string, number | string | undefined>
  >)[];
  readonly demographicParityDifference?: number;
  readonly demographicParityRatio?: number;
  readonly equalizedOddsDifference?: number;
  readonly accuracyDifference?: number;
  readonly rmseDifference?: number;
  readonly maeDifference?: number;
}

/** One rule's state in `GET /api/v1/alerts`. */
export interface AlertRuleStatus {
  readonly rule: string;
  readonly phase: 'inactive' | 'pending' | 'firing';
  readonly value?: number;
  readonly since?: string;
  readonly noData: boolean;
  readonly threshold: number;
  readonly direction: 'above' | 'below';
}

/** One transition in `GET /api/v1/alerts`'s history (oldest first). */
export interface AlertTransition {
  readonly rule: string;
  readonly transition: 'fired' | 'resolved';
  readonly at: string;
  readonly value?: number;
  readonly threshold: number;
  readonly direction: 'above' | 'below';
  readonly actions?: readonly {
    readonly action: string;
    readonly outcome: 'ok' | 'failed';
    readonly message?: string;
  }[];
}

/** `GET /api/v1/alerts`: this replica's rules and their recent transitions. */
export interface AlertsReply {
  readonly rules: readonly AlertRuleStatus[];
  readonly history: readonly AlertTransition[];
}
