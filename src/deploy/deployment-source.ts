/**
 * The registry's deployments as a {@link ModelSource}: keeps this replica's deployment runtimes in
 * step with the metadata store (on every change notification, and by polling as a safety net)
 * and runs the canary controller (`canary-controller.ts`) on a timer over them.
 */
import type { Config } from '../config/index.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { Deployment, Registry } from '../registry/registry.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import type { ModelSource, SourceIndexEntry } from '../serving/model-source.ts';
import type { ModelStatistics } from '../serving/model-stats.ts';
import type { Signature } from '../tensor/signature.ts';
import { warmupFailure } from '../serving/warmup.ts';
import { parseWarmupRequests } from '../serving/warmup-requests.ts';
import { createCanaryController } from './canary-controller.ts';
import { type DeploymentPlan, planOf } from './deployment-plan.ts';
import {
  createDeploymentRuntime,
  type DeploymentRuntime,
  type DeploymentRuntimeOptions,
  type DeploymentStatus,
} from './deployment-runtime.ts';

const RETRY_FAILED_PLAN_MS = 10_000;

/** Options of {@link createDeploymentSource}. */
export interface DeploymentSourceOptions {
  readonly registry: Registry;
  readonly config: Readonly<Config>;
  readonly pool: RuntimePool;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  /** Names this replica in rollout events. @default 'replica' */
  readonly replicaId?: string;
  /** How often running canaries are evaluated (ms). @default 100 */
  readonly canaryTickMs?: number;
}

/** The deployments of this replica. */
export interface DeploymentSource extends ModelSource {
  /** Reads every deployment and applies the changes (awaits the loads). */
  sync(): Promise<void>;
  /** Starts following the store: change notifications, polling, the canary controller. */
  start(): Promise<void>;
  /** This replica's view of a deployment. */
  status(name: string): DeploymentStatus;
  /** The plan this replica's traffic follows (undefined before the first load). */
  served(name: string): DeploymentPlan | undefined;
  close(): Promise<void>;
}

