/**
 * The MetadataStore on SQL, one implementation for SQLite and PostgreSQL: the same statements run
 * on both. Every write is one transaction that starts by taking the next change number (the
 * writers' lock, see `change-feed.ts`), checks its preconditions, writes, and records the change;
 * a rejected write throws inside the transaction and so leaves nothing behind. Because writers are
 * serialised, reading a value and writing on the strength of it (the next version number, a
 * revision compare-and-set, an IN_USE check) cannot race on either engine.
 *
 * This module owns that `write`, the change feed and `close()`; each aggregate's rows and methods
 * live in their own module (`model-rows.ts`, `version-rows.ts`, `alias-rows.ts`,
 * `deployment-rows.ts`, `run-rows.ts`, `dataset-rows.ts`, `usage-rows.ts`), all written against the
 * same `write` (but the clients' usage, which is not a change anyone reacts to).
 */
import type { Logger } from '../logging/logger.ts';
import { aliasMethods } from './alias-rows.ts';
import { auditLogOnSql } from './audit-rows.ts';
import { apiKeyMethods } from './api-key-rows.ts';
import type { ChangeNotifier } from './change-notifier.ts';
import { pollingOnlyNotifier } from './change-notifier.ts';
import { openChangeFeed } from './change-feed.ts';
import { datasetMethods } from './dataset-rows.ts';
import { deploymentMethods } from './deployment-rows.ts';
import { driftMethods } from './drift-rows.ts';
import { pipelineMethods } from './pipeline-rows.ts';
import { experimentMethods } from './experiment-rows.ts';
import type { MetadataStore } from './metadata-store.ts';
import { modelMethods } from './model-rows.ts';
import { runMethods } from './run-rows.ts';
import type { SqlDriver } from './sql-driver.ts';
import type { RowMethodsOptions, StoreWrite } from './store-rows.ts';
import { usageMethods } from './usage-rows.ts';
import { versionMethods } from './version-rows.ts';

/** Options of {@link createSqlMetadataStore}. */
export interface SqlMetadataStoreOptions {
  /** A migrated database. The store owns it from now on: `close()` closes it. */
  readonly driver: SqlDriver;
  /** Pushes changes to other processes. @default polling only */
  readonly notifier?: ChangeNotifier;
  /** How often `onChange` polls the database for other stores' changes (ms). @default 1000 */
  readonly pollMs?: number;
  readonly logger?: Logger;
}

/**
 * Creates the store on a migrated database.
 *
 * @example
 * const driver = openSqliteDriver({ path: '/var/lib/stratum/stratum.db' });
 * await migrate({ driver });
 * const store = await createSqlMetadataStore({ driver });
 */
export async function createSqlMetadataStore(options: SqlMetadataStoreOptions): Promise<MetadataStore> {
  const { driver, logger } = options;
  const feed = await openChangeFeed({
    driver,
    notifier: options.notifier ?? pollingOnlyNotifier,
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    ...(logger === undefined ? {} : { logger }),
  });
  let closing: Promise<void> | undefined;

  /** Runs one write: change number first, then `fn`, then the change record; listeners after commit. */
  const write: StoreWrite = async (change, fn) => {
    const { result, seq } = await driver.transaction(async (tx) => {
      const seq = await feed.begin(tx);
      const result = await fn(tx, seq);
      await feed.record(tx, { ...change, seq });
      return { result, seq };
    });
    feed.committed({ ...change, seq });
    return result;
  };
  const backend: RowMethodsOptions = { driver, write };

  return {
    engine: driver.engine,
    ...modelMethods(backend),
    ...versionMethods(backend),
    ...aliasMethods(backend),
    ...deploymentMethods(backend),
    ...runMethods(backend),
    ...datasetMethods(backend),
    ...usageMethods(backend),
    ...experimentMethods(backend),
    audit: auditLogOnSql(driver),
    ...driftMethods(backend),
    ...pipelineMethods(backend),
    ...apiKeyMethods(backend),

    referencedArtifacts: async () => {
      const rows = await driver.query<{ artifact_digest: string }>('SELECT DISTINCT artifact_digest FROM versions');
      const referenced = new Set(rows.map((row) => row.artifact_digest));
      // What runs produced (models, feature specs, checkpoints) is kept as long as the run is.
      for (const run of await driver.query<{ artifacts: string }>(
        "SELECT artifacts FROM runs WHERE artifacts <> '[]'",
      )) {
        for (const artifact of JSON.parse(run.artifacts) as { digest: string }[]) referenced.add(artifact.digest);
      }
      return referenced;
    },

    onChange: (listener) => feed.subscribe(listener),

    close: () => {
      closing ??= (async () => {
        const errors: unknown[] = [];
        for (const step of [() => feed.close(), () => driver.close()]) {
          try {
            await step();
          } catch (error) {
            errors.push(error);
          }
        }
        if (errors.length === 1) throw errors[0];
        if (errors.length > 1) throw new AggregateError(errors, 'closing the metadata store failed');
      })();
      return closing;
    },
  };
}
