/**
 * Finds a model version's drift reference in the metadata store: the reference sample recorded
 * for it if there is one, else the profile of the dataset version its lineage names. The last few
 * are kept (a version's reference never changes once it has one).
 */
import { z } from 'zod';
import { parseDatasetProfile } from '../data/profile/index.ts';
import { StratumError } from '../errors/index.ts';
import { formatIssues } from '../errors/format-issues.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { DriftReference } from './drift-columns.ts';
import { referenceFromProfile, referenceFromSample } from './drift-reference.ts';

const CACHED = 16;

const Rows = z.array(z.record(z.string(), z.unknown()));
/** A stored reference sample. */
export const ReferenceSampleSchema = z.object({ rows: Rows, predictions: Rows.optional() });

/** What the loader reads. */
export type ReferenceStore = Pick<MetadataStore, 'getVersion' | 'getDatasetVersion' | 'referenceSample'>;

/** Loads references. */
export interface ReferenceLoader {
  /** NOT_FOUND when the version has neither a sample nor a profiled dataset version. */
  load(model: string, version: number): Promise<DriftReference>;
}

/** Creates a loader over a store. */
export function createReferenceLoader(store: ReferenceStore): ReferenceLoader {
  const cache = new Map<string, DriftReference>();
  const read = async (model: string, version: number): Promise<DriftReference> => {
    const stored = await store.referenceSample(model, version);
    if (stored !== undefined) {
      const parsed = ReferenceSampleSchema.safeParse(stored);
      if (!parsed.success) {
        throw new StratumError(
          'INTERNAL',
          `the reference sample of version ${version} of model ${JSON.stringify(model)} is malformed: ${formatIssues(parsed.error)}`,
        );
      }
      const { rows, predictions } = parsed.data;
      return referenceFromSample({ rows, ...(predictions !== undefined && { predictions }) });
    }
    const record = await store.getVersion(model, version);
    const datasetVersion = record.lineage.datasetVersion;
    if (datasetVersion === undefined) {
      throw new StratumError(
        'NOT_FOUND',
        `version ${version} of model ${JSON.stringify(model)} has no drift reference: no reference sample was recorded and its lineage names no dataset version`,
      );
    }
    const dataset = await store.getDatasetVersion(datasetVersion);
    return referenceFromProfile(parseDatasetProfile(dataset.profile));
  };
  return {
    async load(model, version) {
      const key = JSON.stringify([model, version]);
      const hit = cache.get(key);
      if (hit !== undefined) {
        cache.delete(key);
        cache.set(key, hit);
        return hit;
      }
      const reference = await read(model, version);
      cache.set(key, reference);
      if (cache.size > CACHED) cache.delete(cache.keys().next().value as string);
      return reference;
    },
  };
}
