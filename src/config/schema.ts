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

/** The whole configuration. */
export const ConfigSchema = z
  .object({
    /** Interface the servers bind to. */
    host: z.string().min(1).default('127.0.0.1'),
    /** HTTP (REST) port; 0 picks a free one. */
    httpPort: port.default(8000),
    /** gRPC port; 0 picks a free one. */
    grpcPort: port.default(8001),
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
    security: SecurityConfigSchema.default(() => SecurityConfigSchema.parse({})),
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
/** Runtime settings. */
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
/** Identity and access settings. */
export type SecurityConfig = z.infer<typeof SecurityConfigSchema>;
