/**
 * Registering a version: the one write of the registry that touches both stores (the artifact
 * first, then the version row that refers to it).
 */
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { signatureFromGraph } from '../onnx/graph-signature.ts';
import type { Signature } from '../tensor/signature.ts';
import type { Lineage, MetadataStore, VersionRecord } from '../store/metadata-store.ts';
import { ResourceNameSchema } from './names.ts';

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
}

/** What a push writes to. */
export interface PushDeps {
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly logger: Logger;
  /** Largest model file accepted (bytes). */
  readonly maxBytes: number;
}

/**
 * Registers a version: the file is parsed as ONNX (its signature read from the graph) before
 * anything is stored, so a file that is not a model leaves no trace; the model is created on its
 * first push.
 */
export async function pushVersion(deps: PushDeps, push: PushVersion): Promise<VersionRecord> {
  const { store, artifacts, logger, maxBytes } = deps;
  const name = ResourceNameSchema.safeParse(push.model);
  if (!name.success) {
    throw new StratumError('BAD_REQUEST', `model name "${push.model}" ${name.error.issues[0]?.message}`);
  }
  if (push.bytes.length > maxBytes) {
    throw new StratumError('BODY_TOO_LARGE', `the model file is ${push.bytes.length} bytes; the limit is ${maxBytes}`);
  }
  // Parse before storing anything: a file that is not a model leaves no trace.
  const signature: Signature = signatureFromGraph(push.bytes);
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
    by: push.by,
    ...(push.description !== undefined && { description: push.description }),
    ...(push.tags !== undefined && { tags: push.tags }),
    ...(push.metrics !== undefined && { metrics: push.metrics }),
    ...(push.lineage !== undefined && { lineage: push.lineage }),
  });
  logger.info({ model: push.model, version: version.version, digest: artifact.digest }, 'version registered');
  return version;
}
