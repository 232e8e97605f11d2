/**
 * What live fairness needs to know of a registered version: the sensitive columns its training
 * spec declared (`card.sensitive`, kept in the run's params) and, for a binary classifier, which
 * class is the positive one (the second of `stratum.classes`, as training indexes them). Read
 * from the registry once per version and kept: a version's run and metadata never change.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import type { ClassValue } from '../monitor/quality-math.ts';
import { CLASSES_METADATA_KEY } from '../onnx/model-metadata.ts';
import type { Registry } from '../registry/registry.ts';

/** A version's fairness settings. */
export interface FairnessSettings {
  /** The sensitive columns, read from each logged request's input of that name. */
  readonly columns: readonly string[];
  /** The classes in training's index order (classifiers trained by Stratum). */
  readonly classes?: readonly ClassValue[];
}

/** Reads a version's settings; undefined when it declares no sensitive column. */
export type FairnessSettingsSource = (args: {
  model: string;
  version: string;
}) => Promise<FairnessSettings | undefined>;

// Only what is read of the run's params (the training spec): the rest is not this module's.
const RunParamsSchema = z.object({
  card: z.object({ sensitive: z.array(z.string()).optional() }).optional(),
});
const ClassesSchema = z.array(z.union([z.string(), z.number(), z.boolean()]));

/**
 * The settings source over a registry, remembering each version's answer.
 *
 * @example
 * ```ts
 * const settings = versionFairness(registry)
 * await settings({ model: 'credit', version: '3' }) // { columns: ['group'], classes: ['deny', 'approve'] }
 * ```
 */
export function versionFairness(registry: Pick<Registry, 'getVersion' | 'getRun'>): FairnessSettingsSource {
  const known = new Map<string, Promise<FairnessSettings | undefined>>();
  const read = async (model: string, version: string): Promise<FairnessSettings | undefined> => {
    const number = Number(version);
    if (!Number.isInteger(number)) return undefined;
    const record = await unlessGone(registry.getVersion(model, number));
    const runId = record?.lineage.runId;
    if (record === undefined || runId === undefined) return undefined;
    const run = await unlessGone(registry.getRun(runId));
    const params = RunParamsSchema.safeParse(run?.params);
    const columns = params.success ? (params.data.card?.sensitive ?? []) : [];
    if (columns.length === 0) return undefined;
    const classes = parseClasses(record.metadata[CLASSES_METADATA_KEY]);
    return { columns, ...(classes !== undefined && { classes }) };
  };
  return ({ model, version }) => {
    const key = `${model}\u0000${version}`;
    let settings = known.get(key);
    if (settings === undefined) {
      settings = read(model, version);
      known.set(key, settings);
      // A failed read (the store down) is tried again next time rather than remembered.
      settings.catch(() => known.delete(key));
    }
    return settings;
  };
}

/** The record, or undefined when it is gone (a deleted version or run): such a version has no settings. */
async function unlessGone<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof StratumError && (error.code === 'NOT_FOUND' || error.code.endsWith('_NOT_FOUND'))) {
      return undefined;
    }
    throw error;
  }
}

function parseClasses(text: string | undefined): ClassValue[] | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = ClassesSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
