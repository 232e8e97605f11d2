/**
 * The composition root of `stratum serve`: runtime pool → registry deployments and/or the folder
 * repository → inference service → HTTP and gRPC servers, with a single idempotent `close()` that shuts them down in order.
 */
import { createGrpcServer, type GrpcServer } from '../api/grpc/grpc-server.ts';
import { createHttpServer } from '../api/http/http-server.ts';
import type { Authorizer } from '../api/permissions.ts';
import type { AuditSink } from '../audit/audit-sink.ts';
import { openSecurity } from '../security/open-security.ts';
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { createServingMetrics, type ServingMetrics } from '../monitor/serving-metrics.ts';
import { createServingStats, type ServingStats } from '../monitor/serving-stats.ts';
import { createDriftMetrics } from '../drift/drift-metrics.ts';
import { createDriftService, type DriftService } from '../drift/drift-service.ts';
import { createMemoryWindowSource, type DriftWindowSource } from '../drift/drift-window-source.ts';
import { createRuntimePool, type RuntimePool } from '../runtime/runtime-pool.ts';
import { createInferenceService, type InferenceService } from '../serving/inference-service.ts';
import { folderModelSource } from '../serving/folder-model-source.ts';
import { createModelManager } from '../serving/model-manager.ts';
import { STRATUM_VERSION } from '../version.ts';
import { hostname } from 'node:os';
import { openArtifactStore } from '../artifacts/open-artifact-store.ts';
import { createDeploymentSource, type DeploymentSource } from '../deploy/deployment-source.ts';
import { createRegistry, type Registry } from '../registry/registry.ts';
import type { ModelSource } from '../serving/model-source.ts';
import { openMetadataStore } from '../store/open-metadata-store.ts';
import type { ModelManager } from '../serving/model-manager.ts';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { freePort, probePort } from './port-probe.ts';
import { answerInferCall } from '../api/front-end/answer-infer-call.ts';
import { FrontEndStartError, type FrontEndPool, startFrontEnds } from '../api/front-end/front-end-pool.ts';
import { resolveFrontEnds } from '../api/front-end/resolve-front-ends.ts';
import { HTTP_KEEP_ALIVE_MS } from '../api/http/http-server.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInferenceLogSide } from './inference-log-side.ts';
import { type FairnessSettingsSource, versionFairness } from '../deploy/version-fairness.ts';
import type { AlertManager } from '../alerts/alert-manager.ts';
import type { Feedback } from '../deploy/feedback.ts';
import { openAlerts } from './alerts-side.ts';
import { inferenceLogDriftSource } from './inference-log-drift-source.ts';
import { openPipelinesSide } from './pipelines-side.ts';
import { createTracing, type Tracing } from '../monitor/tracing.ts';
import type { JobQueue, JobWorker } from '../queue/job-queue.ts';
import { openJobQueue } from '../queue/open-job-queue.ts';
import { registerQueueMetrics } from '../queue/queue-metrics.ts';
import { startJobWorker } from '../jobs/job-runner.ts';
import { startAsyncInferenceWorker } from '../jobs/async-inference-worker.ts';
import { createWorkerHandlers } from '../jobs/worker-handlers.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { createInferAsyncDecoder, type InferAsyncDecoder } from '../jobs/infer-async-decoder.ts';
import { threadStores } from '../jobs/thread-job.ts';
import { backgroundChunkExecutor } from '../jobs/batch/background-chunk-executor.ts';
import type { Server as TlsServer } from 'node:tls';
import { prepareServerTls } from '../tls/server-tls.ts';
import { createCallbackHostPolicy } from '../jobs/callback-host-policy.ts';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /**
   * Overrides the authorizer security builds from the configuration (tests).
   * @default API keys and JWTs when security is on (beyond loopback, or `security.mode: on`), else allow everything
   */
  readonly authorizer?: Authorizer;
  /** Skip the gRPC server (e.g. for REST-only tests). @default false */
  readonly withoutGrpc?: boolean;
  /** Where spans also go, each as it ends (tests: an in-memory exporter). @default only `tracing.otlpEndpoint` */
  readonly spanExporter?: SpanExporter;
  /**
   * The job queue (the caller owns it and closes it after the server). Absent: the server opens
   * the configured one (`queueUrl`) with the registry. `infer_async` queues into it and this
   * replica consumes its `infer-async` and `callback` jobs; the management API serves its jobs.
   */
  readonly queue?: JobQueue;
  /**
   * Where changes through the API (and, from the security work, keys and denied requests) are
   * recorded. @default the hash-chained audit log in the metadata store, with the registry on;
   * none without it
   */
  readonly audit?: AuditSink;
  /**
   * Where drift windows are read (the sampled inference log). Absent: an in-memory source nothing
   * records into, so every drift report says `no-data`.
   */
  readonly driftSource?: DriftWindowSource;
  /**
   * The wall clock (epoch ms) API key and JWT expiry is checked against (tests set the time past
   * an expiry instead of waiting for it). @default Date.now
   */
  readonly securityClock?: () => number;
}

