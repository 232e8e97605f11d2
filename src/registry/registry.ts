/**
 * The registry: models, immutable versions, aliases and deployments, over the metadata store and
 * the artifact store. Every rule that is not a plain storage rule lives here: an upload must be a
 * valid ONNX model, a deployment's versions must fit its signature, a rollout must start from a
 * single stable version. The management API and the CLI reach the registry only through this.
 */
import { randomUUID } from 'node:crypto';
import type { ArtifactStore, CollectGarbageResult } from '../artifacts/artifact-store.ts';
import { StratumError } from '../errors/index.ts';
import { formatIssues } from '../errors/format-issues.ts';
import type { Logger } from '../logging/logger.ts';
import { signatureFromGraph } from '../onnx/graph-signature.ts';
import type { Signature } from '../tensor/signature.ts';
import type {
  AliasEvent,
  AliasRecord,
  DeploymentEvent,
  DeploymentRecord,
  Lineage,
  MetadataStore,
  ModelRecord,
  Page,
  PageOptions,
  VersionRecord,
} from '../store/metadata-store.ts';
import {
  CanaryPolicySchema,
  type CanaryState,
  type DeploymentSpec,
  DeploymentSpecSchema,
  type DeploymentState,
  parseDeploymentState,
  type RolloutRequest,
  RolloutRequestSchema,
} from './deployment-spec.ts';
import { AliasNameSchema, ResourceNameSchema } from './names.ts';
import { signatureDifferences } from './signature-diff.ts';

/** Options of {@link createRegistry}. */
export interface RegistryOptions {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly logger: Logger;
  /** Largest model file accepted (bytes). @default 1 GiB */
  readonly maxArtifactBytes?: number;
}

/** A new version to register. */
export interface PushVersion {
  readonly model: string;
  /** The ONNX file. */
  readonly bytes: Uint8Array;
  readonly by: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly metrics?: Readonly<Record<string, number>>;
  readonly lineage?: Lineage;
  /** Description of the model when this push creates it. */
  readonly modelDescription?: string;
}

/** A deployment as the API shows it. */
export interface Deployment {
  readonly name: string;
  readonly spec: DeploymentSpec;
  readonly state: DeploymentState;
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** A version, alias or stable target of a deployment, resolved to a number. */
export interface ResolvedRoutes {
  readonly routes: readonly { readonly version: number; readonly weight: number }[];
  readonly shadow?: { readonly version: number; readonly sampleRate: number };
}

/** The registry service. */
export interface Registry {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;

  pushVersion(push: PushVersion): Promise<VersionRecord>;
  getModel(name: string): Promise<ModelRecord>;
  listModels(options?: PageOptions & { nameContains?: string; tag?: string }): Promise<Page<ModelRecord>>;
  updateModel(name: string, patch: { description?: string; tags?: readonly string[] }): Promise<ModelRecord>;
  deleteModel(name: string): Promise<void>;
  getVersion(model: string, version: number): Promise<VersionRecord>;
  listVersions(
    model: string,
    options?: PageOptions & { status?: VersionRecord['status']; tag?: string },
  ): Promise<Page<VersionRecord>>;
  deleteVersion(model: string, version: number): Promise<void>;
  /** Removes artifacts no version refers to (older than the grace period). */
  collectGarbage(options?: { graceMs?: number; dryRun?: boolean }): Promise<CollectGarbageResult>;
  /** The verified bytes of a version's ONNX file. */
  readArtifact(digest: string): Promise<Uint8Array>;

  setAlias(move: {
    model: string;
    alias: string;
    version: number;
    by: string;
    reason?: string;
    expectedRevision?: number;
  }): Promise<AliasRecord>;
  getAlias(model: string, alias: string): Promise<AliasRecord>;
  listAliases(model: string): Promise<readonly AliasRecord[]>;
  deleteAlias(options: {
    model: string;
    alias: string;
    by: string;
    reason?: string;
    expectedRevision?: number;
  }): Promise<void>;
  aliasHistory(options: { model: string; alias?: string } & PageOptions): Promise<Page<AliasEvent>>;

  createDeployment(options: { name: string; spec: unknown; by: string }): Promise<Deployment>;
  getDeployment(name: string): Promise<Deployment>;
  listDeployments(options?: PageOptions & { model?: string }): Promise<Page<Deployment>>;
  updateDeployment(options: {
    name: string;
    spec: unknown;
    by: string;
    expectedRevision?: number;
  }): Promise<Deployment>;
  deleteDeployment(options: { name: string; by: string; expectedRevision?: number }): Promise<void>;
  deploymentEvents(options: { deployment: string } & PageOptions): Promise<Page<DeploymentEvent>>;
  /** The versions a deployment's spec points at now (aliases resolved). */
  resolveRoutes(deployment: Deployment): Promise<ResolvedRoutes>;

