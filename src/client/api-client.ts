/**
 * A small client of the management API (`/api/v1`), used by the CLI and the demo. Errors come
 * back as StratumErrors with the server's code and message, so the CLI prints what the server said.
 */
import type { ModelCard } from '../registry/model-card.ts';
import { ERROR_CODES, type ErrorCode } from '../errors/codes.ts';
import type { ArtifactInfo } from '../artifacts/artifact-store.ts';
import type { DeploymentStatus } from '../deploy/deployment-runtime.ts';
import { StratumError } from '../errors/index.ts';
import type { JobRecord } from '../queue/job-queue.ts';
import { followJobEvents, type JobUpdate } from './job-events.ts';

export type { JobUpdate } from './job-events.ts';
import type { PipelineSummary } from '../pipelines/pipeline-service.ts';
import type { PipelineSpec } from '../pipelines/pipeline-spec.ts';
import type { PipelineRecord, PipelineRunRecord } from '../store/pipeline-records.ts';
import type { Deployment } from '../registry/registry.ts';
import type {
  AliasEvent,
  AliasRecord,
  ClientUsage,
  DatasetVersionRecord,
  DeploymentEvent,
  ModelRecord,
  RunMetric,
  RunRecord,
  VersionRecord,
} from '../store/metadata-store.ts';

/** Options of {@link createApiClient}. */
export interface ApiClientOptions {
  /** e.g. `http://127.0.0.1:8000` */
  readonly baseUrl: string;
  /** Recorded as the author of changes (when the server authenticates no one). @default 'cli' */
  readonly actor?: string;
  /** An API key (`stk_…`) or JWT sent as `Authorization: Bearer` on every request. */
  readonly credential?: string;
}

/** An API key's public fields, as the server lists them. */
export interface ApiKeyReply {
  readonly id: string;
  readonly name: string;
  readonly grants: readonly { readonly role: string; readonly model?: string }[];
  readonly limits: { readonly requestsPerSecond?: number; readonly burst?: number; readonly maxConcurrent?: number };
  readonly createdAt: number;
  readonly createdBy: string;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  readonly revokedBy?: string;
}

/** A page of a list endpoint. */
export interface ApiPage<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** A deployment with its ETag. */
export type DeploymentWithEtag = Deployment & { readonly etag: string };

/** The replica's status of a deployment. */
export interface DeploymentStatusReply {
  readonly name: string;
  readonly revision: number;
  readonly servedRevision: number | null;
  /** The routes the deployment should follow now (aliases resolved, canary split applied). */
  readonly desiredRoutes: readonly { readonly version: number; readonly weight: number }[];
  readonly converged: boolean;
  /** The input names clients have sent and the output names they have read (what a move must keep). */
  readonly clientUsage: ClientUsage;
  readonly canary: Deployment['state']['canary'] | null;
  /** This replica's runtime view: loaded versions, canary window, shadow comparison. */
  readonly replica: DeploymentStatus | null;
}

/** The reply of an artifact garbage collection. */
export interface GcReply {
  readonly dryRun: boolean;
  readonly removed: readonly ArtifactInfo[];
  readonly freedBytes: number;
}

