/**
 * Builds the configuration once at start-up from the environment and explicit overrides,
 * validates it, and freezes it. This is the only module that reads `process.env`.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { specErrorMap } from '../errors/format-issues.ts';
import { type Config, type ConfigInput, ConfigSchema } from './schema.ts';

/** Where each environment variable goes in the configuration. */
const ENV_KEYS = {
  STRATUM_HOST: ['host', 'string'],
  STRATUM_HTTP_PORT: ['httpPort', 'number'],
  STRATUM_GRPC_PORT: ['grpcPort', 'number'],
  STRATUM_TLS_CERT_FILE: ['tls.certFile', 'string'],
  STRATUM_TLS_KEY_FILE: ['tls.keyFile', 'string'],
  STRATUM_TLS_CA_FILE: ['tls.caFile', 'string'],
  STRATUM_TLS_CLIENT_AUTH: ['tls.clientAuth', 'string'],
  STRATUM_MODELS_DIR: ['modelsDir', 'string'],
  STRATUM_WATCH: ['watch', 'boolean'],
  STRATUM_DATABASE_URL: ['databaseUrl', 'string'],
  STRATUM_ARTIFACTS_URL: ['artifactsUrl', 'string'],
  STRATUM_QUEUE_URL: ['queueUrl', 'string'],
  STRATUM_CALLBACK_SECRET: ['asyncInference.callbackSecret', 'string'],
  STRATUM_CALLBACK_ALLOWED_HOSTS: ['callbacks.allowedHosts', 'list'],
  STRATUM_REGISTRY: ['registry', 'boolean'],
  STRATUM_URL: ['apiUrl', 'string'],
  STRATUM_REGISTRY_POLL_MS: ['registryPollMs', 'number'],
  STRATUM_WATCH_INTERVAL_MS: ['watchIntervalMs', 'number'],
  STRATUM_BODY_LIMIT_BYTES: ['bodyLimitBytes', 'number'],
  STRATUM_MAX_BYTES_ELEMENT_BYTES: ['maxBytesElementBytes', 'number'],
  STRATUM_LOG_LEVEL: ['logLevel', 'string'],
  STRATUM_SHUTDOWN_GRACE_MS: ['shutdownGraceMs', 'number'],
  STRATUM_RUNTIME_WORKERS: ['runtime.workers', 'number'],
  STRATUM_FRONT_ENDS: ['frontEnds', 'string'],
  STRATUM_INTRA_OP_THREADS: ['runtime.intraOpThreads', 'number'],
  STRATUM_INTER_OP_THREADS: ['runtime.interOpThreads', 'number'],
  STRATUM_WORKER_CONCURRENCY: ['jobs.workerConcurrency', 'number'],
  STRATUM_SERVE_JOB_CONCURRENCY: ['jobs.serveConcurrency', 'number'],
  STRATUM_JOB_LOCK_MS: ['jobs.lockMs', 'number'],
  STRATUM_WORKER_METRICS_PORT: ['jobs.metricsPort', 'number'],
  STRATUM_QUEUE_NAME: ['jobs.queueName', 'string'],
  STRATUM_MASTER_KEY: ['artifactEncryption.masterKey', 'string'],
  STRATUM_MASTER_KEY_FILE: ['artifactEncryption.masterKeyFile', 'string'],
  STRATUM_MASTER_KEY_PREVIOUS: ['artifactEncryption.previousMasterKeys', 'string'],
  STRATUM_TRACING: ['tracing.enabled', 'boolean'],
  STRATUM_OTLP_ENDPOINT: ['tracing.otlpEndpoint', 'string'],
  STRATUM_OTLP_PROTOCOL: ['tracing.otlpProtocol', 'string'],
  STRATUM_TRACING_EXPORT_QUEUE_SIZE: ['tracing.exportQueueSize', 'number'],
  STRATUM_TRACING_EXPORT_BATCH_SIZE: ['tracing.exportBatchSize', 'number'],
  STRATUM_TRACING_SAMPLE_RATE: ['tracing.sampleRate', 'number'],
  STRATUM_INFERENCE_LOG_SAMPLE_RATE: ['inferenceLog.sampleRate', 'number'],
  STRATUM_ALERT_RULES: ['alerts.rulesFile', 'string'],
  STRATUM_SECURITY: ['security.mode', 'string'],
  STRATUM_AUTH_CACHE_TTL_MS: ['security.cacheTtlMs', 'number'],
  STRATUM_JWT_JWKS_URL: ['security.jwt.jwksUrl', 'string'],
  STRATUM_JWT_SECRET: ['security.jwt.secret', 'string'],
  STRATUM_JWT_ISSUER: ['security.jwt.issuer', 'string'],
  STRATUM_JWT_AUDIENCE: ['security.jwt.audience', 'string'],
  STRATUM_JWT_ROLES_CLAIM: ['security.jwt.rolesClaim', 'string'],
} as const;

/** Every environment variable Stratum reads its configuration from. */
export const CONFIG_ENV_VARS: readonly string[] = Object.freeze(Object.keys(ENV_KEYS));

/** The environment variable of each setting, by the setting's path (`httpPort` → `STRATUM_HTTP_PORT`). */
export const SETTING_ENV_VARS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(ENV_KEYS).map(([name, [path]]) => [path, name])),
);

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Environment to read `STRATUM_*` variables from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Values that win over the environment (for example from CLI flags). */
  overrides?: ConfigInput;
}

/**
 * Validates and freezes the configuration.
 * @throws StratumError CONFIG_INVALID listing every issue with its path.
 * @example const config = loadConfig({ overrides: { httpPort: 0 } });
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const fromEnv = readEnv(options.env ?? process.env);
  const merged = deepMerge(fromEnv, (options.overrides ?? {}) as Record<string, unknown>);
  const parsed = ConfigSchema.safeParse(merged, { error: specErrorMap });
  if (!parsed.success) {
    throw new StratumError('CONFIG_INVALID', `invalid configuration:\n${z.prettifyError(parsed.error)}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return deepFreeze(parsed.data);
}

function readEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, [path, kind]] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(out, path, coerce(raw, kind));
  }
  return out;
}

// Unparseable values are passed on as strings so that zod reports them with their path.
function coerce(raw: string, kind: 'string' | 'number' | 'boolean' | 'list'): unknown {
  if (kind === 'list') {
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  if (kind === 'number') {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  if (kind === 'boolean') {
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    return raw;
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[keys[keys.length - 1] as string] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