  /** Starts a blue-green switch (immediate) or a canary (driven by the rollout controller). */
  startRollout(options: { name: string; request: unknown; by: string; expectedRevision?: number }): Promise<Deployment>;
  /** Moves a running canary to its next step, or promotes it after the last one. */
  advanceCanary(options: { name: string; canaryId: string; step: number; by: string }): Promise<Deployment>;
  /** Ends a running canary and sends all traffic back to the stable version. */
  rollbackCanary(options: {
    name: string;
    canaryId: string;
    reason: string;
    by: string;
    status?: 'rolled_back' | 'aborted';
  }): Promise<Deployment>;

  close(): Promise<void>;
}

const DEFAULT_MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;

/** Creates the registry over a metadata store and an artifact store. */
export function createRegistry(options: RegistryOptions): Registry {
  const { store, artifacts, logger } = options;
  const maxBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;

  function checkName(value: string, what: string): void {
    const parsed = ResourceNameSchema.safeParse(value);
    if (!parsed.success) throw new StratumError('BAD_REQUEST', `${what} "${value}" ${parsed.error.issues[0]?.message}`);
  }
  function checkAlias(value: string): void {
    const parsed = AliasNameSchema.safeParse(value);
    if (!parsed.success) throw new StratumError('BAD_REQUEST', `alias "${value}" ${parsed.error.issues[0]?.message}`);
  }

  function toDeployment(record: DeploymentRecord): Deployment {
    return {
      name: record.name,
      spec: DeploymentSpecSchema.parse(record.spec),
      state: parseDeploymentState(record.state),
      revision: record.revision,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      updatedBy: record.updatedBy,
    };
  }

  function parseSpec(name: string, raw: unknown): DeploymentSpec {
    const withModel =
      typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !('model' in raw)
        ? { ...raw, model: name }
        : raw;
    const parsed = DeploymentSpecSchema.safeParse(withModel);
    if (!parsed.success) {
      throw new StratumError('BAD_REQUEST', `invalid deployment spec for "${name}": ${formatIssues(parsed.error)}`, {
        details: { issues: parsed.error.issues },
      });
    }
    return parsed.data;
  }

  /** Every version number and alias name a spec (and a running canary) uses. */
  function refsOf(spec: DeploymentSpec, state: DeploymentState): { versions: number[]; aliases: string[] } {
    const versions = new Set<number>();
    const aliases = new Set<string>();
    for (const t of [...spec.routes, ...(spec.shadow ? [spec.shadow] : [])]) {
      if (t.version !== undefined) versions.add(t.version);
      if (t.alias !== undefined) aliases.add(t.alias);
    }
    if (state.canary?.status === 'running') {
      versions.add(state.canary.stable);
      versions.add(state.canary.canary);
    }
    return { versions: [...versions].sort((a, b) => a - b), aliases: [...aliases].sort() };
  }

  async function resolveTarget(model: string, target: { version?: number | undefined; alias?: string | undefined }) {
    if (target.version !== undefined) return (await store.getVersion(model, target.version)).version;
    return (await store.getAlias(model, target.alias as string)).version;
  }

  async function resolveSpec(spec: DeploymentSpec): Promise<ResolvedRoutes> {
    const routes = await Promise.all(
      spec.routes.map(async (r) => ({ version: await resolveTarget(spec.model, r), weight: r.weight })),
    );
    if (spec.shadow === undefined) return { routes };
    return {
      routes,
      shadow: { version: await resolveTarget(spec.model, spec.shadow), sampleRate: spec.shadow.sampleRate },
    };
  }

  /** Refuses (SIGNATURE_MISMATCH) when any of `versions` does not fit `reference`'s signature. */
  async function checkSignatures(options: {
    model: string;
    reference: number;
    versions: Iterable<number>;
    what: string;
  }) {
    const reference = await store.getVersion(options.model, options.reference);
    const problems: string[] = [];
    for (const v of new Set(options.versions)) {
      if (v === options.reference) continue;
      const candidate = await store.getVersion(options.model, v);
      const diff = signatureDifferences(reference.signature, candidate.signature);
      if (diff.length > 0) problems.push(`version ${v} vs version ${options.reference}: ${diff.join('; ')}`);
    }
    if (problems.length > 0) {
      throw new StratumError(
        'SIGNATURE_MISMATCH',
        `${options.what}: the signature does not fit — ${problems.join(' | ')}`,
        { details: { differences: problems } },
      );
    }
  }

  async function currentPrimary(deployment: Deployment): Promise<number> {
    const canary = deployment.state.canary;
    if (canary?.status === 'running') return canary.stable;
    const resolved = await resolveSpec(deployment.spec);
    return resolved.routes.reduce((best, r) => (r.weight > best.weight ? r : best)).version;
  }

  async function writeDeployment(options: {
    name: string;
    spec: DeploymentSpec;
    state: DeploymentState;
    by: string;
    expectedRevision?: number;
    event: { kind: string; message: string; detail?: unknown };
    create?: boolean;
  }): Promise<Deployment> {
    const refs = refsOf(options.spec, options.state);
    const write = {
      name: options.name,
      model: options.spec.model,
      spec: options.spec,
      state: options.state,
      versionRefs: refs.versions,
      aliasRefs: refs.aliases,
      by: options.by,
      event: options.event,
      ...(options.expectedRevision !== undefined && { expectedRevision: options.expectedRevision }),
    };
    const record = options.create ? await store.createDeployment(write) : await store.updateDeployment(write);
    return toDeployment(record);
  }

  function runningCanary(deployment: Deployment, canaryId: string): CanaryState {
    const canary = deployment.state.canary;
    if (canary === undefined || canary.status !== 'running' || canary.id !== canaryId) {
      throw new StratumError('ROLLOUT_CONFLICT', `deployment "${deployment.name}" has no running canary ${canaryId}`);
    }
    return canary;
  }

  async function setAliasChecked(move: {
    model: string;
    alias: string;
    version: number;
    by: string;
    reason?: string;
    expectedRevision?: number;
  }): Promise<AliasRecord> {
    checkAlias(move.alias);
    const target = await store.getVersion(move.model, move.version);
    // Every deployment that routes through the alias will follow it: it must fit them all.
    const users = await store.listDeployments({ model: move.model, limit: 1000 });
    for (const record of users.items) {
      if (!record.aliasRefs.includes(move.alias)) continue;
      const deployment = toDeployment(record);
      await checkSignatures({
        model: move.model,
        reference: await currentPrimary(deployment),
        versions: [target.version],
        what: `moving alias "${move.alias}" to version ${move.version} (used by deployment "${record.name}")`,
      });
    }
    return store.setAlias(move);
  }

  /** The alias a deployment follows when all its traffic goes through one alias. */
  function aliasRouteOf(spec: DeploymentSpec): string | undefined {
    const only = spec.routes.length === 1 ? spec.routes[0] : undefined;
    return only?.alias;
  }

  return {
    store,
    artifacts,

    async pushVersion(push) {
      checkName(push.model, 'model name');
      if (push.bytes.length > maxBytes) {
        throw new StratumError(
          'BODY_TOO_LARGE',
          `the model file is ${push.bytes.length} bytes; the limit is ${maxBytes}`,
        );
      }
      // Parse before storing anything: a file that is not a model leaves no trace.
      const signature: Signature = signatureFromGraph(push.bytes);
      // If writing the version fails, the artifact stays for garbage collection: a concurrent push
      // of the same bytes may be about to refer to it.
      const artifact = await artifacts.put(push.bytes, { maxBytes });
      await store.getModel(push.model).catch(async (error: unknown) => {
        if (!(error instanceof StratumError) || error.code !== 'MODEL_NOT_FOUND') throw error;
        await store
          .createModel({
            name: push.model,
            by: push.by,
            ...(push.modelDescription !== undefined && { description: push.modelDescription }),
          })
          .catch((e: unknown) => {
            // Two first pushes of the same model at once: the other one created it.
            if (!(e instanceof StratumError) || e.code !== 'ALREADY_EXISTS') throw e;
          });
      });
      const version = await store.createVersion({
        model: push.model,
        artifactDigest: artifact.digest,
        artifactSize: artifact.size,
        signature,
        by: push.by,
        ...(push.description !== undefined && { description: push.description }),
        ...(push.tags !== undefined && { tags: push.tags }),
        ...(push.metrics !== undefined && { metrics: push.metrics }),
        ...(push.lineage !== undefined && { lineage: push.lineage }),
      });
      logger.info({ model: push.model, version: version.version, digest: artifact.digest }, 'version registered');
      return version;
    },

    getModel: (name) => store.getModel(name),
    listModels: (o) => store.listModels(o),
    updateModel: (name, patch) => store.updateModel(name, patch),
    deleteModel: (name) => store.deleteModel(name),
    getVersion: (model, version) => store.getVersion(model, version),
    listVersions: (model, o) => store.listVersions(model, o),
    // The artifact is left to garbage collection, whose grace period protects a concurrent push
    // of the same bytes that has stored the artifact but not yet written its version.
    deleteVersion: (model, version) => store.deleteVersion(model, version),
    async collectGarbage(options = {}) {
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
    },
    readArtifact: (digest) => artifacts.read(digest),

    setAlias: (move) => setAliasChecked(move),
    getAlias: (model, alias) => store.getAlias(model, alias),
    listAliases: (model) => store.listAliases(model),
    deleteAlias: (o) => store.deleteAlias(o),
    aliasHistory: (o) => store.aliasHistory(o),

    async createDeployment({ name, spec: raw, by }) {
      checkName(name, 'deployment name');
      const spec = parseSpec(name, raw);
      await store.getModel(spec.model);
      const resolved = await resolveSpec(spec);
      const primary = resolved.routes.reduce((best, r) => (r.weight > best.weight ? r : best));
      await checkSignatures({
        model: spec.model,
        reference: primary.version,
        versions: [...resolved.routes.map((r) => r.version), ...(resolved.shadow ? [resolved.shadow.version] : [])],
        what: `deployment "${name}"`,
      });
      return writeDeployment({
        name,
        spec,
        state: {},
        by,
        create: true,
        event: { kind: 'created', message: `created with ${describeRoutes(resolved)}`, detail: { spec } },
      });
    },

    getDeployment: async (name) => toDeployment(await store.getDeployment(name)),
    async listDeployments(o) {
      const page = await store.listDeployments(o);
      return { ...page, items: page.items.map(toDeployment) };
    },

    async updateDeployment({ name, spec: raw, by, expectedRevision }) {
      const current = toDeployment(await store.getDeployment(name));
      const spec = parseSpec(name, raw);
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
      const resolved = await resolveSpec(spec);
      await checkSignatures({
        model: spec.model,
        reference: await currentPrimary(current),
        versions: [...resolved.routes.map((r) => r.version), ...(resolved.shadow ? [resolved.shadow.version] : [])],
        what: `deployment "${name}"`,
      });
      return writeDeployment({
        name,
        spec,
        state: current.state,
        by,
        ...(expectedRevision !== undefined && { expectedRevision }),
        event: { kind: 'updated', message: `routes now ${describeRoutes(resolved)}`, detail: { spec } },
      });
    },

    deleteDeployment: (o) => store.deleteDeployment(o),
    deploymentEvents: (o) => store.deploymentEvents(o),
    resolveRoutes: (deployment) => resolveSpec(deployment.spec),

    async startRollout({ name, request: raw, by, expectedRevision }) {
      const parsed = RolloutRequestSchema.safeParse(raw);
      if (!parsed.success) {
        throw new StratumError('BAD_REQUEST', `invalid rollout for "${name}": ${formatIssues(parsed.error)}`, {
          details: { issues: parsed.error.issues },
        });
      }
      const request: RolloutRequest = parsed.data;
      const current = toDeployment(await store.getDeployment(name));
      if (current.state.canary?.status === 'running') {
        throw new StratumError(
          'ROLLOUT_CONFLICT',
          `deployment "${name}" already has a canary running (${current.state.canary.stable} → ${current.state.canary.canary})`,
        );
      }
      const target = await resolveTarget(current.spec.model, request);
      const stable = await currentPrimary(current);
      await checkSignatures({
        model: current.spec.model,
        reference: stable,
        versions: [target],
        what: `rollout of version ${target} on "${name}"`,
      });
      const revision = expectedRevision ?? current.revision;
      const reason = request.reason ? ` (${request.reason})` : '';
      if (request.strategy === 'blue-green') {
        const alias = aliasRouteOf(current.spec);
        const event = {
          kind: 'blue-green',
          message: `blue-green switch from version ${stable} to version ${target}${alias ? ` (alias "${alias}" moved)` : ''}${reason}`,
          detail: { from: stable, to: target, ...(alias !== undefined && { alias }) },
        };
        if (alias === undefined) {
          const spec: DeploymentSpec = { ...current.spec, routes: [{ version: target, weight: 100 }] };
          return writeDeployment({ name, spec, state: current.state, by, expectedRevision: revision, event });
        }
        // A deployment that follows an alias keeps following it: the switch moves the alias.
        const recorded = await writeDeployment({
          name,
          spec: current.spec,
          state: current.state,
          by,
          expectedRevision: revision,
          event,
        });
        await setAliasChecked({
          model: current.spec.model,
          alias,
          version: target,
          by,
          reason: `blue-green switch on deployment "${name}"${reason}`,
        });
        return recorded;
      }
      if (target === stable) {
        throw new StratumError('ROLLOUT_CONFLICT', `version ${target} is already the stable version of "${name}"`);
      }
      const overrides = request.canary ?? {};
      const policy = CanaryPolicySchema.parse({
        ...current.spec.canary,
        ...withoutUndefined(overrides),
        gates: { ...current.spec.canary.gates, ...withoutUndefined(overrides.gates ?? {}) },
      });
      const now = Date.now();
      const canary: CanaryState = {
        id: randomUUID(),
        status: 'running',
        stable,
        canary: target,
        policy,
        step: 0,
        stepStartedAt: now,
        startedAt: now,
        startedBy: by,
        ...(aliasRouteOf(current.spec) !== undefined && { alias: aliasRouteOf(current.spec) as string }),
      };
      return writeDeployment({
        name,
        // A deployment that follows an alias keeps following it; promotion moves the alias.
        spec: routedTo(current.spec, { version: stable, alias: canary.alias }),
        state: { ...current.state, canary },
        by,
        expectedRevision: revision,
        event: {
          kind: 'canary-started',
          message: `canary of version ${target} against version ${stable}: steps ${policy.steps.join('% → ')}%${reason}`,
          detail: { canary },
        },
      });
    },

    async advanceCanary({ name, canaryId, step, by }) {
      const current = toDeployment(await store.getDeployment(name));
      const canary = runningCanary(current, canaryId);
      if (canary.step !== step) {
        throw new StratumError('PRECONDITION_FAILED', `canary ${canaryId} on "${name}" is no longer at step ${step}`);
      }
      const last = canary.step >= canary.policy.steps.length - 1;
      if (last) {
        const promoted: CanaryState = { ...canary, status: 'promoted', finishedAt: Date.now() };
        if (canary.alias !== undefined) {
          // The alias moves while the canary still runs (its split overrides the routes), so
          // traffic goes from 100% canary straight to the alias, never back to the stable version.
          await setAliasChecked({
            model: current.spec.model,
            alias: canary.alias,
            version: canary.canary,
            by,
            reason: `canary promoted on deployment "${name}"`,
          });
        }
        return writeDeployment({
          name,
          spec: routedTo(current.spec, { version: canary.canary, alias: canary.alias }),
          state: { ...current.state, canary: promoted },
          by,
          expectedRevision: current.revision,
          event: {
            kind: 'canary-promoted',
            message: `canary version ${canary.canary} passed every step and is now stable (was ${canary.stable})`,
            detail: { canary: promoted },
          },
        });
      }
      const next: CanaryState = { ...canary, step: canary.step + 1, stepStartedAt: Date.now() };
      return writeDeployment({
        name,
        spec: current.spec,
        state: { ...current.state, canary: next },
        by,
        expectedRevision: current.revision,
        event: {
          kind: 'canary-step',
          message: `canary version ${canary.canary} advanced to ${canary.policy.steps[next.step]}% of traffic`,
          detail: { step: next.step, percent: canary.policy.steps[next.step] },
        },
      });
    },

    async rollbackCanary({ name, canaryId, reason, by, status = 'rolled_back' }) {
      const current = toDeployment(await store.getDeployment(name));
      const canary = runningCanary(current, canaryId);
      const ended: CanaryState = { ...canary, status, reason, finishedAt: Date.now() };
      return writeDeployment({
        name,
        spec: routedTo(current.spec, { version: canary.stable, alias: canary.alias }),
        state: { ...current.state, canary: ended },
        by,
        expectedRevision: current.revision,
        event: {
          kind: status === 'aborted' ? 'canary-aborted' : 'canary-rolled-back',
          message: `canary version ${canary.canary} ${status === 'aborted' ? 'aborted' : 'rolled back'}: ${reason}; all traffic on version ${canary.stable}`,
          detail: { canary: ended },
        },
      });
    },

    async close() {
      await Promise.allSettled([store.close(), artifacts.close()]);
    },
  };
}

/**
 * The spec after a rollout settles on `version`: a deployment that follows an alias keeps its
 * routes (the alias is what moves); any other routes all its traffic to the version.
 */
function routedTo(spec: DeploymentSpec, target: { version: number; alias: string | undefined }): DeploymentSpec {
  return target.alias !== undefined ? spec : { ...spec, routes: [{ version: target.version, weight: 100 }] };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describeRoutes(resolved: ResolvedRoutes): string {
  const routes = resolved.routes.map((r) => `version ${r.version} ${r.weight}%`).join(', ');
  return resolved.shadow ? `${routes}; shadow version ${resolved.shadow.version}` : routes;
}