/** The client. */
export interface ApiClient {
  listModels(query?: Record<string, string>): Promise<ApiPage<ModelRecord>>;
  getModel(name: string): Promise<ModelRecord>;
  listVersions(model: string, query?: Record<string, string>): Promise<ApiPage<VersionRecord>>;
  getVersion(model: string, version: number): Promise<VersionRecord>;
  /** A version's model card. */
  getCard(model: string, version: number): Promise<ModelCard>;
  pushVersion(options: {
    model: string;
    bytes: Uint8Array;
    description?: string;
    tags?: readonly string[];
    metrics?: Record<string, number>;
    /** Point this alias at the new version in the same write: refused, no version is left behind. */
    alias?: { name: string; reason?: string; force?: boolean };
  }): Promise<VersionRecord>;
  listAliases(model: string): Promise<{ items: AliasRecord[] }>;
  getAlias(model: string, alias: string): Promise<AliasRecord & { etag: string }>;
  setAlias(options: {
    model: string;
    alias: string;
    version: number;
    reason?: string;
    /** Move even where the signature does not fit the deployments' clients (needs `reason`). */
    force?: boolean;
    ifMatch?: string;
  }): Promise<AliasRecord & { etag: string }>;
  aliasHistory(model: string, alias?: string, query?: Record<string, string>): Promise<ApiPage<AliasEvent>>;
  listDeployments(query?: Record<string, string>): Promise<ApiPage<DeploymentWithEtag>>;
  getDeployment(name: string): Promise<DeploymentWithEtag>;
  createDeployment(body: Record<string, unknown>): Promise<DeploymentWithEtag>;
  updateDeployment(options: {
    name: string;
    spec: Record<string, unknown>;
    ifMatch?: string;
  }): Promise<DeploymentWithEtag>;
  deleteDeployment(name: string): Promise<void>;
  rollout(options: { name: string; request: Record<string, unknown> }): Promise<DeploymentWithEtag>;
  abortRollout(name: string, reason?: string): Promise<DeploymentWithEtag>;
  deploymentEvents(name: string, query?: Record<string, string>): Promise<ApiPage<DeploymentEvent>>;
  deploymentStatus(name: string): Promise<DeploymentStatusReply>;
  /** Tracked runs, newest first (`name`, `status`, `limit`, `cursor`). */
  listRuns(query?: Record<string, string>): Promise<ApiPage<RunRecord>>;
  getRun(id: string): Promise<RunRecord>;
  /** A run's metric values by key then step (`key` for one metric). */
  runMetrics(id: string, query?: Record<string, string>): Promise<{ items: RunMetric[] }>;
  /** Dataset versions, newest first (`name`, `limit`, `cursor`). */
  listDatasets(query?: Record<string, string>): Promise<ApiPage<DatasetVersionRecord>>;
  /** A dataset version (`sha256:…`) with its profile. */
  getDataset(version: string): Promise<DatasetVersionRecord>;
  /** Submits a job (`kind`, `payload`, queue options); BAD_REQUEST names the path of a mistake. */
  submitJob(submission: Record<string, unknown>): Promise<JobRecord>;
  /** Jobs, newest first (`state`, `kind`, `parent`, `limit`, `cursor`). */
  listJobs(query?: Record<string, string>): Promise<ApiPage<JobRecord>>;
  getJob(id: string): Promise<JobRecord>;
  cancelJob(id: string): Promise<JobRecord>;
  retryJob(id: string): Promise<JobRecord>;
  /**
   * Follows a job's server-sent events until it finishes (reconnecting if the stream drops):
   * `onUpdate` hears each record and event; resolves with the finished record.
   */
  followJob(id: string, onUpdate?: (update: JobUpdate) => void): Promise<JobRecord>;
  /** Retraining pipelines and their runs. */
  listPipelines(): Promise<{ items: PipelineSummary[] }>;
  getPipeline(name: string): Promise<PipelineSummary>;
  putPipeline(spec: PipelineSpec): Promise<PipelineRecord & { created: boolean }>;
  deletePipeline(name: string): Promise<void>;
  startPipelineRun(name: string): Promise<PipelineRunRecord>;
  listPipelineRuns(name: string, query?: Record<string, string>): Promise<{ items: PipelineRunRecord[] }>;
  getPipelineRun(id: string): Promise<PipelineRunRecord>;
  cancelPipelineRun(id: string): Promise<PipelineRunRecord>;
  /** Removes artifacts no version refers to (`dryRun`: only report them). */
  collectGarbage(options?: { dryRun?: boolean; graceSeconds?: number }): Promise<GcReply>;
  /** API keys (admin). */
  listKeys(): Promise<{ items: ApiKeyReply[] }>;
  /** Issues a key; `key` is its secret, shown this once. */
  createKey(body: {
    name: string;
    grants: readonly string[];
    expiresAt?: string;
    limits?: ApiKeyReply['limits'];
  }): Promise<ApiKeyReply & { key: string }>;
  revokeKey(id: string): Promise<ApiKeyReply>;
  /** Polls until this server serves the deployment's latest revision (and, by default, no canary runs). */
  waitConverged(
    name: string,
    options?: { timeoutMs?: number; untilCanaryEnds?: boolean },
  ): Promise<DeploymentStatusReply>;
}

