/**
 * The stores a training run records into (runs, dataset versions, their artifacts) and the
 * registry it registers its version with, opened from the configuration the way `stratum serve`
 * opens them. `stratum train` and the demo train through this; a server on the same stores sees
 * the new run and version through its change feed.
 */
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { openArtifactStore } from '../artifacts/open-artifact-store.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { createRegistry, type Registry } from '../registry/registry.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { openMetadataStore } from '../store/open-metadata-store.ts';

/** Options of {@link openTrainingStores}. */
export interface TrainingStoresOptions {
  readonly config: Pick<Config, 'databaseUrl' | 'registryPollMs' | 'artifactsUrl' | 'bodyLimitBytes'> &
    Partial<Pick<Config, 'artifactEncryption'>>;
  readonly logger: Logger;
}

/** What a training run needs, and one idempotent `close()` for all of it. */
export interface TrainingStores {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** Opens the metadata store, the artifact store and a registry over them. */
export async function openTrainingStores(options: TrainingStoresOptions): Promise<TrainingStores> {
  const { config, logger } = options;
  const store = await openMetadataStore({ url: config.databaseUrl, pollMs: config.registryPollMs, logger });
  const artifacts = await openArtifactStore({ url: config.artifactsUrl, encryption: config.artifactEncryption }).catch(
    async (error: unknown) => {
      await store.close();
      throw error;
    },
  );
  const registry = createRegistry({ store, artifacts, logger, maxArtifactBytes: config.bodyLimitBytes });
  return { store, artifacts, registry, close: () => registry.close() };
}
