/**
 * The configuration schema: every setting with its default beside it. The schema is the type.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const port = z.number().int().min(0).max(65_535);

/** Defaults for a model's dynamic batcher; a model's `config.json` overrides them. */
export const BatchingDefaultsSchema = z
  .object({
    /** Largest batch the batcher forms (rows along dim 0). */
    maxBatchSize: z.number().int().min(1).max(65_536).default(64),
    /** How long a batch may wait for more requests once a runner is free (µs). 0: send at once. */
    maxQueueDelayMicroseconds: z.number().int().min(0).max(10_000_000).default(0),
    /** Requests (counted per model version) the queue holds before rejecting with 503. */
    maxQueueSize: z.number().int().min(1).max(10_000_000).default(4096),
    /** Number of priority levels; level 1 is served first. */
    priorityLevels: z.number().int().min(1).max(16).default(2),
    /** Priority a request gets when it names none. */
    defaultPriority: z.number().int().min(1).max(16).default(2),
  })
  .strict();

/** Settings of the inference runtime (onnxruntime-node). */
export const RuntimeConfigSchema = z
  .object({
    /** Worker threads that run sessions; each runs one batch at a time. */
    workers: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(() => Math.max(1, availableParallelism())),
    /** onnxruntime intra-op threads per session. */
    intraOpThreads: z.number().int().min(1).max(256).default(1),
    /** onnxruntime inter-op threads per session. */
    interOpThreads: z.number().int().min(1).max(256).default(1),
  })
  .strict();

/** Settings of the processes that run queued jobs. */
export const JobsConfigSchema = z
  .object({
    /** Jobs a `stratum worker` runs at once. */
    workerConcurrency: z.number().int().min(1).max(256).default(1),
    /**
     * Jobs the in-process worker of `stratum serve` runs at once, on the embedded queue (one
     * process runs everything); 0 turns it off. With Redis, `stratum worker` processes run jobs.
     */
    serveConcurrency: z.number().int().min(0).max(256).default(1),
    /**
     * How long a worker's hold on a job lasts without renewal (ms): a worker that dies loses its
     * jobs to another after at most this long. Renewed well within it while the worker lives.
     */
    lockMs: z.number().int().min(500).max(3_600_000).default(30_000),
    /**
     * The port `stratum worker` serves `GET /metrics` (Prometheus) and `GET /healthz` on, at
     * `host`; 0 picks a free one (logged). Unset: none — several workers share a machine in
     * development, and a fixed default would make the second one fail to start; a pod sets it
     * (`STRATUM_WORKER_METRICS_PORT=9464`) beside its scrape annotation.
     */
    metricsPort: port.optional(),
    /** The queue's name: servers and workers sharing a database or a Redis use the same one. */
    queueName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'letters, digits, _ . - (up to 128)')
      .default('default'),
  })
  .strict();

/** Asynchronous inference (`POST /v2/models/{m}/infer_async`) and its callbacks. */
export const AsyncInferenceConfigSchema = z
  .object({
    /** Largest `infer_async` body accepted (bytes); it is stored in the job, so it is kept small. */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    /** Attempts of an `infer-async` job (a replica that dies mid-job hands it to another). */
    attempts: z.number().int().min(1).max(20).default(3),
    /** `infer-async` jobs this replica runs at once (they queue in the batcher's background class). */
    concurrency: z.number().int().min(1).max(1024).default(16),
    /**
     * Admission: a replica takes its next `infer-async` job only while at most this many online
     * requests are in flight in it, one job at a time, so queued work soaks up idle capacity
     * without crowding the event loop online requests need.
     */
    admitWhileOnlineAtMost: z.number().int().min(0).max(1_000_000).default(1),
    /** Signs callbacks that bring no secret of their own (HMAC-SHA256). Without it, a callback needs one. */
    callbackSecret: z.string().min(16).max(256).optional(),
    /** Deliveries of a callback in all, the first included (network errors, 5xx and 429 are retried). */
    callbackAttempts: z.number().int().min(1).max(30).default(6),
    /** The first retry's delay (ms); it doubles each time, with jitter. */
    callbackBackoffMs: z.number().int().min(0).max(3_600_000).default(1000),
    /** One delivery gives up after this long (ms). */
    callbackTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  })
  .strict();

