/**
 * Opens the metadata store a database URL names: `sqlite:<path>` or `postgres://…`. It connects,
 * applies pending migrations and wires change notifications (PostgreSQL: LISTEN/NOTIFY plus
 * polling; SQLite: polling). This is the one place that knows which engines exist.
 */
import { resolve } from 'node:path';
import type { Logger } from '../logging/logger.ts';
import { StratumError } from '../errors/index.ts';
import type { ChangeNotifier } from './change-notifier.ts';
import { migrate } from './migrate.ts';
import type { MetadataStore } from './metadata-store.ts';
import { openPostgresDriver, parsePostgresUrl } from './postgres-driver.ts';
import { createPostgresNotifier } from './postgres-notifier.ts';
import type { SqlDriver } from './sql-driver.ts';
import { createSqlMetadataStore } from './sql-metadata-store.ts';
import { openSqliteDriver } from './sqlite-driver.ts';

/** Options of {@link openMetadataStore}. */
export interface OpenMetadataStoreOptions {
  /**
   * `sqlite:<path>` (relative to `cwd`; `sqlite::memory:` for a private in-memory database) or
   * `postgres://user@host:port/database?schema=<name>` (the schema is created if missing).
   */
  readonly url: string;
  /** How often `onChange` polls for other processes' changes (ms). @default 1000 */
  readonly pollMs?: number;
  readonly logger?: Logger;
  /** Base of relative SQLite paths. @default process.cwd() */
  readonly cwd?: string;
}

/** Connects to the database `options.url` names (not migrated); the inference log opens its own connection with it. */
export async function openDriver(
  options: OpenMetadataStoreOptions,
): Promise<{ driver: SqlDriver; notifier?: ChangeNotifier }> {
  const { url, logger } = options;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '')
      throw new StratumError('CONFIG_INVALID', 'database URL "sqlite:" names no file; use sqlite:<path>');
    return {
      driver: openSqliteDriver({ path: path === ':memory:' ? path : resolve(options.cwd ?? process.cwd(), path) }),
    };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const connection = parsePostgresUrl(url);
    const driver = await openPostgresDriver({ connection, ...(logger === undefined ? {} : { logger }) });
    const notifier = createPostgresNotifier({ connection, ...(logger === undefined ? {} : { logger }) });
    return { driver, notifier };
  }
  throw new StratumError('CONFIG_INVALID', 'database URL must start with sqlite: or postgres://', {
    details: { scheme: url.split(':')[0] },
  });
}

/**
 * Opens, migrates and returns the store. Close it with `store.close()`.
 *
 * @example
 * const store = await openMetadataStore({ url: 'sqlite:.stratum/stratum.db' });
 * try {
 *   await store.createModel({ name: 'iris', by: 'alice' });
 * } finally {
 *   await store.close();
 * }
 */
export async function openMetadataStore(options: OpenMetadataStoreOptions): Promise<MetadataStore> {
  const { logger } = options;
  const { driver, notifier } = await openDriver(options);
  try {
    await migrate({ driver, ...(logger === undefined ? {} : { logger }) });
    return await createSqlMetadataStore({
      driver,
      ...(notifier === undefined ? {} : { notifier }),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(logger === undefined ? {} : { logger }),
    });
  } catch (error) {
    await notifier?.close().catch(() => undefined);
    await driver.close().catch(() => undefined);
    throw error;
  }
}
