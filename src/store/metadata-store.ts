/**
 * The metadata store contract: models, immutable versions, aliases with their history, and
 * deployments with their events. Two engines implement it (SQLite for one machine, PostgreSQL
 * for many) and one conformance suite runs against both. The contract names no connection or
 * transaction type: every method is one atomic unit on the engine.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { DriftRecords } from './drift-records.ts';
import type { PipelineRecords } from './pipeline-records.ts';
import type { Signature } from '../tensor/signature.ts';
import type { ApiKeyStore } from './api-key-store.ts';

/** A page of results; pass `nextCursor` back as `cursor` for the next page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/** Paging options shared by every list method. */
export interface PageOptions {
  /** @default 50 (at most 1000) */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** A registered model. */
export interface ModelRecord {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly createdBy: string;
  readonly updatedAt: number;
}

/** Where a version came from. Every field optional: a pushed file has no run. */
export interface Lineage {
  readonly runId?: string;
  readonly datasetVersion?: string;
  readonly parentVersion?: number;
  readonly source?: string;
  /** The tuning experiment whose best trial produced the version. */
  readonly experiment?: string;
  /**
   * Digest of an artifact holding sample input rows as an inference request (OIP JSON), which
   * warm the version up when it is loaded. A training run stores a few rows of its data.
   */
  readonly samples?: string;
}

/** An immutable model version. */
export interface VersionRecord {
  readonly model: string;
  /** 1, 2, 3… per model, assigned by the store. */
  readonly version: number;
  /** sha256 (hex) of the ONNX artifact. */
  readonly artifactDigest: string;
  readonly artifactSize: number;
  readonly signature: Signature;
  /**
   * The ONNX model's `metadata_props` (e.g. `stratum.classes`, a classifier's class names as a JSON
   * array); `{}` when it declares none.
   */
  readonly metadata: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly tags: readonly string[];
  readonly description: string;
  readonly status: 'ready' | 'archived';
  readonly lineage: Lineage;
  readonly createdAt: number;
  readonly createdBy: string;
}

/** A mutable pointer to a version. `revision` increases by one on every move (it is the ETag). */
export interface AliasRecord {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly revision: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** One move of an alias. `from` is null when it was created, `to` null when it was deleted. */
export interface AliasEvent {
  readonly id: number;
  readonly model: string;
  readonly alias: string;
  readonly from: number | null;
  readonly to: number | null;
  readonly by: string;
  readonly at: number;
  readonly reason: string;
  /** Whether the move was forced past a signature check (see `AliasMove.forced`). */
  readonly forced: boolean;
}

/**
 * A deployment as stored. `spec` and `state` are opaque JSON to the store (the registry owns their
 * schemas); `versionRefs` lists every version of `model` the deployment uses directly, so that a
 * version still in use cannot be deleted.
 */
export interface DeploymentRecord {
  readonly name: string;
  readonly model: string;
  readonly spec: unknown;
  readonly state: unknown;
  readonly versionRefs: readonly number[];
  readonly aliasRefs: readonly string[];
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** Something that happened to a deployment (created, updated, rollout step, rollback…). */
export interface DeploymentEvent {
  readonly id: number;
  readonly deployment: string;
  readonly kind: string;
  readonly message: string;
  readonly detail: unknown;
  readonly by: string;
  readonly at: number;
}

/** Where a tracked run is: `running` until finished once, as `succeeded` or `failed`. */
export type RunStatus = 'running' | 'succeeded' | 'failed';

/** A file a run produced, by content digest. */
export interface RunArtifact {
  readonly name: string;
  readonly digest: string;
  readonly size: number;
}

/** A tracked training run. */
export interface RunRecord {
  /** Assigned by the store (a UUID). */
  readonly id: string;
  readonly name: string;
  readonly status: RunStatus;
  /** Opaque JSON object of hyper-parameters. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly datasetVersion?: string;
  /** The git commit when there is one. */
  readonly codeVersion?: string;
  readonly artifacts: readonly RunArtifact[];
  /** Why a failed run failed. */
  readonly error?: string;
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly createdBy: string;
  /** Summary metrics, set when the run finishes. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** One value of one metric of a run at one step. */
export interface RunMetric {
  readonly run: string;
  readonly key: string;
  readonly step: number;
  readonly value: number;
  readonly at: number;
}

/** Fields of a new run (the store assigns the id, the status and the start time). */
export interface NewRun {
  readonly name: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly datasetVersion?: string;
  readonly codeVersion?: string;
  readonly by: string;
}

/** How a run ends. */
export interface RunFinish {
  readonly id: string;
  readonly status: Exclude<RunStatus, 'running'>;
  readonly error?: string;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly artifacts?: readonly RunArtifact[];
}

/** A version of a dataset: the content hash of what a run read, with its profile. Immutable. */
export interface DatasetVersionRecord {
  /** The content hash, e.g. `sha256:…`. */
  readonly version: string;
  /** What the data is called (the run's dataset name). */
  readonly name: string;
  /** Where it was read from (a file path or a query). */
  readonly source: string;
  readonly numRows: number;
  /** Opaque JSON to the store: the profile taken when the version was first recorded. */
  readonly profile: unknown;
  readonly createdAt: number;
  readonly createdBy: string;
}

/** Fields of a dataset version to record. */
export interface NewDatasetVersion {
  readonly version: string;
  readonly name: string;
  readonly source: string;
  readonly numRows: number;
  readonly profile: unknown;
  readonly by: string;
}

/** Where a tuning experiment is in its life. */
export type ExperimentStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A hyper-parameter tuning experiment: a spec, its trials and (once done) its best trial. */
export interface ExperimentRecord {
  readonly id: string;
  readonly name: string;
  readonly status: ExperimentStatus;
  /** The tuning spec as parsed (JSON), the training spec inline. */
  readonly spec: unknown;
  /** The metric that ranks trials, and whether higher or lower is better. */
  readonly metric: string;
  readonly mode: 'max' | 'min';
  /** The coordinating job, when the experiment runs on the queue. */
  readonly jobId?: string;
  readonly bestTrial?: number;
  readonly bestValue?: number;
  /** The version the best trial's model was registered as. */
  readonly registered?: { readonly model: string; readonly version: number };
  readonly error?: string;
  readonly createdAt: number;
  readonly finishedAt?: number;
  readonly createdBy: string;
}

/** Fields of a new experiment. */
export interface NewExperiment {
  /** @default a new UUID (a queued experiment takes its tune job's id, so a restart finds it) */
  readonly id?: string;
  readonly name: string;
  readonly spec: unknown;
  readonly metric: string;
  readonly mode: 'max' | 'min';
  readonly jobId?: string;
  readonly by: string;
}

/** How an experiment ends. */
export interface ExperimentFinish {
  readonly id: string;
  readonly status: Exclude<ExperimentStatus, 'running'>;
  readonly bestTrial?: number;
  readonly bestValue?: number;
  readonly registered?: { readonly model: string; readonly version: number };
  readonly error?: string;
}

/**
 * Where a trial is: `running` (asked for, maybe queued), `completed` (trained its full budget),
 * `stopped` (the scheduler stopped it early; its model and metric still count), `failed`.
 */
export type TrialStatus = 'running' | 'completed' | 'stopped' | 'failed';

/** One trial of an experiment: a point of the search space and, once run, its run and metric. */
export interface TrialRecord {
  readonly experiment: string;
  /** 0-based, dense: trial n is the n-th point the searcher gave. */
  readonly number: number;
  readonly status: TrialStatus;
  /** Parameter path → value. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly runId?: string;
  readonly jobId?: string;
  /** Steps trained (trees, epochs). */
  readonly resource?: number;
  /** The experiment's metric on the trial's held-out split. */
  readonly value?: number;
  readonly error?: string;
  readonly createdAt: number;
  readonly finishedAt?: number;
}

/** Changes to a trial (fields left out stay as they are). */
export interface TrialUpdate {
  readonly experiment: string;
  readonly number: number;
  readonly status?: TrialStatus;
  readonly runId?: string;
  readonly jobId?: string;
  readonly resource?: number;
  readonly value?: number;
  readonly error?: string;
}

/** A trial's value of the scheduler's metric when it reached a rung's resource. */
export interface RungResult {
  readonly experiment: string;
  /** The rung's resource (steps). */
  readonly rung: number;
  readonly trial: number;
  readonly value: number;
}

/** A change another replica must react to. */
export interface StoreChange {
  readonly kind: 'model' | 'version' | 'alias' | 'deployment' | 'run' | 'dataset' | 'experiment';
  /** Model name (model, version, alias), deployment name, run id or experiment id. */
  readonly name: string;
}

/** Fields of a new model. */
export interface NewModel {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly by: string;
}

/** Fields of a new version (the store assigns the number and the time). */
export interface NewVersion {
  readonly model: string;
  readonly artifactDigest: string;
  readonly artifactSize: number;
  readonly signature: Signature;
  /** The ONNX model's metadata. @default {} */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly tags?: readonly string[];
  readonly description?: string;
  readonly lineage?: Lineage;
  readonly by: string;
  /**
   * An alias to point at the new version in the same transaction: if the move is refused (a stale
   * `expectedRevision`), no version is written and no version number is used up.
   */
  readonly alias?: {
    readonly name: string;
    readonly reason?: string;
    readonly forced?: boolean;
    /** The alias's revision the caller checked the move against (0: must not exist yet). */
    readonly expectedRevision?: number;
  };
}

/** An alias delete; recorded in the alias's history like a move. */
export interface AliasDeletion {
  readonly model: string;
  readonly alias: string;
  readonly by: string;
  readonly reason?: string;
  /** When given, the delete happens only if the alias is at this revision. */
  readonly expectedRevision?: number;
}

/** An alias move. */
export interface AliasMove extends AliasDeletion {
  readonly version: number;
  /** When given, the move happens only if the alias is at this revision (0: must not exist yet). */
  readonly expectedRevision?: number;
  /** Recorded in the history: the move was forced past a signature check (the registry's rule). @default false */
  readonly forced?: boolean;
}

/**
 * What a deployment's clients use: the input names they send and the output names they read
 * (requested by name, or received because the request named none). Names only, in name order.
 */
export interface ClientUsage {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** A deployment write (create or replace). */
export interface DeploymentWrite extends Pick<
  DeploymentRecord,
  'name' | 'model' | 'spec' | 'state' | 'versionRefs' | 'aliasRefs'
> {
  readonly by: string;
  /** When given, the write happens only if the deployment is at this revision. */
  readonly expectedRevision?: number;
  /** Recorded in the same transaction as the write. */
  readonly event?: { readonly kind: string; readonly message: string; readonly detail?: unknown };
}

/**
 * The store. Errors are StratumErrors: MODEL_NOT_FOUND, VERSION_NOT_FOUND, ALIAS_NOT_FOUND,
 * DEPLOYMENT_NOT_FOUND, NOT_FOUND (runs), ALREADY_EXISTS, IN_USE (with the users named in the message and in
 * `details`), PRECONDITION_FAILED (stale revision), STORE_UNAVAILABLE.
 */
export interface MetadataStore extends DriftRecords, PipelineRecords, ApiKeyStore {
  /** `sqlite` or `postgres`. */
  readonly engine: 'sqlite' | 'postgres';

