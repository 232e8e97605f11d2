/** The folder repository (`stratum serve --models <dir>`) as a {@link ModelSource}. */
import { StratumError } from '../errors/index.ts';
import type { ModelManager } from './model-manager.ts';
import type { ModelSource } from './model-source.ts';

/** Wraps the folder's model manager. */
export function folderModelSource(manager: ModelManager): ModelSource {
  return {
    // Every request asks: a map lookup, not the sorted list of names.
    has: (name) => manager.knows(name),
    names: () => manager.modelNames(),
    route: ({ name, version }) => manager.resolve(name, version),
    metadata(name, version) {
      const handle = manager.resolve(name, version);
      return {
        versions: manager.readyVersions(name).map((v) => v.version),
        signature: handle.signature,
        ...(handle.classes !== undefined && { classes: handle.classes }),
      };
    },
    ready(name, version) {
      try {
        manager.resolve(name, version);
        return true;
      } catch (error) {
        if (error instanceof StratumError && error.code === 'MODEL_NOT_READY') return false;
        throw error;
      }
    },
    statistics(name, version) {
      if (name === undefined) {
        return manager.modelNames().flatMap((m) => manager.readyVersions(m).map((v) => v.statistics()));
      }
      const versions = version === undefined ? manager.readyVersions(name) : [manager.resolve(name, version)];
      if (version === undefined && versions.length === 0) manager.resolve(name);
      return versions.map((v) => v.statistics());
    },
    index: () => manager.index(),
  };
}
