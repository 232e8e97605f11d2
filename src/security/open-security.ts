/**
 * Security for one server, from its configuration: on when it listens beyond loopback or when
 * `security.mode` is `on`, and then the authorizer of API keys (when there is a metadata store)
 * and JWTs (when an issuer is configured); off, everything is allowed as `anonymous`. The key
 * service exists whenever there is a store, so keys can be created before security is turned on.
 */
import type { Registry } from 'prom-client';
import { allowAll, type Authorizer } from './authorizer.ts';
import type { SecurityConfig } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ApiKeyStore } from '../store/api-key-store.ts';
import { type ApiKeyService, createApiKeyService } from './api-keys.ts';
import { createJwtVerifier } from './jwt-verifier.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { createSecurityAuthorizer } from './security-authorizer.ts';
import { createSecurityMetrics } from './security-metrics.ts';
import { withoutUndefined } from '../util/without-undefined.ts';

/** Options of {@link openSecurity}. */
export interface OpenSecurityOptions {
  readonly config: { readonly host: string; readonly security: SecurityConfig };
  /** Where API keys live; absent: keys are refused (JWTs only). */
  readonly store?: ApiKeyStore;
  /** The server's metrics registry (per-principal counters go there). */
  readonly metrics: Registry;
  readonly logger: Logger;
  /** The wall clock (epoch ms) key and token expiry is checked against. @default Date.now */
  readonly now?: () => number;
}

/** A server's security. */
export interface Security {
  /** Whether requests must authenticate. */
  readonly enabled: boolean;
  readonly authorizer: Authorizer;
  /** Key management (the `/api/v1/keys` routes), when there is a store. */
  readonly keys?: ApiKeyService;
}

/** Whether a host is a loopback address (the zero-configuration default binds 127.0.0.1). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Builds a server's security from its configuration. */
export function openSecurity(options: OpenSecurityOptions): Security {
  const { config, store, logger } = options;
  const settings = config.security;
  const keys =
    store === undefined
      ? undefined
      : createApiKeyService({
          store,
          cacheTtlMs: settings.cacheTtlMs,
          cacheMaxEntries: settings.cacheMaxEntries,
          ...(options.now !== undefined && { now: options.now }),
        });
  const enabled = settings.mode === 'on' || !isLoopback(config.host);
  if (!enabled) return { enabled, authorizer: allowAll, ...(keys !== undefined && { keys }) };
  const jwt =
    settings.jwt === undefined
      ? undefined
      : createJwtVerifier({
          ...withoutUndefined(settings.jwt),
          cacheTtlMs: settings.cacheTtlMs,
          cacheMaxEntries: settings.cacheMaxEntries,
          ...(options.now !== undefined && { now: options.now }),
        });
  if (keys === undefined && jwt === undefined) {
    logger.warn({}, 'security is on but neither API keys (no registry) nor JWTs (no security.jwt) are available');
  }
  logger.info(
    { host: config.host, mode: settings.mode, apiKeys: keys !== undefined, jwt: jwt !== undefined },
    'authentication and roles are on',
  );
  const authorizer = createSecurityAuthorizer({
    ...(keys !== undefined && { keys }),
    ...(jwt !== undefined && { jwt }),
    limiter: createRateLimiter(),
    defaultLimits: withoutUndefined(settings.defaultLimits),
    metrics: createSecurityMetrics(options.metrics),
  });
  return { enabled, authorizer, ...(keys !== undefined && { keys }) };
}