  createModel(model: NewModel): Promise<ModelRecord>;
  getModel(name: string): Promise<ModelRecord>;
  /** Sorted by name. `nameContains` is case-insensitive; `tag` keeps models carrying it. */
  listModels(options?: PageOptions & { nameContains?: string; tag?: string }): Promise<Page<ModelRecord>>;
  updateModel(name: string, patch: { description?: string; tags?: readonly string[] }): Promise<ModelRecord>;
  /** Refuses (IN_USE) while any version remains. */
  deleteModel(name: string): Promise<void>;

  createVersion(version: NewVersion): Promise<VersionRecord>;
  getVersion(model: string, version: number): Promise<VersionRecord>;
  /** Newest first. */
  listVersions(
    model: string,
    options?: PageOptions & { status?: VersionRecord['status']; tag?: string },
  ): Promise<Page<VersionRecord>>;
  /** Only status, tags and description may change: the artifact, signature and metrics never do. */
  updateVersion(
    model: string,
    version: number,
    patch: { status?: VersionRecord['status']; tags?: readonly string[]; description?: string },
  ): Promise<VersionRecord>;
  /** Refuses (IN_USE) while an alias points at it or a deployment refers to it. */
  deleteVersion(model: string, version: number): Promise<void>;

  /** Creates or moves an alias and records the move; the version must exist. */
  setAlias(move: AliasMove): Promise<AliasRecord>;
  getAlias(model: string, alias: string): Promise<AliasRecord>;
  listAliases(model: string): Promise<readonly AliasRecord[]>;
  /** Refuses (IN_USE) while a deployment routes through it. */
  deleteAlias(deletion: AliasDeletion): Promise<void>;
  /** Newest first; every alias of the model when `alias` is omitted. */
  aliasHistory(options: { model: string; alias?: string } & PageOptions): Promise<Page<AliasEvent>>;

