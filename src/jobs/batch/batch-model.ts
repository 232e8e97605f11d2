/**
 * The model of a batch: a registry reference (`name`, `name:3`, `name@alias`) or an `.onnx` file,
 * resolved once when the batch is planned to a fixed version and digest, so every chunk — on any
 * worker, before or after a crash — runs the same model even if the alias moves meanwhile.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { StratumError } from '../../errors/index.ts';
import { CLASSES_METADATA_KEY, readModelMetadata } from '../../onnx/model-metadata.ts';
import type { Registry } from '../../registry/registry.ts';

/** The model a plan names: where its bytes come from and their digest. */
export type PlannedModel =
  | { readonly kind: 'file'; readonly path: string; readonly digest: string }
  | { readonly kind: 'registry'; readonly model: string; readonly version: number; readonly digest: string };

/** A resolved model: its bytes and what the batch needs from its metadata. */
export interface ResolvedModel {
  readonly planned: PlannedModel;
  readonly bytes: Uint8Array;
  /** A classifier's class names (`stratum.classes`), entry k naming label k. */
  readonly classes?: readonly string[];
  /** For messages and results: `iris:3` or the file path. */
  readonly label: string;
}

/** A registry reference as written on the command line. */
export type ModelRef =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'registry'; readonly model: string; readonly version?: number; readonly alias?: string };

/** Reads `name`, `name:3`, `name@alias` or a path to an `.onnx` file. */
export function parseModelRef(ref: string): ModelRef {
  if (/\.onnx$/i.test(ref) || ref.includes('/') || ref.includes('\\')) return { kind: 'file', path: ref };
  const at = ref.indexOf('@');
  if (at > 0) return { kind: 'registry', model: ref.slice(0, at), alias: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > 0) {
    const version = Number(ref.slice(colon + 1));
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new StratumError('BAD_REQUEST', `model "${ref}": expected name:VERSION with a version >= 1`);
    }
    return { kind: 'registry', model: ref.slice(0, colon), version };
  }
  return { kind: 'registry', model: ref };
}

/** Resolves the spec's model reference to a fixed version (planning). */
export async function resolveModel(options: { ref: string; registry?: Registry | undefined }): Promise<ResolvedModel> {
  const ref = parseModelRef(options.ref);
  if (ref.kind === 'file') {
    const bytes = await readModelFile(ref.path);
    return withMetadata({ planned: { kind: 'file', path: ref.path, digest: digestOf(bytes) }, bytes });
  }
  const registry = requireRegistry(options.registry, ref.model);
  let version = ref.version;
  if (ref.alias !== undefined) version = (await registry.getAlias(ref.model, ref.alias)).version;
  if (version === undefined) {
    const newest = await registry.listVersions(ref.model, { status: 'ready', limit: 1 });
    const first = newest.items[0];
    if (first === undefined) {
      throw new StratumError('VERSION_NOT_FOUND', `model "${ref.model}" has no ready version`, {
        details: { model: ref.model },
      });
    }
    version = first.version;
  }
  return loadPlannedModel({
    planned: { kind: 'registry', model: ref.model, version, digest: '' },
    registry,
  });
}

/**
 * The bytes of a model a plan names. A file whose content changed since planning is refused
 * (CONFLICT): the chunks already written came from the old one.
 */
export async function loadPlannedModel(options: {
  planned: PlannedModel;
  registry?: Registry | undefined;
}): Promise<ResolvedModel> {
  const { planned } = options;
  if (planned.kind === 'file') {
    const bytes = await readModelFile(planned.path);
    if (digestOf(bytes) !== planned.digest) {
      throw new StratumError(
        'PRECONDITION_FAILED',
        `model file ${planned.path} changed since the batch was planned; remove the output's .parts folder to start over`,
        { details: { path: planned.path } },
      );
    }
    return withMetadata({ planned, bytes });
  }
  const registry = requireRegistry(options.registry, planned.model);
  const record = await registry.getVersion(planned.model, planned.version);
  const bytes = await registry.readArtifact(record.artifactDigest);
  return withMetadata({ planned: { ...planned, digest: record.artifactDigest }, bytes });
}

function requireRegistry(registry: Registry | undefined, model: string): Registry {
  if (registry !== undefined) return registry;
  throw new StratumError(
    'BAD_REQUEST',
    `model "${model}" names a registry model, but no registry is open here (give the path of an .onnx file instead)`,
  );
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new StratumError('NOT_FOUND', `model file ${path}: cannot read it (${(error as Error).message})`, {
      cause: error,
      details: { path },
    });
  }
}

function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function withMetadata(model: { planned: PlannedModel; bytes: Uint8Array }): ResolvedModel {
  const { planned } = model;
  const label = planned.kind === 'file' ? planned.path : `${planned.model}:${planned.version}`;
  const classes = classesOf(model.bytes, label);
  return { ...model, label, ...(classes !== undefined && { classes }) };
}

function classesOf(bytes: Uint8Array, label: string): string[] | undefined {
  let text: string | undefined;
  try {
    text = readModelMetadata(bytes)[CLASSES_METADATA_KEY];
  } catch (error) {
    throw new StratumError('INVALID_MODEL', `${label}: not an ONNX model`, { cause: error });
  }
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed.map((c) => String(c));
  } catch {
    // Unreadable class names: labels are written as numbers, as without any.
  }
  return undefined;
}
