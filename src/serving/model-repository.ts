/**
 * Reads a model repository folder: `<dir>/<model>/<version>/model.onnx` with an optional
 * `<dir>/<model>/config.json`. Version folders are positive integers, as in Triton and KServe.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StratumError } from '../errors/index.ts';
import { type ModelConfig, parseModelConfig } from './model-config.ts';

/** A version folder with its model file. */
export interface RepositoryVersion {
  readonly version: string;
  readonly file: string;
  /** Modification time and size, to notice a replaced file. */
  readonly stamp: string;
}

/** What the repository holds for one model. */
export interface RepositoryModel {
  readonly name: string;
  readonly config: ModelConfig;
  /** Stamp of config.json ('' when absent). */
  readonly configStamp: string;
  /** Ascending by version number. */
  readonly versions: readonly RepositoryVersion[];
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const VERSION_NAME = /^[1-9][0-9]{0,8}$/;

/** True for a valid model name (also used to keep request paths inside the repository). */
export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name);
}

/**
 * The model names in the repository (folders with a valid name).
 * @throws StratumError CONFIG_INVALID when `dir` is not a readable folder (a mistyped `--models`).
 */
export async function listRepositoryModels(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : 'cannot be read';
    throw new StratumError('CONFIG_INVALID', `the model repository ${dir} ${why} (--models, STRATUM_MODELS_DIR)`, {
      details: { setting: 'modelsDir', path: dir },
      cause: error,
    });
  });
  return entries
    .filter((e) => e.isDirectory() && isValidModelName(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Reads one model's config and versions.
 * @throws StratumError MODEL_NOT_FOUND when the folder does not exist, INVALID_MODEL for a bad config.
 */
export async function readRepositoryModel(dir: string, name: string): Promise<RepositoryModel> {
  if (!isValidModelName(name)) throw new StratumError('MODEL_NOT_FOUND', `no model "${name}" in the repository`);
  const modelDir = join(dir, name);
  let entries;
  try {
    entries = await readdir(modelDir, { withFileTypes: true });
  } catch {
    throw new StratumError('MODEL_NOT_FOUND', `no model "${name}" in the repository`);
  }
  let config: ModelConfig = {};
  let configStamp = '';
  const configFile = join(modelDir, 'config.json');
  const configStat = await stat(configFile).catch(() => undefined);
  if (configStat?.isFile()) {
    configStamp = `${configStat.mtimeMs}:${configStat.size}`;
    config = parseModelConfig(await readFile(configFile, 'utf8'), `${name}/config.json`);
    // A changed warm-up file changes the model as much as a changed config.json does.
    const requests = typeof config.warmup === 'object' ? config.warmup.requests : undefined;
    if (requests !== undefined) {
      const s = await stat(join(modelDir, requests)).catch(() => undefined);
      configStamp += s === undefined ? '|missing' : `|${s.mtimeMs}:${s.size}`;
    }
  }
  const versions: RepositoryVersion[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !VERSION_NAME.test(e.name)) continue;
    const file = join(modelDir, e.name, 'model.onnx');
    const s = await stat(file).catch(() => undefined);
    if (s?.isFile()) versions.push({ version: e.name, file, stamp: `${s.mtimeMs}:${s.size}` });
  }
  versions.sort((a, b) => Number(a.version) - Number(b.version));
  return { name, config, configStamp, versions };
}

/** The versions a policy selects. */
export function selectVersions(
  versions: readonly RepositoryVersion[],
  policy: NonNullable<ModelConfig['versionPolicy']>,
): RepositoryVersion[] {
  if ('all' in policy) return [...versions];
  if ('specific' in policy) return versions.filter((v) => policy.specific.includes(Number(v.version)));
  return versions.slice(Math.max(0, versions.length - policy.latest));
}