/**
 * Encryption of artifacts at rest (AES-256-GCM envelope encryption; see docs/ARCHITECTURE.md).
 * Without a master key artifacts are stored as they are. Keys are base64 or hex of 32 bytes.
 */
export const ArtifactEncryptionConfigSchema = z
  .object({
    /** The master key that wraps every new artifact's data key. Never logged. */
    masterKey: z.string().min(1).optional(),
    /** A file holding the master key (instead of `masterKey`). */
    masterKeyFile: z.string().min(1).optional(),
    /** Earlier master keys, comma-separated: accepted for reading while `stratum artifacts rotate-key` runs. */
    previousMasterKeys: z.string().min(1).optional(),
  })
  .strict();

/** Request limits: a token bucket and a cap on requests in flight (absent: no limit of that kind). */
export const RequestLimitsSchema = z
  .object({
    /** Sustained requests per second. */
    requestsPerSecond: z.number().positive().max(1_000_000).optional(),
    /** Requests allowed in a burst (the bucket's size). @default requestsPerSecond */
    burst: z.number().int().min(1).max(10_000_000).optional(),
    /** Requests in flight at once. */
    maxConcurrent: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

/** JWT bearer tokens: verified against a JWKS or a shared secret (exactly one). */
export const JwtConfigSchema = z
  .object({
    /** Where the issuer publishes its signing keys; fetched and cached. */
    jwksUrl: z.url().optional(),
    /** A shared HMAC secret (HS256/384/512) instead of a JWKS. Never logged. */
    secret: z.string().min(32, 'at least 32 characters').optional(),
    /** The `iss` every token must carry. */
    issuer: z.string().min(1).optional(),
    /** An `aud` every token must carry. */
    audience: z.string().min(1).optional(),
    /** The claim holding the roles (`viewer`, `predictor:iris`, …); a dot path reaches nested claims. */
    rolesClaim: z.string().min(1).default('stratum_roles'),
  })
  .strict()
  .refine((jwt) => (jwt.jwksUrl === undefined) !== (jwt.secret === undefined), {
    message: 'set exactly one of jwksUrl and secret',
  });

/** Alert rules evaluated in this process (src/alerts; the rules file's format is there). */
export const AlertsConfigSchema = z
  .object({
    /** A YAML or JSON file of alert rules; unset: no alerts evaluated here. */
    rulesFile: z.string().min(1).optional(),
    /** How often the rules are evaluated (ms). */
    intervalMs: z.number().int().min(100).max(3_600_000).default(5000),
  })
  .strict();

/** Scheduled drift reports (deployments whose drift settings say `every`). */
export const DriftScheduleConfigSchema = z
  .object({
    /** How often this replica looks for deployments due a drift report (ms). */
    checkIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
  })
  .strict();

/** Retraining pipelines (see docs/ARCHITECTURE.md, "Retraining pipelines"). */
export const PipelinesConfigSchema = z
  .object({
    /** Start the runs of pipelines that declare a `schedule` from this replica (replicas agree on each slot's run). */
    scheduler: z.boolean().default(true),
    /** Longest the scheduler sleeps before it looks at the pipelines again (ms). */
    checkIntervalMs: z.number().int().min(100).max(3_600_000).default(30_000),
  })
  .strict();

/** Identity and access (see docs/ARCHITECTURE.md, "Identity and access"). */
export const SecurityConfigSchema = z
  .object({
    /**
     * `auto`: authentication and roles are on whenever the servers listen beyond loopback, off on
     * 127.0.0.1 / ::1 (zero configuration for one machine); `on`: on everywhere.
     */
    mode: z.enum(['auto', 'on']).default('auto'),
    jwt: JwtConfigSchema.optional(),
    /**
     * How long a verified API key or token is trusted before it is checked again (ms); a key
     * revoked on another replica stops working here within this time.
     */
    cacheTtlMs: z.number().int().min(0).max(3_600_000).default(10_000),
    /** Verified credentials cached at most. */
    cacheMaxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
    /** Limits of callers that have none of their own (JWTs, keys created without limits), per replica. */
    defaultLimits: RequestLimitsSchema.default(() => RequestLimitsSchema.parse({})),
  })
  .strict();

/**
 * OpenTelemetry traces (issue 12). Off by default, and then nothing is created or propagated: no
 * span processor or exporter, no spans, no `traceparent` parsing on the request path.
 */
export const TracingConfigSchema = z
  .object({
    /** Create spans (HTTP/gRPC → inference → batcher → runtime → store) and propagate W3C `traceparent`. */
    enabled: z.boolean().default(false),
    /**
     * Where spans are sent (OTLP over HTTP), e.g. `http://collector:4318/v1/traces`. Unset: no span
     * is exported (and none is built); `traceparent` is still read and answered.
     */
    otlpEndpoint: z.url().optional(),
    /**
     * The OTLP/HTTP encoding: `http/protobuf` (OTLP's default; half the serving thread's time per
     * span of JSON, measured) or `http/json`.
     */
    otlpProtocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
    /**
     * Ended spans held for export at most (the SDK's batch processor); past it, spans are dropped.
     * The SDK's own 2,048 is ≈ 70 ms of a server traced at 100% and 10k req/s (three spans a
     * request): one slow export and spans go.
     */
    exportQueueSize: z.number().int().min(1).max(1_048_576).default(16_384),
    /**
     * Spans per OTLP request. Serializing a batch holds the event loop (≈ 2.5 µs a span as
     * protobuf), so larger batches trade fewer requests for longer pauses.
     */
    exportBatchSize: z.number().int().min(1).max(65_536).default(1024),
    /**
     * Share of new traces recorded (0–1). A request whose caller sent a sampled `traceparent`
     * follows the caller's decision.
     */
    sampleRate: z.number().min(0).max(1).default(0.01),
    /** `service.name` of the spans. */
    serviceName: z.string().min(1).max(128).default('stratum'),
  })
  .strict();

/** What to do with an input before it is written to the inference log: leave it out, or keep a hash of each element. */
export const RedactionSchema = z.record(z.string().min(1), z.enum(['drop', 'hash']));

/** A deployment's own inference-log settings; unset fields follow `inferenceLog`. */
export const InferenceLogDeploymentSchema = z
  .object({
    /** Share of this deployment's answered requests written to the log (0–1). */
    sampleRate: z.number().min(0).max(1).optional(),
    /** Redaction of this deployment's inputs, by input name (added to the global rules; these win). */
    redact: RedactionSchema.optional(),
  })
  .strict();

/**
 * The sampled inference log (issue 12): inputs, outputs, model, version, latency and request id of
 * a share of answered requests, in the metadata database; it feeds feedback, live quality and drift.
 */
export const InferenceLogConfigSchema = z
  .object({
    /** Share of answered requests written to the log (0–1); 0: off (no request ids are generated). */
    sampleRate: z.number().min(0).max(1).default(0),
    /** Per-deployment (or folder model) overrides, by name. */
    deployments: z.record(z.string().min(1), InferenceLogDeploymentSchema).default({}),
    /** Redaction for every deployment, by input name: `drop` or `hash` (SHA-256, first 16 hex digits). */
    redact: RedactionSchema.default({}),
    /** Records held in memory waiting to be written; past it records are dropped and counted. */
    bufferSize: z.number().int().min(1).max(10_000_000).default(10_000),
    /** Records written per statement. */
    batchSize: z.number().int().min(1).max(5_000).default(500),
    /** How often buffered records are written (ms). */
    flushIntervalMs: z.number().int().min(1).max(600_000).default(250),
    /** Records older than this are pruned (days); 0: no age limit. */
    retentionDays: z.number().min(0).max(36_500).default(7),
    /** At most this many records are kept (the oldest are pruned first); 0: no cap. */
    maxRows: z.number().int().min(0).max(1_000_000_000).default(1_000_000),
    /** How often the retention is applied (ms). */
    pruneIntervalMs: z.number().int().min(1000).max(86_400_000).default(60_000),
  })
  .strict();

/** Live quality from feedback joined with the inference log (issue 12). */
export const QualityConfigSchema = z
  .object({
    /** The count window: the latest this many labelled records of a version give its metrics. */
    windowRecords: z.number().int().min(1).max(1_000_000).default(1000),
    /** The time window (s): only records made this recently count, and the series covers it. */
    windowSeconds: z.number().int().min(1).max(31_536_000).default(86_400),
    /** Points of the time series (equal slices of the time window). */
    seriesPoints: z.number().int().min(1).max(1000).default(24),
  })
  .strict();

/**
 * TLS for the HTTP and gRPC servers: PEM files, re-read when they change (a bad new pair keeps the
 * old one). Without `certFile` and `keyFile` the servers speak plain HTTP and plaintext gRPC.
 */
export const TlsConfigSchema = z
  .object({
    /** The server's certificate chain (PEM), leaf first. */
    certFile: z.string().min(1).optional(),
    /** The certificate's private key (PEM). Never logged. */
    keyFile: z.string().min(1).optional(),
    /** CA certificates (PEM) that client certificates must chain to (mutual TLS). */
    caFile: z.string().min(1).optional(),
    /**
     * Client certificates: `none` (not asked for), `request` (asked for; a client without one, or
     * with one `caFile` does not vouch for, is still served) or `require` (refused without a valid one).
     * `request` and `require` need `caFile`.
     */
    clientAuth: z.enum(['none', 'request', 'require']).default('none'),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      const missing = tls.certFile === undefined ? 'certFile' : 'keyFile';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'TLS needs both certFile and keyFile' });
    }
    if (tls.clientAuth !== 'none' && tls.caFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['caFile'], message: `clientAuth "${tls.clientAuth}" needs caFile` });
    }
    if (tls.caFile !== undefined && tls.certFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['certFile'], message: 'caFile needs certFile and keyFile' });
    }
  });