/** Creates the source. */
export function createDeploymentSource(options: DeploymentSourceOptions): DeploymentSource {
  const { registry, config, pool, metrics, logger } = options;
  const by = `rollout-controller@${options.replicaId ?? 'replica'}`;
  const runtimes = new Map<string, DeploymentRuntime>();
  const plans = createPlanLedger();
  let generation = 0;
  let syncing: Promise<Promise<void>[]> | undefined;
  let again = false;
  let unsubscribe: (() => void) | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let canaryTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const canaries = createCanaryController({
    registry,
    metrics,
    logger,
    by,
    runtimes: () => runtimes.values(),
    afterDecision: syncInBackground,
  });

  function runtimeFor(deployment: Deployment): DeploymentRuntime {
    let runtime = runtimes.get(deployment.name);
    if (runtime === undefined) {
      const model = deployment.spec.model;
      runtime = createDeploymentRuntime({
        name: deployment.name,
        config,
        pool,
        metrics,
        logger,
        nextGeneration: () => ++generation,
        ...registryHooks({ registry, deployment: deployment.name, model, config }),
      });
      runtimes.set(deployment.name, runtime);
    }
    return runtime;
  }

  /** Reads the store once and starts applying what changed; returns the loads it started. */
  async function syncOnce(): Promise<Promise<void>[]> {
    const deployments = await listDeployments(registry);
    const present = new Set(deployments.map((d) => d.name));
    const loads: Promise<void>[] = [];
    for (const deployment of deployments) {
      let plan: DeploymentPlan;
      try {
        plan = await planOf(registry, deployment);
      } catch (error) {
        logger.error({ deployment: deployment.name, reason: (error as Error).message }, 'cannot plan deployment');
        continue;
      }
      const key = JSON.stringify(plan);
      if (!plans.begin(deployment.name, key)) continue;
      const runtime = runtimeFor(deployment);
      loads.push(
        runtime.apply(plan).then(
          () => plans.succeeded(deployment.name),
          (error: unknown) => {
            plans.failed(deployment.name, key);
            logger.error(
              { deployment: deployment.name, revision: plan.revision, reason: (error as Error).message },
              'deployment plan failed to load; the previous plan keeps serving',
            );
          },
        ),
      );
    }
    for (const [name, runtime] of runtimes) {
      if (present.has(name)) continue;
      runtimes.delete(name);
      plans.forget(name);
      loads.push(runtime.close());
      logger.info({ deployment: name }, 'deployment removed');
    }
    return loads;
  }

  /** Resolves once the store has been read; `loads` settle when the versions are loaded. */
  function syncStarted(): Promise<Promise<void>[]> {
    if (closed) return Promise.resolve([]);
    if (syncing !== undefined) {
      // A change arrived while a sync was reading: read once more when it ends.
      again = true;
      return syncing;
    }
    const collected: Promise<void>[] = [];
    syncing = (async () => {
      do {
        again = false;
        collected.push(...(await syncOnce()));
      } while (again && !closed);
      return collected;
    })().finally(() => {
      syncing = undefined;
    });
    return syncing;
  }

  async function sync(): Promise<void> {
    await Promise.all(await syncStarted());
    // A sync started by a notification may have begun loads this one found already planned.
    await Promise.all([...runtimes.values()].map((r) => r.settled()));
  }

  function syncInBackground(): void {
    syncStarted().catch((error: unknown) =>
      logger.warn({ reason: (error as Error).message }, 'deployment sync failed'),
    );
  }

  function runtimeOf(name: string): DeploymentRuntime {
    const runtime = runtimes.get(name);
    if (runtime === undefined) throw new StratumError('MODEL_NOT_FOUND', `unknown model "${name}"`);
    return runtime;
  }

  return {
    has: (name) => runtimes.has(name),
    names: () => [...runtimes.keys()].filter((n) => runtimes.get(n)?.active !== undefined).sort(),
    route: (context) => runtimeOf(context.name).route(context),
    metadata: (name, version) => metadataOf({ name, runtime: runtimeOf(name), version }),
    ready(name, version) {
      const runtime = runtimeOf(name);
      if (version === undefined) return runtime.active !== undefined;
      if (runtime.handle(Number(version)) !== undefined && /^\d+$/.test(version)) return true;
      throw new StratumError('VERSION_NOT_FOUND', `deployment "${name}" serves no version "${version}"`);
    },
    statistics(name, version) {
      if (name === undefined) return [...runtimes.values()].flatMap((r) => r.versions().map((v) => v.statistics()));
      return statisticsOf({ name, runtime: runtimeOf(name), version });
    },
    async index() {
      return [...runtimes].flatMap(([name, runtime]) => indexRows(name, runtime.status()));
    },

    sync,
    async start() {
      await sync();
      unsubscribe = registry.onChange((change) => {
        if (change.kind === 'deployment' || change.kind === 'alias') syncInBackground();
      });
      pollTimer = setInterval(syncInBackground, config.registryPollMs);
      pollTimer.unref();
      canaryTimer = setInterval(() => void canaries.tick(), options.canaryTickMs ?? 100);
      canaryTimer.unref();
    },
    status: (name) => runtimeOf(name).status(),
    served: (name) => runtimes.get(name)?.active,

    async close() {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      if (pollTimer !== undefined) clearInterval(pollTimer);
      if (canaryTimer !== undefined) clearInterval(canaryTimer);
      const started = await syncing?.catch(() => []);
      await Promise.allSettled(started ?? []);
      await Promise.allSettled([...runtimes.values()].map((r) => r.close()));
      runtimes.clear();
    },
  };
}

