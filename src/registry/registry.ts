/**
 * The registry: models, immutable versions, aliases and deployments, over the metadata store and
 * the artifact store. Every rule that is not a plain storage rule lives here: an upload must be a
 * valid ONNX model, a deployment's versions must fit its signature, a rollout must start from a
 * single stable version. The management API, the CLI and the deployments on a replica reach the
 * stores only through this: the registry hands out no store, only reads (the change feed, verified
 * artifact streams) and its own checked writes.
 */
import type { ArtifactStore, ArtifactStream, CollectGarbageResult } from '../artifacts/artifact-store.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import type {
  AliasRecord,
  ClientUsage,
  DeploymentEvent,
  MetadataStore,
  ModelRecord,
  NewModel,
  Page,
  PageOptions,
  StoreChange,
  VersionRecord,
} from '../store/metadata-store.ts';
import type { Signature } from '../tensor/signature.ts';
import {
  type AliasMoveCheck,
  type CheckedAliasMove,
  createDeploymentRules,
  type Deployment,
  type DeploymentRules,
  describeRoutes,
  type ResolvedRoutes,
} from './deployment-rules.ts';
import { ResourceNameSchema } from './names.ts';
import { type PushVersion, pushVersion } from './push-version.ts';
import { createRollouts, type Rollouts } from './rollouts.ts';
import { describeOutcome, outcomeDetail } from './signature-check.ts';
import { createTracking, type Tracking } from './tracking.ts';

export type { AliasMoveCheck, CheckedAliasMove, Deployment, ResolvedRoutes } from './deployment-rules.ts';
export type { ReferenceProfile } from './tracking.ts';
export type { PushVersion } from './push-version.ts';

/** Options of {@link createRegistry}. */
export interface RegistryOptions {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly logger: Logger;
  /** Largest model file accepted (bytes). @default 1 GiB */
  readonly maxArtifactBytes?: number;
}

/** What the registry serves from the store as it is: reads, and the writes no other rule guards. */
type StoreMethods = Pick<
  MetadataStore,
  | 'getModel'
  | 'listModels'
  | 'updateModel'
  | 'deleteModel'
  | 'getVersion'
  | 'listVersions'
  | 'updateVersion'
  | 'deleteVersion'
  | 'getAlias'
  | 'listAliases'
  | 'deleteAlias'
  | 'aliasHistory'
  | 'appendDeploymentEvent'
>;

/** The registry service. */
export interface Registry extends Rollouts, Tracking, StoreMethods {
  /** Creates a model without versions (ALREADY_EXISTS when it exists). */
  createModel(model: NewModel): Promise<ModelRecord>;
  /**
   * Registers a version; with `alias`, moves it there in the same write, after the checks of
   * {@link Registry.setAlias} (a refused move registers nothing and uses no version number).
   */
  pushVersion(push: PushVersion): Promise<VersionRecord>;
  /**
   * Creates or moves an alias. Refused (SIGNATURE_MISMATCH) when a deployment routing through it
   * would then serve a version its clients cannot use, unless that version served the deployment
   * before, or `force` is set with a `reason` (recorded in the alias history and the deployments'
   * events).
   */
  setAlias(move: CheckedAliasMove): Promise<AliasRecord>;
  /**
   * Runs the checks moving `alias` to a version of `signature` would run, moving nothing: what
   * `stratum train` asks before it trains a model registered behind an alias.
   */
  checkAliasMove(options: {
    model: string;
    alias: string;
    signature: Signature;
    force?: boolean;
    reason?: string;
  }): Promise<AliasMoveCheck>;
  /** Adds input names a deployment's clients send and output names they read (idempotent). */
  recordClientUsage(usage: { deployment: string } & Partial<ClientUsage>): Promise<void>;
  /** What a deployment's clients have used so far. */
  clientUsage(deployment: string): Promise<ClientUsage>;
  /** Removes artifacts no version refers to (older than the grace period). */
  collectGarbage(options?: { graceMs?: number; dryRun?: boolean }): Promise<CollectGarbageResult>;
  /** The verified bytes of an artifact (a version's ONNX file, its sample rows). */
  readArtifact(digest: string): Promise<Uint8Array>;
  /** An artifact as a stream whose digest is verified as it goes (it fails at its end with ARTIFACT_CORRUPT). */
  openArtifact(digest: string): Promise<ArtifactStream>;
  /** Calls `listener` after any change to the metadata, from any replica; returns the unsubscribe function. */
  onChange(listener: (change: StoreChange) => void): () => void;