/** Creates a client. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/$/, '');
  const actor = options.actor ?? 'cli';
  const identity = identityHeaders(actor, options.credential);

  async function call<T>(request: CallRequest): Promise<T> {
    const url = new URL(`${base}${request.path}`);
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { ...identity, ...request.headers };
    let body: string | Buffer | undefined;
    if (request.bytes !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength);
    } else if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body);
    }
    let response: Response;
    try {
      response = await fetch(url, { method: request.method, headers, ...(body !== undefined && { body }) });
    } catch (error) {
      throw new StratumError('SERVER_UNREACHABLE', `cannot reach Stratum at ${base}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let json: unknown;
    try {
      json = text.length === 0 ? {} : JSON.parse(text);
    } catch {
      json = { error: text };
    }
    if (!response.ok) {
      const reply = json as { error?: string; code?: string };
      const code = reply.code !== undefined && reply.code in ERROR_CODES ? (reply.code as ErrorCode) : 'INTERNAL';
      throw new StratumError(code, reply.error ?? `HTTP ${response.status}`);
    }
    const etag = response.headers.get('etag');
    return (etag !== null && typeof json === 'object' && json !== null ? { ...json, etag } : json) as T;
  }

  const enc = encodeURIComponent;
  const client: ApiClient = {
    listModels: (query) => call({ method: 'GET', path: '/api/v1/models', ...(query && { query }) }),
    getModel: (name) => call({ method: 'GET', path: `/api/v1/models/${enc(name)}` }),
    listVersions: (model, query) =>
      call({ method: 'GET', path: `/api/v1/models/${enc(model)}/versions`, ...(query && { query }) }),
    getVersion: (model, version) => call({ method: 'GET', path: `/api/v1/models/${enc(model)}/versions/${version}` }),
    getCard: (model, version) => call({ method: 'GET', path: `/api/v1/models/${enc(model)}/versions/${version}/card` }),
    pushVersion: ({ model, bytes, description, tags, metrics, alias }) =>
      call({
        method: 'POST',
        path: `/api/v1/models/${enc(model)}/versions`,
        bytes,
        query: {
          description,
          tags: tags?.join(','),
          metrics: metrics === undefined ? undefined : JSON.stringify(metrics),
          alias: alias?.name,
          reason: alias?.reason,
          force: alias?.force === true ? 'true' : undefined,
        },
      }),
    listAliases: (model) => call({ method: 'GET', path: `/api/v1/models/${enc(model)}/aliases` }),
    getAlias: (model, alias) => call({ method: 'GET', path: `/api/v1/models/${enc(model)}/aliases/${enc(alias)}` }),
    setAlias: ({ model, alias, version, reason, ifMatch, force }) =>
      call({
        method: 'PUT',
        path: `/api/v1/models/${enc(model)}/aliases/${enc(alias)}`,
        body: { version, ...(reason !== undefined && { reason }), ...(force === true && { force: true }) },
        ...(ifMatch !== undefined && { headers: { 'if-match': ifMatch } }),
      }),
    aliasHistory: (model, alias, query) =>
      call({
        method: 'GET',
        ...(query && { query }),
        path:
          alias === undefined
            ? `/api/v1/models/${enc(model)}/alias-history`
            : `/api/v1/models/${enc(model)}/aliases/${enc(alias)}/history`,
      }),
    listDeployments: (query) => call({ method: 'GET', path: '/api/v1/deployments', ...(query && { query }) }),
    getDeployment: (name) => call({ method: 'GET', path: `/api/v1/deployments/${enc(name)}` }),
    createDeployment: (body) => call({ method: 'POST', path: '/api/v1/deployments', body }),
    updateDeployment: ({ name, spec, ifMatch }) =>
      call({
        method: 'PUT',
        path: `/api/v1/deployments/${enc(name)}`,
        body: spec,
        ...(ifMatch !== undefined && { headers: { 'if-match': ifMatch } }),
      }),
    deleteDeployment: (name) => call({ method: 'DELETE', path: `/api/v1/deployments/${enc(name)}` }),
    rollout: ({ name, request }) =>
      call({ method: 'POST', path: `/api/v1/deployments/${enc(name)}/rollouts`, body: request }),
    abortRollout: (name, reason) =>
      call({
        method: 'POST',
        path: `/api/v1/deployments/${enc(name)}/rollouts/abort`,
        body: reason === undefined ? {} : { reason },
      }),
    deploymentEvents: (name, query) =>
      call({ method: 'GET', path: `/api/v1/deployments/${enc(name)}/events`, ...(query && { query }) }),
    deploymentStatus: (name) => call({ method: 'GET', path: `/api/v1/deployments/${enc(name)}/status` }),
    listRuns: (query) => call({ method: 'GET', path: '/api/v1/runs', ...(query && { query }) }),
    getRun: (id) => call({ method: 'GET', path: `/api/v1/runs/${enc(id)}` }),
    runMetrics: (id, query) =>
      call({ method: 'GET', path: `/api/v1/runs/${enc(id)}/metrics`, ...(query && { query }) }),
    listDatasets: (query) => call({ method: 'GET', path: '/api/v1/datasets', ...(query && { query }) }),
    getDataset: (version) => call({ method: 'GET', path: `/api/v1/datasets/${enc(version)}` }),
    submitJob: (submission) => call({ method: 'POST', path: '/api/v1/jobs', body: submission }),
    listJobs: (query) => call({ method: 'GET', path: '/api/v1/jobs', ...(query && { query }) }),
    getJob: (id) => call({ method: 'GET', path: `/api/v1/jobs/${enc(id)}` }),
    cancelJob: (id) => call({ method: 'POST', path: `/api/v1/jobs/${enc(id)}/cancel` }),
    retryJob: (id) => call({ method: 'POST', path: `/api/v1/jobs/${enc(id)}/retry` }),
    followJob: (id, onUpdate) =>
      followJobEvents({
        url: `${base}/api/v1/jobs/${enc(id)}/events`,
        headers: identity,
        getJob: () => client.getJob(id),
        ...(onUpdate !== undefined && { onUpdate }),
      }),
    ...pipelineCalls(call),
    listKeys: () => call({ method: 'GET', path: '/api/v1/keys' }),
    createKey: (body) => call({ method: 'POST', path: '/api/v1/keys', body }),
    revokeKey: (id) => call({ method: 'POST', path: `/api/v1/keys/${enc(id)}/revoke` }),
    collectGarbage: (gc = {}) => call({ method: 'POST', path: '/api/v1/artifacts/gc', body: gc }),
    async waitConverged(name, wait = {}) {
      const deadline = Date.now() + (wait.timeoutMs ?? 60_000);
      for (;;) {
        const status = await client.deploymentStatus(name);
        const canaryDone = wait.untilCanaryEnds !== true || status.canary?.status !== 'running';
        if (status.converged && canaryDone) return status;
        if (Date.now() > deadline) {
          throw new StratumError(
            'MODEL_NOT_READY',
            `deployment "${name}" did not converge in time (serving revision ${status.servedRevision}, latest ${status.revision})`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
  return client;
}

/** The headers every request carries: the actor, and the credential when there is one. */
function identityHeaders(actor: string, credential: string | undefined): Record<string, string> {
  return { 'x-stratum-actor': actor, ...(credential !== undefined && { authorization: `Bearer ${credential}` }) };
}

