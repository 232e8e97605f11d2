/**
 * Deployments on SQL: the `deployments` rows, the reference rows that the IN_USE checks of version
 * and alias deletes read (`deployment_version_refs`, `deployment_alias_refs`), the deployment's
 * events, the mapping to the contract's records, and the store methods, on the same `write` (one
 * transaction, one change record) as the rest of the store.
 */
import { StratumError } from '../errors/index.ts';
import type { DeploymentEvent, DeploymentRecord, DeploymentWrite, MetadataStore } from './metadata-store.ts';
import { requireModel } from './model-rows.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import type { SqlExecutor, SqlValue } from './sql-driver.ts';
import { checkRevision, quote } from './store-errors.ts';
import { fromJson, type RowMethodsOptions, toJson, unique } from './store-rows.ts';

/** A `deployments` row. */
interface DeploymentRow {
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
const DEPLOYMENT_COLUMNS =
  'name, model, spec, state, version_refs, alias_refs, revision, created_at, updated_at, updated_by';

/** A `deployment_events` row. */
interface DeploymentEventRow {
  readonly id: number;
  readonly deployment: string;
  readonly kind: string;
  readonly message: string;
  readonly detail: string;
  readonly actor: string;
  readonly created_at: number;
}
const DEPLOYMENT_EVENT_COLUMNS = 'id, deployment, kind, message, detail, actor, created_at';

/** Maps a `deployments` row. */
function toDeployment(row: DeploymentRow): DeploymentRecord {
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
function toDeploymentEvent(row: DeploymentEventRow): DeploymentEvent {
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

async function deploymentRow(db: SqlExecutor, name: string): Promise<DeploymentRow | undefined> {
  const [row] = await db.query<DeploymentRow>(`SELECT ${DEPLOYMENT_COLUMNS} FROM deployments WHERE name = ?`, [name]);
  return row;
}

/** The deployment; DEPLOYMENT_NOT_FOUND when it does not exist. */
export async function requireDeployment(db: SqlExecutor, name: string): Promise<DeploymentRecord> {
  const row = await deploymentRow(db, name);
  if (row === undefined) {
    throw new StratumError('DEPLOYMENT_NOT_FOUND', `deployment ${quote(name)} does not exist`, {
      details: { deployment: name },
    });
  }
  return toDeployment(row);
}

/** Throws `missing(ref)` for the first of `wanted` that `sql` (one `?`: the model) does not list. */
async function requireRefs<T extends SqlValue>(
  db: SqlExecutor,
  check: { sql: string; model: string; wanted: readonly T[]; missing: (ref: T) => StratumError },
): Promise<void> {
  const existing = new Set((await db.query<{ ref: T }>(check.sql, [check.model])).map((row) => row.ref));
  const missing = check.wanted.find((ref) => !existing.has(ref));
  if (missing !== undefined) throw check.missing(missing);
}

/** Checks a deployment's model and refs exist; returns the refs without repeats. */
async function checkDeploymentRefs(
  db: SqlExecutor,
  write: DeploymentWrite,
): Promise<{ versions: number[]; aliases: string[] }> {
  const { name, model } = write;
  await requireModel(db, model);
  const versions = unique(write.versionRefs);
  const aliases = unique(write.aliasRefs);
  await requireRefs(db, {
    sql: 'SELECT version AS ref FROM versions WHERE model = ?',
    model,
    wanted: versions,
    missing: (version) =>
      new StratumError(
        'VERSION_NOT_FOUND',
        `deployment ${quote(name)} refers to version ${version} of model ${quote(model)}, which does not exist`,
        { details: { deployment: name, model, version } },
      ),
  });
  await requireRefs(db, {
    sql: 'SELECT alias AS ref FROM aliases WHERE model = ?',
    model,
    wanted: aliases,
    missing: (alias) =>
      new StratumError(
        'ALIAS_NOT_FOUND',
        `deployment ${quote(name)} routes through alias ${quote(alias)} of model ${quote(model)}, which does not exist`,
        { details: { deployment: name, model, alias } },
      ),
  });
  return { versions, aliases };
}

/**
 * What create and update share once their preconditions hold: the refs checked, the deployment's
 * row written (inserted when there is no `current` one), its reference rows replaced, and its
 * event recorded if the write has one.
 */
async function saveDeployment(
  db: SqlExecutor,
  options: { write: DeploymentWrite; current: DeploymentRecord | undefined; seq: number },
): Promise<DeploymentRecord> {
  const { write, current, seq } = options;
  const refs = await checkDeploymentRefs(db, write);
  const now = Date.now();
  const record: DeploymentRecord = {
    name: write.name,
    model: write.model,
    spec: write.spec ?? null,
    state: write.state ?? null,
    versionRefs: refs.versions,
    aliasRefs: refs.aliases,
    revision: (current?.revision ?? 0) + 1,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
    updatedBy: write.by,
  };
  // The same values in the same order for both statements; the INSERT adds what never changes.
  const values = [
    toJson(record.spec),
    toJson(record.state),
    toJson(record.versionRefs),
    toJson(record.aliasRefs),
    record.revision,
    record.updatedAt,
    record.updatedBy,
  ];
  if (current === undefined) {
    await db.execute(
      'INSERT INTO deployments (spec, state, version_refs, alias_refs, revision, updated_at, updated_by, name, model, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [...values, record.name, record.model, record.createdAt],
    );
  } else {
    await db.execute(
      'UPDATE deployments SET spec = ?, state = ?, version_refs = ?, alias_refs = ?, revision = ?, updated_at = ?, updated_by = ? WHERE name = ?',
      [...values, record.name],
    );
  }
  await replaceDeploymentRefs(db, record, refs);
  if (write.event !== undefined) {
    await insertDeploymentEvent(db, { ...write.event, id: seq, deployment: record.name, by: write.by, at: now });
  }
  return record;
}

async function replaceDeploymentRefs(
  db: SqlExecutor,
  deployment: { name: string; model: string },
  refs: { versions: readonly number[]; aliases: readonly string[] },
): Promise<void> {
  await db.execute('DELETE FROM deployment_version_refs WHERE deployment = ?', [deployment.name]);
  await db.execute('DELETE FROM deployment_alias_refs WHERE deployment = ?', [deployment.name]);
  for (const version of refs.versions) {
    await db.execute('INSERT INTO deployment_version_refs (deployment, model, version) VALUES (?, ?, ?)', [
      deployment.name,
      deployment.model,
      version,
    ]);
  }
  for (const alias of refs.aliases) {
    await db.execute('INSERT INTO deployment_alias_refs (deployment, model, alias) VALUES (?, ?, ?)', [
      deployment.name,
      deployment.model,
      alias,
    ]);
  }
}

/** Records one deployment event; its id is the write's change number (see `StoreWrite`). */
async function insertDeploymentEvent(
  db: SqlExecutor,
  event: Omit<DeploymentEvent, 'detail'> & { readonly detail?: unknown },
): Promise<DeploymentEvent> {
  const detail = event.detail ?? null;
  await db.execute(
    'INSERT INTO deployment_events (id, deployment, kind, message, detail, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [event.id, event.deployment, event.kind, event.message, toJson(detail), event.by, event.at],
  );
  return { ...event, detail };
}

type DeploymentMethods = Pick<
  MetadataStore,
  | 'createDeployment'
  | 'getDeployment'
  | 'listDeployments'
  | 'updateDeployment'
  | 'deleteDeployment'
  | 'deploymentEvents'
  | 'appendDeploymentEvent'
>;

/** The deployment methods of the SQL store. */
export function deploymentMethods(options: RowMethodsOptions): DeploymentMethods {
  const { driver, write } = options;
  return {
    createDeployment: (deployment: DeploymentWrite) =>
      write({ kind: 'deployment', name: deployment.name }, async (tx, seq) => {
        if ((await deploymentRow(tx, deployment.name)) !== undefined) {
          throw new StratumError('ALREADY_EXISTS', `deployment ${quote(deployment.name)} already exists`, {
            details: { deployment: deployment.name },
          });
        }
        checkRevision(`deployment ${quote(deployment.name)}`, { expected: deployment.expectedRevision, actual: 0 });
        return saveDeployment(tx, { write: deployment, current: undefined, seq });
      }),

    getDeployment: (name) => requireDeployment(driver, name),

    listDeployments: async (options) =>
      selectPage(driver, {
        columns: DEPLOYMENT_COLUMNS,
        from: 'deployments',
        filters: [{ sql: 'model = ?', value: options?.model }],
        orderBy: { column: 'name', descending: false, key: (row: DeploymentRow) => row.name },
        page: pageRequest(options, 'string'),
        map: toDeployment,
      }),

    updateDeployment: (deployment: DeploymentWrite) =>
      write({ kind: 'deployment', name: deployment.name }, async (tx, seq) => {
        const current = await requireDeployment(tx, deployment.name);
        checkRevision(`deployment ${quote(deployment.name)}`, {
          expected: deployment.expectedRevision,
          actual: current.revision,
        });
        if (deployment.model !== current.model) {
          throw new StratumError(
            'BAD_REQUEST',
            `deployment ${quote(deployment.name)} serves model ${quote(current.model)}, not ${quote(deployment.model)}; create a new deployment for another model`,
            { details: { deployment: deployment.name, model: current.model } },
          );
        }
        return saveDeployment(tx, { write: deployment, current, seq });
      }),

    deleteDeployment: (deletion) =>
      write({ kind: 'deployment', name: deletion.name }, async (tx) => {
        const current = await requireDeployment(tx, deletion.name);
        checkRevision(`deployment ${quote(deletion.name)}`, {
          expected: deletion.expectedRevision,
          actual: current.revision,
        });
        // The events and the clients' usage go with the deployment, so that a new deployment of the
        // same name starts clean.
        await tx.execute('DELETE FROM deployment_events WHERE deployment = ?', [deletion.name]);
        await tx.execute('DELETE FROM deployment_usage WHERE deployment = ?', [deletion.name]);
        await replaceDeploymentRefs(tx, current, { versions: [], aliases: [] });
        await tx.execute('DELETE FROM deployments WHERE name = ?', [deletion.name]);
      }),

    deploymentEvents: async (options) => {
      const page = pageRequest(options, 'number');
      await requireDeployment(driver, options.deployment);
      return selectPage(driver, {
        columns: DEPLOYMENT_EVENT_COLUMNS,
        from: 'deployment_events',
        filters: [{ sql: 'deployment = ?', value: options.deployment }],
        orderBy: { column: 'id', descending: true, key: (row: DeploymentEventRow) => row.id },
        page,
        map: toDeploymentEvent,
      });
    },

    appendDeploymentEvent: (event) =>
      write({ kind: 'deployment', name: event.deployment }, async (tx, seq) => {
        await requireDeployment(tx, event.deployment);
        return insertDeploymentEvent(tx, { ...event, id: seq, at: Date.now() });
      }),
  };
}