/** A running server. */
export interface StratumServer {
  /** `http://host:port`, or `https://host:port` with TLS on. */
  readonly httpUrl: string;
  readonly httpPort: number;
  /** Bound gRPC port (0 when gRPC is off). */
  readonly grpcPort: number;
  readonly service: InferenceService;
  readonly metrics: ServingMetrics;
  /** Serving statistics over time, sampled from `metrics` (the dashboard's charts). */
  readonly stats: ServingStats;
  /** The Fastify app, for in-process requests (`inject`). */
  readonly http: ReturnType<typeof createHttpServer>;
  /** OpenTelemetry tracing (undefined when `tracing.enabled` is false, the default). */
  readonly tracing: Tracing | undefined;
  /** The registry (undefined with the registry off). */
  readonly registry: Registry | undefined;
  /** This replica's deployments (undefined with the registry off). */
  readonly deployments: DeploymentSource | undefined;
  /** The job queue of the management API (undefined with the registry off). */
  readonly queue: JobQueue | undefined;
  /** Where this server records changes and denied requests (undefined: nowhere). */
  readonly audit: AuditSink | undefined;
  /** Whether requests must authenticate (see `security.mode`). */
  readonly securityEnabled: boolean;
  /** This replica's alert rules (undefined without `alerts.rulesFile`). */
  readonly alerts: AlertManager | undefined;
  /** Graceful: stop accepting, finish in-flight requests, unload models, stop workers. */
  close(): Promise<void>;
}

