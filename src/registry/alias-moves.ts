/**
 * Alias moves under the deployment rules: every deployment routing through an alias follows it, so
 * a move (`setAlias`, or a version registered behind the alias) is checked against each of them
 * (`signature-check.ts`) and, once made, recorded in each one's events — with what the check let
 * through: a rollback to a version it served before, or a forced move and its reason. The alias
 * history records the move itself, `forced` included, in the same write.
 */
import { StratumError } from '../errors/index.ts';
import type { AliasMove, AliasRecord, DeploymentRecord, MetadataStore } from '../store/metadata-store.ts';
import type { Deployment } from './deployment-spec.ts';
import { AliasNameSchema } from './names.ts';
import {
  type Candidate,
  checkOverride,
  describeOutcome,
  type FitOutcome,
  type Override,
  outcomeDetail,
  type SignatureCheck,
} from './signature-check.ts';

/** An alias move as the registry takes it: the store's, plus the override and who causes it. */
export interface CheckedAliasMove extends AliasMove {
  /** Move even where the signature does not fit (needs `reason`). @default false */
  readonly force?: boolean;
  /** The deployment whose rollout moves the alias: its own event tells the story, so it gets no `alias-moved` event. */
  readonly via?: string;
}

/** What {@link AliasMoves.checkAliasMove} found: the alias now, and each deployment following it. */
export interface AliasMoveCheck {
  /** The alias's revision (0 when it does not exist yet). */
  readonly revision: number;
  /** The version it points at now (undefined when it does not exist yet). */
  readonly from: number | undefined;
  readonly followers: readonly { readonly deployment: string; readonly outcome: FitOutcome }[];
  /** Whether the move needs its force (some follower's check was let through by it). */
  readonly forced: boolean;
}

/** Checked alias moves. */
export interface AliasMoves {
  /**
   * The checks moving `alias` to `candidate` runs against every deployment routing through it,
   * without moving anything (before training, before registering a version behind the alias).
   */
  checkAliasMove(options: {
    model: string;
    alias: string;
    candidate: Candidate;
    override?: Override;
  }): Promise<AliasMoveCheck>;
  /** Appends an `alias-moved` event to each follower whose served version changed (not to `via`). */
  recordAliasMove(options: { move: CheckedAliasMove; check: AliasMoveCheck }): Promise<void>;
  /** Moves an alias, refused when a deployment routing through it would then serve a misfit. */
  setAlias(move: CheckedAliasMove): Promise<AliasRecord>;
}

/** What the alias moves need of the deployment rules. */
export interface AliasMovesDeps {
  readonly store: MetadataStore;
  readonly signatures: SignatureCheck;
  readonly toDeployment: (record: DeploymentRecord) => Deployment;
  readonly currentPrimary: (deployment: Deployment) => Promise<number>;
}

/** Creates the alias moves over the rules' store and signature check. */
export function createAliasMoves(deps: AliasMovesDeps): AliasMoves {
  const { store, signatures, toDeployment, currentPrimary } = deps;

  async function checkAliasMove(options: {
    model: string;
    alias: string;
    candidate: Candidate;
    override?: Override;
  }): Promise<AliasMoveCheck> {
    const { model, alias, candidate, override } = options;
    const target = candidate.version === undefined ? 'a new version' : `version ${candidate.version}`;
    checkOverride(override, `moving alias "${alias}" to ${target}`);
    const current = await store.getAlias(model, alias).catch((error: unknown) => {
      if (error instanceof StratumError && (error.code === 'ALIAS_NOT_FOUND' || error.code === 'MODEL_NOT_FOUND')) {
        return undefined;
      }
      throw error;
    });
    const followers: { deployment: string; outcome: FitOutcome }[] = [];
    if (current !== undefined) {
      // Every deployment that routes through the alias will follow it: it must fit them all.
      const users = await store.listDeployments({ model, limit: 1000 });
      for (const record of users.items) {
        if (!record.aliasRefs.includes(alias)) continue;
        const deployment = toDeployment(record);
        const outcome = await signatures.check({
          model,
          reference: await currentPrimary(deployment),
          candidates: [candidate],
          deployment,
          what: `moving alias "${alias}" to ${target} (used by deployment "${record.name}")`,
          ...(override !== undefined && { override }),
        });
        followers.push({ deployment: record.name, outcome });
      }
    }
    return {
      revision: current?.revision ?? 0,
      from: current?.version,
      followers,
      forced: followers.some((f) => f.outcome.forced.length > 0),
    };
  }

  async function recordAliasMove({ move, check }: { move: CheckedAliasMove; check: AliasMoveCheck }) {
    const override = { force: move.force, reason: move.reason };
    for (const { deployment, outcome } of check.followers) {
      if (deployment === move.via || check.from === move.version) continue;
      await store.appendDeploymentEvent({
        deployment,
        kind: 'alias-moved',
        message: `alias "${move.alias}" moved from version ${check.from ?? '–'} to version ${move.version}${move.reason ? ` (${move.reason})` : ''}${describeOutcome(outcome, override)}`,
        detail: {
          alias: move.alias,
          from: check.from ?? null,
          to: move.version,
          reason: move.reason ?? '',
          ...outcomeDetail(outcome, override),
        },
        by: move.by,
      });
    }
  }

  return {
    checkAliasMove,
    recordAliasMove,
    async setAlias(move) {
      const parsed = AliasNameSchema.safeParse(move.alias);
      if (!parsed.success) {
        throw new StratumError('BAD_REQUEST', `alias "${move.alias}" ${parsed.error.issues[0]?.message}`);
      }
      const target = await store.getVersion(move.model, move.version);
      const check = await checkAliasMove({
        model: move.model,
        alias: move.alias,
        candidate: { version: target.version, signature: target.signature },
        override: { force: move.force, reason: move.reason },
      });
      const record = await store.setAlias({
        model: move.model,
        alias: move.alias,
        version: move.version,
        by: move.by,
        forced: check.forced,
        ...(move.reason !== undefined && { reason: move.reason }),
        ...(move.expectedRevision !== undefined && { expectedRevision: move.expectedRevision }),
      });
      await recordAliasMove({ move, check });
      return record;
    },
  };
}
