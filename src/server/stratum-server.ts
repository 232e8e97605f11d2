/**
 * The composition root of `stratum serve`: runtime pool → model manager → inference service →
 * HTTP and gRPC servers, with a single idempotent `close()` that shuts them down in order.
 */
import { createGrpcServer, type GrpcServer } from '../api/grpc/grpc-server.ts';
import { createHttpServer } from '../api/http/http-server.ts';
import { allowAll, type Authorizer } from '../api/permissions.ts';
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { createServingMetrics, type ServingMetrics } from '../monitor/serving-metrics.ts';
import { createRuntimePool } from '../runtime/runtime-pool.ts';
import { createInferenceService, type InferenceService } from '../serving/inference-service.ts';
import { createModelManager } from '../serving/model-manager.ts';
import { STRATUM_VERSION } from '../version.ts';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  /** @default allow everything */
  readonly authorizer?: Authorizer;
  /** Skip the gRPC server (e.g. for REST-only tests). @default false */
  readonly withoutGrpc?: boolean;
}

/** A running server. */
export interface StratumServer {
  /** `http://host:port` */
  readonly httpUrl: string;
  readonly httpPort: number;
  /** Bound gRPC port (0 when gRPC is off). */
  readonly grpcPort: number;
  readonly service: InferenceService;
  readonly metrics: ServingMetrics;
  /** The Fastify app, for in-process requests (`inject`). */
  readonly http: ReturnType<typeof createHttpServer>;
  /** Graceful: stop accepting, finish in-flight requests, unload models, stop workers. */
  close(): Promise<void>;
}

/** Starts serving the configured model repository. */
export async function startServer(options: StartServerOptions): Promise<StratumServer> {
  const { config, logger } = options;
  if (config.modelsDir === undefined) {
    throw new StratumError('CONFIG_INVALID', 'no model repository: pass --models <dir> or set STRATUM_MODELS_DIR');
  }
  const authorizer = options.authorizer ?? allowAll;
  const pool = createRuntimePool({ workers: config.runtime.workers, logger });
  const metrics = createServingMetrics();
  const manager = createModelManager({ dir: config.modelsDir, config, pool, metrics, logger });
  const service = createInferenceService({ manager, metrics, version: STRATUM_VERSION });
  const http = createHttpServer({ service, metrics, config, logger, authorizer });
  let grpc: GrpcServer | undefined;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      service.setReady(false);
      const results = await Promise.allSettled([http.close(), grpc?.close(config.shutdownGraceMs)]);
      const more = await Promise.allSettled([manager.close()]);
      const last = await Promise.allSettled([pool.close()]);
      for (const r of [...results, ...more, ...last]) {
        if (r.status === 'rejected') logger.warn({ err: r.reason }, 'error during shutdown');
      }
    })();
    return closing;
  };

  try {
    await manager.loadAll();
    if (config.watch) manager.watch(config.watchIntervalMs);
    await http.listen({ host: config.host, port: config.httpPort });
    let grpcPort = 0;
    if (options.withoutGrpc !== true) {
      grpc = createGrpcServer({
        service,
        logger,
        authorizer,
        maxBytesElementBytes: config.maxBytesElementBytes,
        maxMessageBytes: config.bodyLimitBytes,
      });
      grpcPort = await grpc.listen(config.host, config.grpcPort);
    }
    service.setReady(true);
    const address = http.server.address();
    const httpPort = typeof address === 'object' && address !== null ? address.port : config.httpPort;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return { httpUrl: `http://${host}:${httpPort}`, httpPort, grpcPort, service, metrics, http, close };
  } catch (error) {
    await close();
    throw error;
  }
}
