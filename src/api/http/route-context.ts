/**
 * What route handlers call: the serving routes (`/v2`, `/metrics`) the inference service, the
 * management routes (`/api/v1`) the registry and this replica's deployments, the reference route
 * the server's OpenAPI document.
 */
import type { PipelineService } from '../../pipelines/pipeline-service.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { CallbackHostPolicy } from '../../jobs/callback-host-policy.ts';
import type { AlertManager } from '../../alerts/alert-manager.ts';
import type { AsyncInferenceConfig, Config } from '../../config/index.ts';
import type { DeploymentSource } from '../../deploy/deployment-source.ts';
import type { DriftService } from '../../drift/drift-service.ts';
import type { ServingMetrics } from '../../monitor/serving-metrics.ts';
import type { ServingStats } from '../../monitor/serving-stats.ts';
import type { Feedback } from '../../deploy/feedback.ts';
import type { LiveQuality } from '../../deploy/live-quality.ts';
import type { Tracing } from '../../monitor/tracing.ts';
import type { InferAsyncDecoder } from '../../jobs/infer-async-decoder.ts';
import type { JobQueue } from '../../queue/job-queue.ts';
import type { Registry } from '../../registry/registry.ts';
import type { InferenceService } from '../../serving/inference-service.ts';
import type { AuditSink } from '../../audit/audit-sink.ts';
import type { ApiKeyService } from '../../security/api-keys.ts';

/** The context of the serving routes. */
export interface ServingContext {
  readonly service: InferenceService;
  readonly metrics: ServingMetrics;
  readonly config: Pick<Config, 'maxBytesElementBytes'>;
  /** Asynchronous inference (`infer_async`): where its jobs are queued. Absent: the routes answer 501. */
  readonly asyncInference?: AsyncInferenceContext;
  /** OpenTelemetry tracing; absent (the default) the inference routes do no tracing work at all. */
  readonly tracing?: Tracing;
}

/** What `infer_async` needs. */
export interface AsyncInferenceContext {
  readonly queue: Pick<JobQueue, 'submit'>;
  readonly settings: AsyncInferenceConfig;
  /** Converts JSON bodies off the event loop. @default none: they are decoded on the event loop */
  readonly decoder?: InferAsyncDecoder;
  /** Where callbacks may go; a callback URL on a refused host is a 400 at submission. */
  readonly callbackHosts: CallbackHostPolicy;
}

/** The context of the management routes. */
export interface ManagementContext {
  readonly registry: Registry;
  /** This replica's deployments, for the status endpoint. */
  readonly deployments: DeploymentSource;
  /**
   * The job queue the job routes submit to and read; absent when none is configured (the embedded
   * queue cannot run on PostgreSQL): the job routes then answer QUEUE_UNAVAILABLE.
   */
  readonly queue?: JobQueue;
  /**
   * Where `infer_async` queues its jobs when that is not `queue` (on Redis: a queue of its own,
   * since a BullMQ worker cannot take only some kinds of a queue). The job routes find a job in
   * either.
   */
  readonly inferenceQueue?: JobQueue;
  /** The audit log `/api/v1/audit` reads. Absent: that route answers UNSUPPORTED. */
  readonly auditLog?: AuditLog;
  /** Aborted when the server starts closing: long-lived replies (event streams) end then. */
  readonly shutdown?: AbortSignal;
  /** This replica's serving statistics over time (the dashboard's charts). Absent: the stats route answers 501. */
  readonly stats?: ServingStats;
  /** Drift detection; absent: the drift routes answer UNSUPPORTED. */
  readonly drift?: DriftService;
  /** API keys (`/api/v1/keys`); absent: those routes answer UNSUPPORTED. */
  readonly keys?: ApiKeyService;
  /** Where key changes are recorded. */
  readonly audit?: AuditSink;
  /** This replica's alert rules; absent: the alerts route answers UNSUPPORTED. */
  readonly alerts?: AlertManager;
  /** Retraining pipelines; absent: those routes answer UNSUPPORTED. */
  readonly pipelines?: PipelineService;
  /** Feedback and live quality, when the inference log is on. Absent: those routes answer UNSUPPORTED. */
  readonly inferenceLog?: InferenceLogContext;
}

/** What the feedback and quality routes need. */
export interface InferenceLogContext {
  readonly feedback: Feedback;
  readonly quality: LiveQuality;
}

/** The context of the reference route. */
export interface ReferenceContext {
  /** The OpenAPI document of the routes this server registers. */
  readonly document: Readonly<Record<string, unknown>>;
}