  createDeployment(write: DeploymentWrite): Promise<DeploymentRecord>;
  getDeployment(name: string): Promise<DeploymentRecord>;
  listDeployments(options?: PageOptions & { model?: string }): Promise<Page<DeploymentRecord>>;
  /** Replaces spec, state and refs; bumps the revision. */
  updateDeployment(write: DeploymentWrite): Promise<DeploymentRecord>;
  deleteDeployment(options: { name: string; by: string; expectedRevision?: number }): Promise<void>;
  /** Newest first. */
  deploymentEvents(options: { deployment: string } & PageOptions): Promise<Page<DeploymentEvent>>;
  appendDeploymentEvent(event: Omit<DeploymentEvent, 'id' | 'at'>): Promise<DeploymentEvent>;
  /**
   * Adds names to what a deployment's clients use; names already recorded are left as they are.
   * Not a change other replicas react to: it is not announced on the change feed. Refuses
   * (DEPLOYMENT_NOT_FOUND) when the deployment does not exist; its usage goes when it is deleted.
   */
  recordClientUsage(usage: { readonly deployment: string } & Partial<ClientUsage>): Promise<void>;
  /** What a deployment's clients have used so far (empty lists before any traffic). */
  clientUsage(deployment: string): Promise<ClientUsage>;