  createDeployment(options: { name: string; spec: unknown; by: string }): Promise<Deployment>;
  getDeployment(name: string): Promise<Deployment>;
  listDeployments(options?: PageOptions & { model?: string }): Promise<Page<Deployment>>;
  /** Replaces a deployment's spec; `force` (with `reason`) lets a version that does not fit through. */
  updateDeployment(options: {
    name: string;
    spec: unknown;
    by: string;
    expectedRevision?: number;
    force?: boolean;
    reason?: string;
  }): Promise<Deployment>;
  deleteDeployment(options: { name: string; by: string; expectedRevision?: number }): Promise<void>;
  deploymentEvents(options: { deployment: string } & PageOptions): Promise<Page<DeploymentEvent>>;
  /** The versions a deployment's spec points at now (aliases resolved). */
  resolveRoutes(deployment: Deployment): Promise<ResolvedRoutes>;

  close(): Promise<void>;
}

const DEFAULT_MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;

/** Creates the registry over a metadata store and an artifact store. */
export function createRegistry(options: RegistryOptions): Registry {
  const { store, artifacts, logger } = options;
  const maxBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  const rules = createDeploymentRules(store);

  async function collectGarbage(options: { graceMs?: number; dryRun?: boolean } = {}) {
    const referenced = await store.referencedArtifacts();
    const result = await artifacts.collectGarbage({
      referenced,
      ...(options.graceMs !== undefined && { graceMs: options.graceMs }),
      ...(options.dryRun !== undefined && { dryRun: options.dryRun }),
    });
    logger.info(
      { removed: result.removed.length, freedBytes: result.freedBytes, dryRun: options.dryRun === true },
      'artifact garbage collection',
    );
    return result;
  }

  return {
    ...createRollouts(rules),
    ...createTracking(store),

    async createModel(model) {
      checkName(model.name, 'model name');
      return store.createModel(model);
    },
    pushVersion: (push) => pushVersion({ store, artifacts, logger, maxBytes, rules }, push),
    getModel: (name) => store.getModel(name),
    listModels: (o) => store.listModels(o),
    updateModel: (name, patch) => store.updateModel(name, patch),
    deleteModel: (name) => store.deleteModel(name),
    getVersion: (model, version) => store.getVersion(model, version),
    listVersions: (model, o) => store.listVersions(model, o),
    updateVersion: (model, version, patch) => store.updateVersion(model, version, patch),
    // The artifact is left to garbage collection, whose grace period protects a concurrent push
    // of the same bytes that has stored the artifact but not yet written its version.
    deleteVersion: (model, version) => store.deleteVersion(model, version),
    collectGarbage,
    readArtifact: (digest) => artifacts.read(digest),
    openArtifact: (digest) => artifacts.get(digest),
    onChange: (listener) => store.onChange(listener),

    setAlias: (move) => rules.setAlias(move),
    checkAliasMove: ({ model, alias, signature, force, reason }) =>
      rules.checkAliasMove({ model, alias, candidate: { signature }, override: { force, reason } }),
    recordClientUsage: (usage) => store.recordClientUsage(usage),
    clientUsage: (deployment) => store.clientUsage(deployment),
    getAlias: (model, alias) => store.getAlias(model, alias),
    listAliases: (model) => store.listAliases(model),
    deleteAlias: (o) => store.deleteAlias(o),
    aliasHistory: (o) => store.aliasHistory(o),

    createDeployment: (request) => createDeployment({ store, rules }, request),
    getDeployment: (name) => rules.read(name),
    async listDeployments(o) {
      const page = await store.listDeployments(o);
      return { ...page, items: page.items.map(rules.toDeployment) };
    },
    updateDeployment: (request) => updateDeployment({ store, rules }, request),
    deleteDeployment: (o) => store.deleteDeployment(o),
    deploymentEvents: (o) => store.deploymentEvents(o),
    // The rollout controller's checks: events with no change of spec or state.
    appendDeploymentEvent: (event) => store.appendDeploymentEvent(event),
    resolveRoutes: (deployment) => rules.resolveSpec(deployment.spec),

    async close() {
      await Promise.allSettled([store.close(), artifacts.close()]);
    },
  };
}

