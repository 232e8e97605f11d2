/**
 * The store's tables as rows, and their mapping to the contract's records. Column lists live here
 * beside the row types so that a SELECT and its mapper cannot drift apart.
 */
import type { Signature } from '../tensor/signature.ts';
import type {
  AliasEvent,
  AliasRecord,
  DeploymentEvent,
  DeploymentRecord,
  Lineage,
  ModelRecord,
  VersionRecord,
} from './metadata-store.ts';

/** A `models` row. */
export interface ModelRow {
  readonly name: string;
  readonly description: string;
  readonly tags: string;
  readonly created_at: number;
  readonly created_by: string;
  readonly updated_at: number;
}
export const MODEL_COLUMNS = 'name, description, tags, created_at, created_by, updated_at';

/** A `versions` row. */
export interface VersionRow {
  readonly model: string;
  readonly version: number;
  readonly artifact_digest: string;
  readonly artifact_size: number;
  readonly signature: string;
  readonly metrics: string;
  readonly tags: string;
  readonly description: string;
  readonly status: string;
  readonly lineage: string;
  readonly created_at: number;
  readonly created_by: string;
}
export const VERSION_COLUMNS =
  'model, version, artifact_digest, artifact_size, signature, metrics, tags, description, status, lineage, created_at, created_by';

/** An `aliases` row. */
export interface AliasRow {
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly revision: number;
  readonly updated_at: number;
  readonly updated_by: string;
}
export const ALIAS_COLUMNS = 'model, alias, version, revision, updated_at, updated_by';

/** An `alias_events` row. */
export interface AliasEventRow {
  readonly id: number;
  readonly model: string;
  readonly alias: string;
  readonly from_version: number | null;
  readonly to_version: number | null;
  readonly actor: string;
  readonly created_at: number;
  readonly reason: string;
}
export const ALIAS_EVENT_COLUMNS = 'id, model, alias, from_version, to_version, actor, created_at, reason';

/** A `deployments` row. */
export interface DeploymentRow {
  readonly name: string;
  readonly model: string;
  readonly spec: string;
  readonly state: string;
  readonly version_refs: string;
  readonly alias_refs: string;
  readonly revision: number;
  readonly created_at: number;
  readonly updated_at: number;
  readonly updated_by: string;
}
export const DEPLOYMENT_COLUMNS =
  'name, model, spec, state, version_refs, alias_refs, revision, created_at, updated_at, updated_by';

/** A `deployment_events` row. */
export interface DeploymentEventRow {
  readonly id: number;
  readonly deployment: string;
  readonly kind: string;
  readonly message: string;
  readonly detail: string;
  readonly actor: string;
  readonly created_at: number;
}
export const DEPLOYMENT_EVENT_COLUMNS = 'id, deployment, kind, message, detail, actor, created_at';

/** JSON for a TEXT column; `undefined` is stored as `null`. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Maps a `models` row. */
export function toModel(row: ModelRow): ModelRecord {
  return {
    name: row.name,
    description: row.description,
    tags: fromJson<string[]>(row.tags),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
  };
}

/** Maps a `versions` row. */
export function toVersion(row: VersionRow): VersionRecord {
  return {
    model: row.model,
    version: row.version,
    artifactDigest: row.artifact_digest,
    artifactSize: row.artifact_size,
    signature: fromJson<Signature>(row.signature),
    metrics: fromJson<Record<string, number>>(row.metrics),
    tags: fromJson<string[]>(row.tags),
    description: row.description,
    status: row.status === 'archived' ? 'archived' : 'ready',
    lineage: fromJson<Lineage>(row.lineage),
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/** Maps an `aliases` row. */
export function toAlias(row: AliasRow): AliasRecord {
  return {
    model: row.model,
    alias: row.alias,
    version: row.version,
    revision: row.revision,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** Maps an `alias_events` row. */
export function toAliasEvent(row: AliasEventRow): AliasEvent {
  return {
    id: row.id,
    model: row.model,
    alias: row.alias,
    from: row.from_version,
    to: row.to_version,
    by: row.actor,
    at: row.created_at,
    reason: row.reason,
  };
}

/** Maps a `deployments` row. */
export function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    name: row.name,
    model: row.model,
    spec: fromJson<unknown>(row.spec),
    state: fromJson<unknown>(row.state),
    versionRefs: fromJson<number[]>(row.version_refs),
    aliasRefs: fromJson<string[]>(row.alias_refs),
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** Maps a `deployment_events` row. */
export function toDeploymentEvent(row: DeploymentEventRow): DeploymentEvent {
  return {
    id: row.id,
    deployment: row.deployment,
    kind: row.kind,
    message: row.message,
    detail: fromJson<unknown>(row.detail),
    by: row.actor,
    at: row.created_at,
  };
}
