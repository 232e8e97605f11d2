/**
 * Opens the inference log in the metadata database a URL names, on a connection of its own
 * (migrating it first, like the metadata store does: the migrator's lock makes that safe).
 */
import type { Logger } from '../logging/logger.ts';
import { inferenceLogRows } from './inference-log-rows.ts';
import type { InferenceLogStore } from './inference-log-store.ts';
import { migrate } from './migrate.ts';
import { openDriver } from './open-metadata-store.ts';

/** Options of {@link openInferenceLogStore}. */
export interface OpenInferenceLogStoreOptions {
  /** `sqlite:<path>` or `postgres://…` (see `openMetadataStore`). */
  readonly url: string;
  readonly logger?: Logger;
  /** Base of relative SQLite paths. @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Opens and migrates the inference log. Close it with `close()`.
 *
 * @example
 * const log = await openInferenceLogStore({ url: 'sqlite:.stratum/stratum.db' });
 * const rows = await log.readWindow({ deployment: 'fraud', limit: 1000 });
 */
export async function openInferenceLogStore(options: OpenInferenceLogStoreOptions): Promise<InferenceLogStore> {
  const { logger } = options;
  const { driver, notifier } = await openDriver({
    url: options.url,
    ...(logger !== undefined && { logger }),
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  });
  // The log reacts to no change, so the PostgreSQL notifier (lazy: never connected) is not kept.
  await notifier?.close();
  try {
    await migrate({ driver, ...(logger !== undefined && { logger }) });
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  return inferenceLogRows(driver);
}
