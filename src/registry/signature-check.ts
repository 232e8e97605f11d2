/**
 * The signature check every move obeys (an alias set, a rollout, a deployment update, a version
 * registered behind an alias): the versions a deployment would serve must accept the inputs its
 * clients send and return the outputs they read (`signature-diff.ts`). What clients use is what
 * the serving replicas recorded (`MetadataStore.clientUsage`); before any traffic is recorded,
 * every input and output of the version serving now counts. A request without an `outputs` list
 * receives every output, so it counts as reading each one it received.
 *
 * Two ways past a failed check: a version that served the deployment before may always be rolled
 * back to (`served-versions.ts`), and an explicit override (`force` with a `reason`), which the
 * caller records in the alias history and the deployment's events.
 */
import { StratumError } from '../errors/index.ts';
import type { ClientUsage, MetadataStore } from '../store/metadata-store.ts';
import type { Signature } from '../tensor/signature.ts';
import { servedVersions, type ServedHistorySubject } from './served-versions.ts';
import { signatureDifferences } from './signature-diff.ts';

/** How a move may get past a failed signature check: `force` needs a `reason`. */
export interface Override {
  readonly force?: boolean | undefined;
  readonly reason?: string | undefined;
}

/** A version a move would serve; `version` is absent for one not registered yet. */
export interface Candidate {
  readonly version?: number;
  readonly signature: Signature;
}

/** What a check let through, for the move's event. */
export interface FitOutcome {
  /** Misfits allowed because they served the deployment before. */
  readonly rollbacks: readonly { readonly version: number; readonly differences: readonly string[] }[];
  /** Differences let through by force (empty unless forced). */
  readonly forced: readonly string[];
}

/** Options of {@link SignatureCheck.check}. */
export interface CheckOptions {
  readonly model: string;
  /** The version serving the deployment now: the dtypes and shapes clients already send and read. */
  readonly reference: number;
  readonly candidates: readonly Candidate[];
  /** Whose clients and history count; absent for a deployment being created (it has neither). */
  readonly deployment?: ServedHistorySubject;
  /** The move, for the message: `moving alias "production" to version 3 (used by deployment "x")`. */
  readonly what: string;
  readonly override?: Override;
}

/** The check over a store. */
export interface SignatureCheck {
  /**
   * Resolves with what it let through, or throws SIGNATURE_MISMATCH naming every difference, what
   * they were checked against and how to move anyway.
   */
  check(options: CheckOptions): Promise<FitOutcome>;
}

const NOTHING_LET_THROUGH: FitOutcome = Object.freeze({ rollbacks: [], forced: [] });

/** How the 409 of a move says which option to use (a new deployment has no history and no override). */
const FORCE_HINT =
  ' To move anyway, pass --force with --reason "…" (API: "force": true, "reason": "…"); a version that served the deployment before can always be rolled back to.';

/**
 * Refuses `force` without a reason (BAD_REQUEST): an override is recorded, and a record without a
 * why is no record.
 */
export function checkOverride(override: Override | undefined, where: string): void {
  if (override?.force === true && (override.reason ?? '').trim() === '') {
    throw new StratumError(
      'BAD_REQUEST',
      `${where}: "force": true needs a non-empty "reason" (it is recorded with the move); CLI: --force --reason "…"`,
    );
  }
}

/** Creates the check over the store's versions, client usage and histories. */
export function createSignatureCheck(
  store: Pick<MetadataStore, 'getVersion' | 'clientUsage' | 'deploymentEvents' | 'aliasHistory'>,
): SignatureCheck {
  return {
    async check(options) {
      const { model, deployment, override } = options;
      const reference = await store.getVersion(model, options.reference);
      const usage = deployment === undefined ? undefined : await store.clientUsage(deployment.name);
      const needs = usage !== undefined && usage.inputs.length + usage.outputs.length > 0 ? usage : undefined;
      const misfits: { version: number | undefined; differences: string[] }[] = [];
      for (const candidate of options.candidates) {
        if (candidate.version === reference.version) continue;
        const differences = signatureDifferences(reference.signature, candidate.signature, needs);
        if (differences.length > 0) misfits.push({ version: candidate.version, differences });
      }
      if (misfits.length === 0) return NOTHING_LET_THROUGH;
      const served = deployment === undefined ? new Set<number>() : await servedVersions(store, deployment);
      const rollbacks = misfits.flatMap((m) =>
        m.version !== undefined && served.has(m.version) ? [{ version: m.version, differences: m.differences }] : [],
      );
      const problems = misfits
        .filter((m) => m.version === undefined || !served.has(m.version))
        .map(
          (m) =>
            `${m.version === undefined ? 'the new version' : `version ${m.version}`} vs version ${reference.version}: ${m.differences.join('; ')}`,
        );
      if (problems.length === 0) return { rollbacks, forced: [] };
      if (override?.force === true) return { rollbacks, forced: problems };
      throw new StratumError(
        'SIGNATURE_MISMATCH',
        `${options.what}: the signature does not fit — ${problems.join(' | ')}. ${basisOf({ deployment, needs, reference: reference.version })}${deployment === undefined ? '' : FORCE_HINT}`,
        {
          details: {
            differences: problems,
            ...(deployment !== undefined && { deployment: deployment.name }),
            checkedAgainst: needs ?? { version: reference.version },
          },
        },
      );
    },
  };
}

/** What the differences were checked against, as the message says it. */
function basisOf(options: {
  deployment: ServedHistorySubject | undefined;
  needs: ClientUsage | undefined;
  reference: number;
}): string {
  const { deployment, needs, reference } = options;
  if (deployment === undefined) return `Every input and output of version ${reference} counts.`;
  if (needs === undefined) {
    return `No traffic is recorded for deployment "${deployment.name}" yet, so every input and output of version ${reference} counts.`;
  }
  const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '));
  return `Checked against what clients of deployment "${deployment.name}" use (inputs ${list(needs.inputs)}; outputs ${list(needs.outputs)}; a request without an "outputs" list counts as reading every output it received).`;
}

/** How a move's event tells what its check let through: '' when nothing. */
export function describeOutcome(outcome: FitOutcome, override: Override | undefined): string {
  const parts: string[] = [];
  for (const r of outcome.rollbacks) {
    parts.push(`rollback to version ${r.version}, which served the deployment before (${r.differences.join('; ')})`);
  }
  if (outcome.forced.length > 0) {
    parts.push(`forced past the signature check: ${override?.reason ?? ''} (${outcome.forced.join(' | ')})`);
  }
  return parts.length === 0 ? '' : ` — ${parts.join('; ')}`;
}

/** The event detail of what a check let through (empty when nothing). */
export function outcomeDetail(outcome: FitOutcome, override: Override | undefined): Record<string, unknown> {
  if (outcome.rollbacks.length === 0 && outcome.forced.length === 0) return {};
  return {
    signatureCheck: {
      ...(outcome.rollbacks.length > 0 && { rollbacks: outcome.rollbacks }),
      ...(outcome.forced.length > 0 && { forced: true, reason: override?.reason ?? '', differences: outcome.forced }),
    },
  };
}