/** One request of the client. */
interface CallRequest {
  method: string;
  path: string;
  body?: unknown;
  bytes?: Uint8Array;
  headers?: Record<string, string>;
  query?: Record<string, string | undefined>;
}

type PipelineCalls = Pick<
  ApiClient,
  | 'listPipelines'
  | 'getPipeline'
  | 'putPipeline'
  | 'deletePipeline'
  | 'startPipelineRun'
  | 'listPipelineRuns'
  | 'getPipelineRun'
  | 'cancelPipelineRun'
>;

/** The pipeline methods over `call`. */
function pipelineCalls(call: <T>(request: CallRequest) => Promise<T>): PipelineCalls {
  const enc = encodeURIComponent;
  return {
    listPipelines: () => call({ method: 'GET', path: '/api/v1/pipelines' }),
    getPipeline: (name) => call({ method: 'GET', path: `/api/v1/pipelines/${enc(name)}` }),
    putPipeline: (spec) => call({ method: 'PUT', path: `/api/v1/pipelines/${enc(spec.name)}`, body: spec }),
    deletePipeline: async (name) => {
      await call({ method: 'DELETE', path: `/api/v1/pipelines/${enc(name)}` });
    },
    startPipelineRun: (name) => call({ method: 'POST', path: `/api/v1/pipelines/${enc(name)}/runs` }),
    listPipelineRuns: (name, query) =>
      call({ method: 'GET', path: `/api/v1/pipelines/${enc(name)}/runs`, ...(query && { query }) }),
    getPipelineRun: (id) => call({ method: 'GET', path: `/api/v1/pipeline-runs/${enc(id)}` }),
    cancelPipelineRun: (id) => call({ method: 'POST', path: `/api/v1/pipeline-runs/${enc(id)}/cancel` }),
  };
}
