/**
 * Registering a version: the one write of the registry that touches both stores (the artifact
 * first, then the version row that refers to it). A version registered behind an alias is checked
 * like any alias move first, and written together with the move: a refused move leaves no version
 * and uses no version number.
 */
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { signatureFromGraph } from '../onnx/graph-signature.ts';
import { EXPLAIN_METADATA_KEY } from '../explain/explain-metadata.ts';
import { readModelMetadata } from '../onnx/model-metadata.ts';
import type { Signature } from '../tensor/signature.ts';
import type { Lineage, MetadataStore, VersionRecord } from '../store/metadata-store.ts';
import type { DeploymentRules } from './deployment-rules.ts';
import { AliasNameSchema, ResourceNameSchema } from './names.ts';

/** A new version to register. */
export interface PushVersion {
  readonly model: string;
  /** The ONNX file. */
  readonly bytes: Uint8Array;
  readonly by: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly metrics?: Readonly<Record<string, number>>;
  readonly lineage?: Lineage;
  /** Description of the model when this push creates it. */
  readonly modelDescription?: string;
  /**
   * Point this alias at the new version in the same write, after the checks of an alias move
   * (`force` with a `reason` lets a misfit through, as `setAlias` does).
   */
  readonly alias?: { readonly name: string; readonly reason?: string; readonly force?: boolean };
}

/** What a push writes to. */
export interface PushDeps {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly logger: Logger;
  /** Largest model file accepted (bytes). */
  readonly maxBytes: number;
  /** The alias checks. */
  readonly rules: Pick<DeploymentRules, 'checkAliasMove' | 'recordAliasMove'>;
}

/**
 * Registers a version: the file is parsed as ONNX (its signature read from the graph) before
 * anything is stored, so a file that is not a model leaves no trace; the model is created on its
 * first push.
 */
export async function pushVersion(deps: PushDeps, push: PushVersion): Promise<VersionRecord> {
  const { store, artifacts, logger, maxBytes, rules } = deps;
  const name = ResourceNameSchema.safeParse(push.model);
  if (!name.success) {
    throw new StratumError('BAD_REQUEST', `model name "${push.model}" ${name.error.issues[0]?.message}`);
  }
  const alias = push.alias;
  if (alias !== undefined) {
    const parsed = AliasNameSchema.safeParse(alias.name);
    if (!parsed.success)
      throw new StratumError('BAD_REQUEST', `alias "${alias.name}" ${parsed.error.issues[0]?.message}`);
  }
  if (push.bytes.length > maxBytes) {
    throw new StratumError('BODY_TOO_LARGE', `the model file is ${push.bytes.length} bytes; the limit is ${maxBytes}`);
  }
  // Parse before storing anything: a file that is not a model leaves no trace.
  const signature: Signature = signatureFromGraph(push.bytes);
  // The explanation entry (tree covers) grows with the model and is read from the bytes, so the
  // version's record keeps only the small entries.
  const metadata = readModelMetadata(push.bytes);
  delete metadata[EXPLAIN_METADATA_KEY];
  const check =
    alias === undefined
      ? undefined
      : await rules.checkAliasMove({
          model: push.model,
          alias: alias.name,
          candidate: { signature },
          override: { force: alias.force, reason: alias.reason },
        });
  // If writing the version fails, the artifact stays for garbage collection: a concurrent push
  // of the same bytes may be about to refer to it.
  const artifact = await artifacts.put(push.bytes, { maxBytes });
  await store.getModel(push.model).catch(async (error: unknown) => {
    if (!(error instanceof StratumError) || error.code !== 'MODEL_NOT_FOUND') throw error;
    await store
      .createModel({
        name: push.model,
        by: push.by,
        ...(push.modelDescription !== undefined && { description: push.modelDescription }),
      })
      .catch((e: unknown) => {
        // Two first pushes of the same model at once: the other one created it.
        if (!(e instanceof StratumError) || e.code !== 'ALREADY_EXISTS') throw e;
      });
  });
  const version = await store.createVersion({
    model: push.model,
    artifactDigest: artifact.digest,
    artifactSize: artifact.size,
    signature,
    metadata,
    by: push.by,
    ...(push.description !== undefined && { description: push.description }),
    ...(push.tags !== undefined && { tags: push.tags }),
    ...(push.metrics !== undefined && { metrics: push.metrics }),
    ...(push.lineage !== undefined && { lineage: push.lineage }),
    ...(alias !== undefined &&
      check !== undefined && {
        // Checked at this revision: if the alias moved since, nothing is written (PRECONDITION_FAILED).
        alias: {
          name: alias.name,
          forced: check.forced,
          expectedRevision: check.revision,
          ...(alias.reason !== undefined && { reason: alias.reason }),
        },
      }),
  });
  logger.info({ model: push.model, version: version.version, digest: artifact.digest }, 'version registered');
  if (alias !== undefined && check !== undefined) {
    await rules.recordAliasMove({
      move: {
        model: push.model,
        alias: alias.name,
        version: version.version,
        by: push.by,
        ...(alias.reason !== undefined && { reason: alias.reason }),
        ...(alias.force !== undefined && { force: alias.force }),
      },
      check,
    });
  }
  return version;
}
