/**
 * The rules a deployment write obeys, shared by the registry's deployment methods and the rollout
 * state machine: a spec is parsed and its targets resolved, every version it serves must fit what
 * its clients use (`signature-check.ts`: rollbacks to a version it served before and forced moves
 * pass), an alias may only move where its deployments can follow (and each of them records the
 * move in its events), and a write records the version and alias references the store's IN_USE
 * checks need.
 */
import { StratumError } from '../errors/index.ts';
import { formatIssues, specErrorMap } from '../errors/format-issues.ts';
import type { DeploymentRecord, MetadataStore } from '../store/metadata-store.ts';
import {
  type Deployment,
  type DeploymentSpec,
  DeploymentSpecSchema,
  type DeploymentState,
  parseDeploymentState,
} from './deployment-spec.ts';
import { type AliasMoves, createAliasMoves } from './alias-moves.ts';
import {
  type Candidate,
  type CheckOptions,
  checkOverride,
  createSignatureCheck,
  type FitOutcome,
} from './signature-check.ts';

export type { AliasMoveCheck, CheckedAliasMove } from './alias-moves.ts';
export type { Deployment } from './deployment-spec.ts';

/** A version, alias or stable target of a deployment, resolved to a number. */
export interface ResolvedRoutes {
  readonly routes: readonly { readonly version: number; readonly weight: number }[];
  readonly shadow?: { readonly version: number; readonly sampleRate: number };
}

/** A deployment write: the spec and state to store, who, the expected revision and the event. */
export interface DeploymentWriteRequest {
  readonly name: string;
  readonly spec: DeploymentSpec;
  readonly state: DeploymentState;
  readonly by: string;
  readonly expectedRevision?: number;
  readonly event: { kind: string; message: string; detail?: unknown };
  /** Create rather than update. @default false */
  readonly create?: boolean;
}

/** The shared rules (see the module comment), alias moves among them (`alias-moves.ts`). */
export interface DeploymentRules extends AliasMoves {
  /** Reads a deployment (DEPLOYMENT_NOT_FOUND when absent). */
  read(name: string): Promise<Deployment>;
  toDeployment(record: DeploymentRecord): Deployment;
  /** Parses a spec; the model defaults to the deployment's name. BAD_REQUEST with every issue. */
  parseSpec(name: string, raw: unknown): DeploymentSpec;
  /** A version or alias target of `model` as a version number. */
  resolveTarget(model: string, target: { version?: number | undefined; alias?: string | undefined }): Promise<number>;
  resolveSpec(spec: DeploymentSpec): Promise<ResolvedRoutes>;
  /**
   * Refuses (SIGNATURE_MISMATCH) when a candidate does not fit what the deployment's clients use
   * (or, for a deployment being created, `reference`'s signature), unless it served the deployment
   * before or the override forces it. BAD_REQUEST for `force` without a reason.
   */
  checkFit(options: Omit<CheckOptions, 'candidates'> & { versions: Iterable<number> }): Promise<FitOutcome>;
  /** The version that serves most of a deployment's traffic now (a running canary's stable one). */
  currentPrimary(deployment: Deployment): Promise<number>;
  write(request: DeploymentWriteRequest): Promise<Deployment>;
}

/** Creates the rules over a metadata store. */
export function createDeploymentRules(store: MetadataStore): DeploymentRules {
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

  const signatures = createSignatureCheck(store);

  async function checkFit(options: Omit<CheckOptions, 'candidates'> & { versions: Iterable<number> }) {
    checkOverride(options.override, options.what);
    const candidates: Candidate[] = [];
    for (const version of new Set(options.versions)) {
      if (version === options.reference) continue;
      candidates.push({ version, signature: (await store.getVersion(options.model, version)).signature });
    }
    return signatures.check({ ...options, candidates });
  }

  async function currentPrimary(deployment: Deployment): Promise<number> {
    const canary = deployment.state.canary;
    if (canary?.status === 'running') return canary.stable;
    const resolved = await resolveSpec(deployment.spec);
    return resolved.routes.reduce((best, r) => (r.weight > best.weight ? r : best)).version;
  }

  return {
    read: async (name) => toDeployment(await store.getDeployment(name)),
    toDeployment,
    parseSpec,
    resolveTarget,
    resolveSpec,
    checkFit,
    currentPrimary,
    ...createAliasMoves({ store, signatures, toDeployment, currentPrimary }),

    async write(request) {
      const refs = refsOf(request.spec, request.state);
      const write = {
        name: request.name,
        model: request.spec.model,
        spec: request.spec,
        state: request.state,
        versionRefs: refs.versions,
        aliasRefs: refs.aliases,
        by: request.by,
        event: request.event,
        ...(request.expectedRevision !== undefined && { expectedRevision: request.expectedRevision }),
      };
      const record = request.create ? await store.createDeployment(write) : await store.updateDeployment(write);
      return toDeployment(record);
    },
  };
}

function parseSpec(name: string, raw: unknown): DeploymentSpec {
  const withModel =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !('model' in raw) ? { ...raw, model: name } : raw;
  const parsed = DeploymentSpecSchema.safeParse(withModel, { error: specErrorMap });
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

/** How a deployment's routes read in its events: `version 3 90%, version 4 10%; shadow version 5`. */
export function describeRoutes(resolved: ResolvedRoutes): string {
  const routes = resolved.routes.map((r) => `version ${r.version} ${r.weight}%`).join(', ');
  return resolved.shadow ? `${routes}; shadow version ${resolved.shadow.version}` : routes;
}