interface Deps {
  readonly store: MetadataStore;
  readonly rules: DeploymentRules;
}

/** Creates a deployment whose versions all fit the signature of the one serving most traffic. */
async function createDeployment(
  { store, rules }: Deps,
  { name, spec: raw, by }: { name: string; spec: unknown; by: string },
): Promise<Deployment> {
  checkName(name, 'deployment name');
  const spec = rules.parseSpec(name, raw);
  await store.getModel(spec.model);
  const resolved = await rules.resolveSpec(spec);
  const primary = resolved.routes.reduce((best, r) => (r.weight > best.weight ? r : best));
  // A new deployment has no clients yet: its versions must fit the one serving most of it.
  await rules.checkFit({
    model: spec.model,
    reference: primary.version,
    versions: [...resolved.routes.map((r) => r.version), ...(resolved.shadow ? [resolved.shadow.version] : [])],
    what: `deployment "${name}"`,
  });
  return rules.write({
    name,
    spec,
    state: {},
    by,
    create: true,
    event: {
      kind: 'created',
      message: `created with ${describeRoutes(resolved)}`,
      detail: { spec, routes: resolved.routes },
    },
  });
}

/** Replaces a deployment's spec: same model, no running canary, every version fitting what its clients use. */
async function updateDeployment(
  { rules }: Deps,
  options: Parameters<Registry['updateDeployment']>[0],
): Promise<Deployment> {
  const { name, by, expectedRevision } = options;
  const override = { force: options.force, reason: options.reason };
  const current = await rules.read(name);
  const spec = rules.parseSpec(name, options.spec);
  if (spec.model !== current.spec.model) {
    throw new StratumError(
      'BAD_REQUEST',
      `deployment "${name}" serves model "${current.spec.model}"; it cannot switch to "${spec.model}" (create a new deployment)`,
    );
  }
  if (current.state.canary?.status === 'running') {
    throw new StratumError(
      'ROLLOUT_CONFLICT',
      `deployment "${name}" has a canary running (${current.state.canary.stable} → ${current.state.canary.canary}); abort it first`,
    );
  }
  const resolved = await rules.resolveSpec(spec);
  const outcome = await rules.checkFit({
    model: spec.model,
    reference: await rules.currentPrimary(current),
    versions: [...resolved.routes.map((r) => r.version), ...(resolved.shadow ? [resolved.shadow.version] : [])],
    deployment: current,
    what: `updating deployment "${name}"`,
    override,
  });
  return rules.write({
    name,
    spec,
    state: current.state,
    by,
    ...(expectedRevision !== undefined && { expectedRevision }),
    event: {
      kind: 'updated',
      message: `routes now ${describeRoutes(resolved)}${describeOutcome(outcome, override)}`,
      detail: { spec, routes: resolved.routes, ...outcomeDetail(outcome, override) },
    },
  });
}

function checkName(value: string, what: string): void {
  const parsed = ResourceNameSchema.safeParse(value);
  if (!parsed.success) throw new StratumError('BAD_REQUEST', `${what} "${value}" ${parsed.error.issues[0]?.message}`);
}