/**
 * Where callbacks may go. A callback URL is checked at submission and again at delivery, after
 * DNS resolution, so a name that resolves to an internal address is caught too (SSRF).
 */
export const CallbacksConfigSchema = z
  .object({
    /**
     * Hosts callbacks may reach even on loopback, private or link-local addresses: a host name
     * (`hooks.internal`), a wildcard suffix (`*.internal`), an IP address (`127.0.0.1`, `::1`) or
     * an IPv4/IPv6 CIDR range (`10.0.0.0/8`). Empty: internal addresses are refused, public hosts allowed.
     */
    allowedHosts: z.array(z.string().min(1).max(253)).max(1000).default([]),
  })
  .strict();

/** The whole configuration. */
export const ConfigSchema = z
  .object({
    /** Interface the servers bind to. */
    host: z.string().min(1).default('127.0.0.1'),
    /** HTTP (REST) port; 0 picks a free one. */
    httpPort: port.default(8000),
    /** gRPC port; 0 picks a free one. */
    grpcPort: port.default(8001),
    /**
     * Processes that answer the HTTP port for this server (`node:cluster` workers): each parses and
     * prints requests on a core of its own while the models, the batcher and all state stay in the
     * server. 0: the server's own event loop answers HTTP. `auto`: see `resolveFrontEnds`.
     */
    frontEnds: z
      .preprocess(
        (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
        z.union([z.literal('auto'), z.number().int().min(0).max(64)]),
      )
      .default('auto'),
    /** Folder served as the model repository (`<dir>/<model>/<version>/model.onnx`). */
    modelsDir: z.string().min(1).optional(),
    /**
     * Metadata store: `sqlite:<path>` (the embedded default) or `postgres://…` (many replicas).
     * A `?schema=<name>` parameter on a PostgreSQL URL selects (and creates) a schema.
     */
    databaseUrl: z
      .string()
      .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'must start with sqlite: or postgres://')
      .default('sqlite:.stratum/stratum.db'),
    /** Artifact store: `file:<folder>`. */
    artifactsUrl: z
      .string()
      .regex(/^file:/, 'must start with file:')
      .default('file:.stratum/artifacts'),
    /**
     * Job queue: `embedded` (a durable queue in the SQLite metadata database; one machine) or
     * `redis://host:port` (BullMQ on Redis; many replicas and workers).
     */
    queueUrl: z
      .string()
      .regex(/^(embedded$|rediss?:\/\/)/, 'must be embedded or start with redis://')
      .default('embedded'),
    /** Where the CLI's management commands reach a server. */
    apiUrl: z.url().default('http://127.0.0.1:8000'),
    /** Serve the registry's deployments (and the management API). */
    registry: z.boolean().default(true),
    /** How often a replica re-reads deployments even without a change notification (ms). */
    registryPollMs: z.number().int().min(50).max(3_600_000).default(1000),
    /** Poll the model repository for new and removed versions. */
    watch: z.boolean().default(true),
    /** How often the repository is polled (ms). */
    watchIntervalMs: z.number().int().min(50).max(3_600_000).default(1000),
    /** Largest request body accepted (bytes). */
    bodyLimitBytes: z
      .number()
      .int()
      .min(1024)
      .max(2 ** 31 - 1)
      .default(64 * 1024 * 1024),
    /** Largest single BYTES tensor element accepted (bytes). */
    maxBytesElementBytes: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1)
      .default(1024 * 1024),
    /** Log level. */
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** How long a graceful shutdown waits for in-flight requests (ms). */
    shutdownGraceMs: z.number().int().min(0).max(600_000).default(30_000),
    runtime: RuntimeConfigSchema.default(() => RuntimeConfigSchema.parse({})),
    batching: BatchingDefaultsSchema.default(() => BatchingDefaultsSchema.parse({})),
    jobs: JobsConfigSchema.default(() => JobsConfigSchema.parse({})),
    asyncInference: AsyncInferenceConfigSchema.default(() => AsyncInferenceConfigSchema.parse({})),
    artifactEncryption: ArtifactEncryptionConfigSchema.default(() => ArtifactEncryptionConfigSchema.parse({})),
    tls: TlsConfigSchema.default(() => TlsConfigSchema.parse({})),
    callbacks: CallbacksConfigSchema.default(() => CallbacksConfigSchema.parse({})),
    tracing: TracingConfigSchema.default(() => TracingConfigSchema.parse({})),
    inferenceLog: InferenceLogConfigSchema.default(() => InferenceLogConfigSchema.parse({})),
    quality: QualityConfigSchema.default(() => QualityConfigSchema.parse({})),
    security: SecurityConfigSchema.default(() => SecurityConfigSchema.parse({})),
    alerts: AlertsConfigSchema.default(() => AlertsConfigSchema.parse({})),
    drift: DriftScheduleConfigSchema.default(() => DriftScheduleConfigSchema.parse({})),
    pipelines: PipelinesConfigSchema.default(() => PipelinesConfigSchema.parse({})),
  })
  .strict();

/** The validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;
/** The configuration as a caller may give it (every field optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** Batching defaults. */
export type BatchingDefaults = z.infer<typeof BatchingDefaultsSchema>;
/** Asynchronous inference settings. */
export type AsyncInferenceConfig = z.infer<typeof AsyncInferenceConfigSchema>;
/** Artifact encryption settings. */
export type ArtifactEncryptionConfig = z.infer<typeof ArtifactEncryptionConfigSchema>;
/** TLS settings. */
export type TlsConfig = z.infer<typeof TlsConfigSchema>;
/** Callback settings. */
export type CallbacksConfig = z.infer<typeof CallbacksConfigSchema>;
/** Runtime settings. */
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
/** Tracing settings. */
export type TracingConfig = z.infer<typeof TracingConfigSchema>;
/** Inference log settings. */
export type InferenceLogConfig = z.infer<typeof InferenceLogConfigSchema>;
/** Live quality settings. */
export type QualityConfig = z.infer<typeof QualityConfigSchema>;
/** Identity and access settings. */
export type SecurityConfig = z.infer<typeof SecurityConfigSchema>;