/** Starts serving the registry's deployments and, with `modelsDir`, a model repository folder. */
// eslint-disable-next-line max-lines-per-function -- the start-up order reads top to bottom; TLS, audit, drift, stats and tracing each add a line or two here
export async function startServer(options: StartServerOptions): Promise<StratumServer> {
  const { config, logger } = options;
  checkSomethingToServe(config);
  const callbackHosts = createCallbackHostPolicy(config.callbacks);
  const pool = createRuntimePool({ workers: config.runtime.workers, logger });
  const metrics = createServingMetrics();
  const stats = createServingStats({ registry: metrics.registry });
  const cleanups: (() => Promise<void>)[] = [async () => stats.close()];
  const tracing = createTracing({
    settings: config.tracing,
    version: STRATUM_VERSION,
    ...(options.spanExporter !== undefined && { exporter: options.spanExporter }),
  });
  // Closed last (cleanups run in reverse): spans of the shutdown itself are still exported.
  if (tracing !== undefined) cleanups.push(() => tracing.close());
  let grpc: GrpcServer | undefined;
  let http: ReturnType<typeof createHttpServer> | undefined;
  let service: InferenceService | undefined;
  let asyncWorker: JobWorker | undefined;
  let frontEnds: FrontEndPool | undefined;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // The job worker stops taking jobs first and finishes the running ones while the service
      // still accepts them; they end before the sources drain their batchers below.
      const workerClosed = asyncWorker?.close(config.shutdownGraceMs);
      service?.setReady(false);
      const results = await Promise.allSettled([
        frontEnds?.close(config.shutdownGraceMs),
        http?.close(),
        grpc?.close(config.shutdownGraceMs),
        workerClosed,
      ]);
      // Then the sources (they drain their queues), then the stores, then the workers.
      const more: PromiseSettledResult<unknown>[] = [];
      for (const cleanup of cleanups.reverse()) more.push(...(await Promise.allSettled([cleanup()])));
      const last = await Promise.allSettled([pool.close()]);
      for (const r of [...results, ...more, ...last]) {
        if (r.status === 'rejected') logger.warn({ err: r.reason }, 'error during shutdown');
      }
    })();
    return closing;
  };

  try {
    // Bad TLS files are a configuration mistake, reported before anything else starts.
    const tls = await prepareServerTls({ settings: config.tls, logger });
    const frontEndCount = resolveFrontEnds(config.frontEnds, { cores: availableParallelism(), tls: tls !== undefined });
    // A taken port is found before the models load, not after.
    await probePorts(config, options.withoutGrpc !== true);
    // Live fairness reads each version's sensitive columns from the registry, which opens after
    // the log (drift reads its windows from the log); no request is answered before both are open.
    let fairnessSource: FairnessSettingsSource | undefined;
    const inferenceLog = await openInferenceLogSide({
      config,
      logger,
      metrics,
      cleanups,
      fairness: async (version) => fairnessSource?.(version),
    });
    // Drift reads its windows from the inference log when the log is on.
    const driftSource =
      options.driftSource ?? (inferenceLog === undefined ? undefined : inferenceLogDriftSource(inferenceLog));
    const side = config.registry
      ? await openRegistrySide({
          config,
          logger,
          pool,
          metrics,
          cleanups,
          given: options.queue,
          driftSource,
          feedback: inferenceLog?.routes.feedback,
        })
      : undefined;
    const { registry, deployments, auditLog, drift } = side ?? {};
    if (registry !== undefined) fairnessSource = versionFairness(registry);
    const queue = side === undefined ? options.queue : side.queue;
    const inferenceQueue = side === undefined ? options.queue : side.inferenceQueue;
    const sources: ModelSource[] = deployments === undefined ? [] : [deployments];
    const security = openSecurity({
      config,
      metrics: metrics.registry,
      logger,
      ...(side !== undefined && { store: side.store }),
      ...(options.securityClock !== undefined && { now: options.securityClock }),
    });
    const authorizer = options.authorizer ?? security.authorizer;
    const pipelines =
      side === undefined
        ? undefined
        : openPipelinesSide({
            config,
            logger,
            store: side.store,
            registry: side.registry,
            queue: side.queue,
            drift: side.drift,
            cleanups,
          });
    const alerts = await openAlerts({ config, logger, metrics, registry, pipelines, cleanups });
    let manager: ModelManager | undefined;
    if (config.modelsDir !== undefined) {
      const folder = createModelManager({ dir: config.modelsDir, config, pool, metrics, logger });
      manager = folder;
      cleanups.push(() => folder.close());
      await folder.loadAll();
      if (config.watch) folder.watch(config.watchIntervalMs);
      sources.push(folderModelSource(folder));
    }
    // infer_async JSON bodies are parsed in a background thread; it ends after the HTTP server.
    const asyncDecoder = (): InferAsyncDecoder => {
      const decoder = createInferAsyncDecoder();
      cleanups.push(() => decoder.close());
      return decoder;
    };
    const audit = options.audit ?? auditLog;
    service = createInferenceService({
      sources,
      metrics,
      version: STRATUM_VERSION,
      ...(manager !== undefined && { manager }),
      ...(inferenceLog !== undefined && { recorder: inferenceLog.recorder }),
    });
    http = createHttpServer({
      service,
      metrics,
      config,
      logger,
      authorizer,
      trustProxy: frontEndCount > 0,
      ...(audit !== undefined && { audit }),
      ...(tls !== undefined && { https: tls.https }),
      ...(tracing !== undefined && { tracing }),
      ...(inferenceQueue !== undefined && {
        asyncInference: {
          queue: inferenceQueue,
          settings: config.asyncInference,
          decoder: asyncDecoder(),
          callbackHosts,
        },
      }),
      ...(registry !== undefined &&
        deployments !== undefined && {
          management: {
            registry,
            deployments,
            stats,
            ...(queue !== undefined && { queue }),
            ...(inferenceQueue !== undefined && { inferenceQueue }),
            ...(auditLog !== undefined && { auditLog }),
            ...(drift !== undefined && { drift }),
            ...(inferenceLog !== undefined && { inferenceLog: inferenceLog.routes }),
            ...(security.keys !== undefined && { keys: security.keys }),
            ...(alerts !== undefined && { alerts }),
            ...(pipelines !== undefined && { pipelines }),
          },
        }),
    });
    const httpListener = await listenHttp({
      http,
      config,
      frontEnds: frontEndCount,
      cleanups,
      logger,
      service,
      authorizer,
      audit,
      tracing,
    });
    frontEnds = httpListener.frontEnds;
    let grpcPort = 0;
    if (options.withoutGrpc !== true) {
      grpc = createGrpcServer({
        service,
        logger,
        authorizer,
        ...(audit !== undefined && { audit }),
        maxBytesElementBytes: config.maxBytesElementBytes,
        maxMessageBytes: config.bodyLimitBytes,
        ...(tls !== undefined && { tls: tls.https }),
        ...(tracing !== undefined && { tracing }),
      });
      grpcPort = await grpc
        .listen(config.host, config.grpcPort)
        .catch((error: unknown) =>
          rethrowBusy(error, { port: config.grpcPort, protocol: 'gRPC', setting: 'grpcPort' }),
        );
    }
    const tlsServers = [http.server as unknown as TlsServer, grpc?.tlsServer].filter((s) => s !== undefined);
    const reloader = tls?.watch({ servers: tlsServers });
    if (reloader !== undefined) cleanups.push(async () => reloader.close());
    service.setReady(true);
    if (inferenceQueue !== undefined) {
      asyncWorker = startAsyncInferenceWorker({
        queue: inferenceQueue,
        service,
        logger,
        settings: config.asyncInference,
        maxBytesElementBytes: config.maxBytesElementBytes,
        callbackHosts,
        ...(tracing !== undefined && { tracing }),
      });
    }
    const httpPort = httpListener.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      httpUrl: `${tls === undefined ? 'http' : 'https'}://${host}:${httpPort}`,
      httpPort,
      grpcPort,
      service,
      metrics,
      stats,
      http,
      tracing,
      registry,
      deployments,
      queue,
      audit,
      securityEnabled: security.enabled,
      alerts,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Opens the job queue and, on the embedded queue, the in-process worker (one process runs
 * everything; with Redis, `stratum worker` processes do). Their cleanups close the worker first:
 * running jobs get the grace period, then go back to the queue.
 */
async function openQueueAndWorker(options: {
  config: Readonly<Config>;
  logger: Logger;
  registry: Registry;
  /** The registry's stores: a search coordinator records its experiment and trials in them. */
  store: MetadataStore;
  artifacts: ArtifactStore;
  /** The serving pool: batch jobs of the in-process worker run their models in it too. */
  runtime: RuntimePool;
  /** The queue's depth and job times go on this server's /metrics. */
  metrics: ServingMetrics;
  cleanups: (() => Promise<void>)[];
  /** A queue the caller opened (and closes). */
  given: JobQueue | undefined;
  /** The inference log's feedback service, when the log is on: `feedback` jobs join through it. */
  feedback: Feedback | undefined;
}): Promise<JobQueue | undefined> {
  const { config, logger, cleanups } = options;
  if (options.given === undefined && config.queueUrl === 'embedded' && !config.databaseUrl.startsWith('sqlite:')) {
    logger.warn(
      { databaseUrl: config.databaseUrl },
      'no job queue: the embedded queue needs the SQLite database; set STRATUM_QUEUE_URL=redis://… for jobs',
    );
    return undefined;
  }
  let queue = options.given;
  if (queue === undefined) {
    const opened = await openJobQueue({
      queueUrl: config.queueUrl,
      databaseUrl: config.databaseUrl,
      name: config.jobs.queueName,
      logger,
    });
    cleanups.push(() => opened.close());
    queue = opened;
  }
  const observer = registerQueueMetrics({ registry: options.metrics.registry, queue, logger });
  if (queue.engine === 'sqlite' && config.jobs.serveConcurrency > 0) {
    // Chunks run in a background thread at the lowest CPU priority, off the event loop and out of
    // the serving runtime pool, so a batch job takes only the capacity online inference leaves.
    const chunks = backgroundChunkExecutor({
      workers: config.runtime.workers,
      stores: threadStores(config),
      logLevel: config.logLevel,
    });
    const extra = createWorkerHandlers({
      queue,
      runtime: options.runtime,
      store: options.store,
      artifacts: options.artifacts,
      registry: options.registry,
      chunks,
      logger,
      databaseUrl: config.databaseUrl,
      feedback: options.feedback,
    });
    const worker = startJobWorker({
      queue,
      config,
      store: options.registry,
      logger: logger.child({ component: 'worker' }),
      concurrency: config.jobs.serveConcurrency,
      lockMs: config.jobs.lockMs,
      extraHandlers: extra.handlers,
      observer,
    });
    cleanups.push(async () => {
      await worker.close(config.shutdownGraceMs);
      await extra.close();
    });
  }
  return queue;
}

/**
 * The registry side of a replica: the metadata and artifact stores, the registry, this replica's
 * deployments (started), and the job queues. Each pushes its cleanup.
 */
async function openRegistrySide(options: {
  config: Readonly<Config>;
  logger: Logger;
  pool: RuntimePool;
  metrics: ServingMetrics;
  cleanups: (() => Promise<void>)[];
  given: JobQueue | undefined;
  driftSource: DriftWindowSource | undefined;
  feedback: Feedback | undefined;
}): Promise<{
  registry: Registry;
  store: MetadataStore;
  deployments: DeploymentSource;
  queue: JobQueue | undefined;
  inferenceQueue: JobQueue | undefined;
  auditLog: AuditLog;
  drift: DriftService;
}> {
  const { config, logger, pool, metrics, cleanups, given } = options;
  const store = await openMetadataStore({ url: config.databaseUrl, pollMs: config.registryPollMs, logger });
  const artifacts = await openArtifactStore({ url: config.artifactsUrl, encryption: config.artifactEncryption }).catch(
    async (error: unknown) => {
      await store.close();
      throw error;
    },
  );
  const registry = createRegistry({ store, artifacts, logger, maxArtifactBytes: config.bodyLimitBytes });
  cleanups.push(() => registry.close());
  const deployments = createDeploymentSource({ registry, config, pool, metrics, logger, replicaId: replicaId() });
  cleanups.push(() => deployments.close());
  await deployments.start();
  const queue = await openQueueAndWorker({
    config,
    logger,
    registry,
    store,
    artifacts,
    runtime: pool,
    metrics,
    cleanups,
    given,
    feedback: options.feedback,
  });
  const inferenceQueue = await inferenceQueueBeside({ queue, given, config, logger, cleanups });
  const drift = createDriftService({
    store,
    source: options.driftSource ?? createMemoryWindowSource(),
    metrics: createDriftMetrics({ registry: metrics.registry }),
  });
  cleanups.push(() => drift.close());
  return { registry, store, deployments, queue, inferenceQueue, auditLog: store.audit, drift };
}

/**
 * Where asynchronous inference is queued. A BullMQ worker takes every job of its queue, whatever
 * the kind, so on Redis online replicas consume it from a queue of its own: they never take (and
 * hand back) training or batch jobs, and workers never take inference jobs. The embedded engine
 * claims by kind, so one queue serves both there.
 */
async function inferenceQueueBeside(options: {
  queue: JobQueue | undefined;
  given: JobQueue | undefined;
  config: Readonly<Config>;
  logger: Logger;
  cleanups: (() => Promise<void>)[];
}): Promise<JobQueue | undefined> {
  const { queue, config } = options;
  if (queue?.engine !== 'bullmq' || options.given !== undefined) return queue;
  const opened = await openJobQueue({
    queueUrl: config.queueUrl,
    databaseUrl: config.databaseUrl,
    name: `${config.jobs.queueName}.inference`,
    logger: options.logger,
  });
  options.cleanups.push(() => opened.close());
  return opened;
}

/**
 * A port another process holds is a start-up mistake to name, not a crash: PORT_IN_USE with the
 * port and the setting that changes it (the CLI names its flag). Fastify rejects with Node's
 * EADDRINUSE error, and so does the gRPC server (node:http2); the message check is kept for errors
 * that only name it.
 */
/**
 * Puts the HTTP app on the public port, or, with front ends, on a Unix socket in a private folder
 * behind front-end processes that share the public port.
 */
async function listenHttp(options: {
  http: ReturnType<typeof createHttpServer>;
  config: Config;
  frontEnds: number;
  cleanups: (() => Promise<void>)[];
  logger: Logger;
  service: InferenceService;
  authorizer: Authorizer;
  audit: AuditSink | undefined;
  tracing: Tracing | undefined;
}): Promise<{ port: number; frontEnds?: FrontEndPool }> {
  const { http, config, logger } = options;
  if (options.frontEnds === 0) {
    await http
      .listen({ host: config.host, port: config.httpPort })
      .catch((error: unknown) => rethrowBusy(error, { port: config.httpPort, protocol: 'HTTP', setting: 'httpPort' }));
    const address = http.server.address();
    return { port: typeof address === 'object' && address !== null ? address.port : config.httpPort };
  }
  const dir = await mkdtemp(join(tmpdir(), 'stratum-front-'));
  // Pushed first, run last: the sockets in it are closed by then.
  options.cleanups.unshift(() => rm(dir, { recursive: true, force: true }));
  const httpSocket = join(dir, 'http.sock');
  await http.listen({ path: httpSocket });
  // Cluster workers asking for port 0 would share one handle with any other server in this
  // process that did the same: the front ends are given a port of their own.
  const port = config.httpPort === 0 ? await freePort(config.host) : config.httpPort;
  const context = {
    service: options.service,
    authorizer: options.authorizer,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    ...(options.audit !== undefined && { audit: options.audit }),
    ...(options.tracing !== undefined && { tracing: options.tracing }),
  };
  const pool = await startFrontEnds({
    count: options.frontEnds,
    host: config.host,
    port,
    httpSocket,
    dir,
    bodyLimitBytes: config.bodyLimitBytes,
    maxBytesElementBytes: config.maxBytesElementBytes,
    keepAliveTimeoutMs: HTTP_KEEP_ALIVE_MS,
    answer: (call) => answerInferCall(call, context),
    logger,
  }).catch((error: unknown) => {
    if (error instanceof FrontEndStartError && error.code === 'EADDRINUSE') {
      rethrowBusy(error, { port, protocol: 'HTTP', setting: 'httpPort' });
    }
    throw error;
  });
  logger.info({ frontEnds: pool.count, port }, 'front-end processes are answering HTTP');
  return { port: pool.port, frontEnds: pool };
}

function rethrowBusy(error: unknown, listener: { port: number; protocol: 'HTTP' | 'gRPC'; setting: string }): never {
  const busy =
    (error as { code?: unknown } | null)?.code === 'EADDRINUSE' ||
    (error instanceof Error && error.message.includes('EADDRINUSE'));
  if (!busy) throw error;
  throw new StratumError('PORT_IN_USE', `port ${listener.port} is in use (${listener.protocol})`, {
    details: { port: listener.port, protocol: listener.protocol, setting: listener.setting },
    cause: error,
  });
}

function replicaId(): string {
  return `${hostname()}:${process.pid}`;
}

/** Fails with PORT_IN_USE-style errors naming the setting when a port is taken. */
async function probePorts(config: Config, grpc: boolean): Promise<void> {
  await probePort(config.host, config.httpPort).catch((error: unknown) =>
    rethrowBusy(error, { port: config.httpPort, protocol: 'HTTP', setting: 'httpPort' }),
  );
  if (!grpc) return;
  await probePort(config.host, config.grpcPort).catch((error: unknown) =>
    rethrowBusy(error, { port: config.grpcPort, protocol: 'gRPC', setting: 'grpcPort' }),
  );
}

function checkSomethingToServe(config: Config): void {
  if (config.modelsDir === undefined && !config.registry) {
    throw new StratumError(
      'CONFIG_INVALID',
      'nothing to serve: pass --models <dir> (or set STRATUM_MODELS_DIR), or turn the registry on',
    );
  }
}