  /** Starts a run (status `running`). */
  createRun(run: NewRun): Promise<RunRecord>;
  /** NOT_FOUND (naming the run) when there is no such run. */
  getRun(id: string): Promise<RunRecord>;
  /** Newest first. */
  listRuns(options?: PageOptions & { status?: RunStatus; name?: string }): Promise<Page<RunRecord>>;
  /**
   * Records metric values at steps, all or none. Refuses (ALREADY_EXISTS) on a finished run and
   * on a (key, step) already recorded; BAD_REQUEST on a value that is not finite.
   */
  logRunMetrics(
    runId: string,
    metrics: readonly { readonly key: string; readonly step: number; readonly value: number }[],
  ): Promise<readonly RunMetric[]>;
  /** Ends a running run; refuses (ALREADY_EXISTS) when it has already finished. */
  finishRun(finish: RunFinish): Promise<RunRecord>;
  /** Ordered by key, then step; only `key` when given. */
  runMetrics(runId: string, options?: { key?: string }): Promise<readonly RunMetric[]>;

  /**
   * Records a dataset version; recording one that exists returns the existing record unchanged (the
   * version is a content hash, so the same version is the same data).
   */
  recordDatasetVersion(dataset: NewDatasetVersion): Promise<DatasetVersionRecord>;
  /** NOT_FOUND (naming the version) when there is no such dataset version. */
  getDatasetVersion(version: string): Promise<DatasetVersionRecord>;
  /** Newest first; filtered by name. */
  listDatasetVersions(options?: PageOptions & { name?: string }): Promise<Page<DatasetVersionRecord>>;

  /** Starts an experiment (status `running`); ALREADY_EXISTS when its id is taken. */
  createExperiment(experiment: NewExperiment): Promise<ExperimentRecord>;
  /** NOT_FOUND (naming the experiment) when there is none. */
  getExperiment(id: string): Promise<ExperimentRecord>;
  /** Newest first. */
  listExperiments(options?: PageOptions & { status?: ExperimentStatus }): Promise<Page<ExperimentRecord>>;
  /**
   * Ends a running experiment; RUN_FINISHED when it has already ended. Being the one call that
   * ends it, it decides between coordinators of the same experiment which one registers the best
   * model (then recorded with {@link recordExperimentRegistration}).
   */
  finishExperiment(finish: ExperimentFinish): Promise<ExperimentRecord>;
  /**
   * Records the version a succeeded experiment registered; returns the record unchanged when one
   * is recorded already (the first stays). BAD_REQUEST when the experiment did not succeed.
   */
  recordExperimentRegistration(registration: {
    id: string;
    registered: { readonly model: string; readonly version: number };
  }): Promise<ExperimentRecord>;
  /**
   * Records trial `number` (status `running`); ALREADY_EXISTS when the experiment has it already,
   * which is what keeps a restarted coordinator from running a point twice.
   */
  addTrial(trial: {
    experiment: string;
    number: number;
    params: Readonly<Record<string, unknown>>;
    jobId?: string;
  }): Promise<TrialRecord>;
  /** NOT_FOUND when the trial does not exist. */
  updateTrial(update: TrialUpdate): Promise<TrialRecord>;
  /** Every trial of an experiment, by number. */
  listTrials(experiment: string): Promise<readonly TrialRecord[]>;
  /** Records (or, for a retried trial, replaces) a trial's value at a rung. */
  recordRung(result: RungResult): Promise<void>;
  /** Every rung result of an experiment, by rung then trial. */
  rungResults(experiment: string): Promise<readonly RungResult[]>;

  /** Every artifact digest a version or a run refers to (for garbage collection). */
  referencedArtifacts(): Promise<ReadonlySet<string>>;

  /** The hash-chained audit log kept in the same database (issue 13). */
  readonly audit: AuditLog;

  /**
   * Calls `listener` after any change made through any store on the same database, in this
   * process or another (PostgreSQL: LISTEN/NOTIFY plus a polling safety net; SQLite: polling).
   * Returns the unsubscribe function.
   */
  onChange(listener: (change: StoreChange) => void): () => void;

  /** Idempotent. */
  close(): Promise<void>;
}