/** How a deployment's runtime reads the versions of its model from the registry, and records what its clients use. */
function registryHooks(options: {
  registry: Registry;
  deployment: string;
  model: string;
  config: Readonly<Config>;
}): Pick<DeploymentRuntimeOptions, 'readVersion' | 'readSamples' | 'recordUsage'> {
  const { registry, model, config } = options;
  return {
    recordUsage: (usage) => registry.recordClientUsage({ deployment: options.deployment, ...usage }),
    readVersion: async (version) => {
      const record = await registry.getVersion(model, version);
      // Streamed, so the digest is checked chunk by chunk between turns of the event loop
      // rather than in one multi-millisecond block while traffic is being served.
      const chunks: Uint8Array[] = [];
      for await (const chunk of await registry.openArtifact(record.artifactDigest)) chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    readSamples: async (version) => {
      const digest = (await registry.getVersion(model, version)).lineage.samples;
      if (digest === undefined) return undefined;
      return parseWarmupRequests({
        text: Buffer.from(await registry.readArtifact(digest)).toString('utf8'),
        origin: `the sample rows of model "${model}" version ${version}`,
        maxBytesElement: config.maxBytesElementBytes,
      });
    },
  };
}

/** The metadata of a deployment: its loaded versions, and the signature (and classes) of `version` or of its primary route. */
function metadataOf(options: { name: string; runtime: DeploymentRuntime; version: string | undefined }): {
  versions: string[];
  signature: Signature;
  classes?: string;
} {
  const { name, runtime, version } = options;
  const versions = runtime.versions();
  let handle;
  if (version !== undefined) {
    handle = runtime.handle(Number(version));
    if (handle === undefined || !/^\d+$/.test(version)) {
      throw new StratumError(
        'VERSION_NOT_FOUND',
        `deployment "${name}" serves no version "${version}"; loaded: [${versions.map((v) => v.version).join(', ')}]`,
      );
    }
  } else {
    const plan = runtime.active;
    const primary = plan?.routes.reduce((best, r) => (r.weight > best.weight ? r : best));
    handle = primary === undefined ? undefined : runtime.handle(primary.version);
    if (handle === undefined) {
      throw new StratumError('MODEL_NOT_READY', `deployment "${name}" is loading`, { retryAfterSeconds: 1 });
    }
  }
  return {
    versions: versions.map((v) => v.version),
    signature: handle.signature,
    ...(handle.classes !== undefined && { classes: handle.classes }),
  };
}

/** A deployment's rows of the repository index, from this replica's status. */
function indexRows(name: string, status: DeploymentStatus): SourceIndexEntry[] {
  const rows: SourceIndexEntry[] = [];
  if (status.loadedVersions.length === 0) {
    rows.push({
      name,
      state: status.loading ? 'LOADING' : 'UNAVAILABLE',
      ...(status.lastError !== undefined && { reason: status.lastError }),
    });
  }
  for (const v of status.loadedVersions) {
    const warmup = status.warmup[String(v)];
    const failure = warmup === undefined ? undefined : warmupFailure(warmup);
    rows.push({
      name,
      version: String(v),
      state: 'READY',
      ...(failure !== undefined && { reason: failure, warmup }),
    });
  }
  return rows;
}

/** Every deployment in the store, page by page. */
async function listDeployments(registry: Registry): Promise<Deployment[]> {
  const all: Deployment[] = [];
  let cursor: string | undefined;
  do {
    const page = await registry.listDeployments({ limit: 1000, ...(cursor !== undefined && { cursor }) });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
}

/** The statistics of a deployment's loaded versions, or of one of them. */
function statisticsOf(options: {
  name: string;
  runtime: DeploymentRuntime;
  version: string | undefined;
}): ModelStatistics[] {
  const { name, runtime, version } = options;
  const handles = version === undefined ? runtime.versions() : runtime.versions().filter((v) => v.version === version);
  if (version !== undefined && handles.length === 0) {
    throw new StratumError('VERSION_NOT_FOUND', `deployment "${name}" serves no version "${version}"`);
  }
  return handles.map((v) => v.statistics());
}

/**
 * The plan each deployment was last given, and the plans that failed to load: a failed plan is
 * retried when it changes, or after a pause, not on every poll.
 */
function createPlanLedger(): {
  /** Whether to apply the plan with this key now; if so, it is recorded as the deployment's plan. */
  begin(name: string, key: string): boolean;
  succeeded(name: string): void;
  failed(name: string, key: string): void;
  forget(name: string): void;
} {
  const keys = new Map<string, string>();
  const failures = new Map<string, { key: string; at: number }>();
  return {
    begin(name, key) {
      if (keys.get(name) === key) return false;
      const failure = failures.get(name);
      if (failure?.key === key && Date.now() - failure.at < RETRY_FAILED_PLAN_MS) return false;
      keys.set(name, key);
      return true;
    },
    succeeded: (name) => failures.delete(name),
    failed(name, key) {
      keys.delete(name);
      failures.set(name, { key, at: Date.now() });
    },
    forget: (name) => keys.delete(name),
  };
}
