/**
 * What a GBDT checkpoint holds: the trees so far (with their split
 * bins), the generator position, the round and the early-stopping bookkeeping. Scores are not
 * stored; a resumed run replays the trees, which adds the same values in the same order.
 */
import { StratumError } from '../../errors/index.ts';
import { readCheckpoint, writeCheckpoint, type Fingerprint } from '../checkpoint/checkpoint-file.ts';
import type { GbdtTree } from './gbdt-model.ts';

/** The state of a GBDT run after a round. */
export interface GbdtCheckpointState {
  /** Rounds completed. */
  readonly round: number;
  /** Trees per round. */
  readonly trees: GbdtTree[][];
  /** Split bins per round and output, parallel to `trees`. */
  readonly binThresholds: number[][][];
  /** Validation loss per round. */
  readonly validationLoss: number[];
  /** Early stopping: best round so far (0-based), or -1. */
  readonly bestRound: number;
  /** Early stopping: best validation loss so far (Infinity before any). */
  readonly bestLoss: number;
  /** Numbers drawn from the seeded generator so far. */
  readonly randomDraws: number;
}

const KIND = 'gbdt';

/** Writes `state` atomically to `path`. */
export function writeGbdtCheckpoint(args: {
  path: string;
  fingerprint: Fingerprint;
  state: GbdtCheckpointState;
}): void {
  const { state } = args;
  writeCheckpoint({
    path: args.path,
    kind: KIND,
    fingerprint: args.fingerprint,
    // JSON has no Infinity; null stands for "no best loss yet".
    state: { ...state, bestLoss: Number.isFinite(state.bestLoss) ? state.bestLoss : null },
  });
}

/** Reads a checkpoint of a run with `fingerprint`. @throws StratumError BAD_REQUEST otherwise. */
export function readGbdtCheckpoint(args: { path: string; fingerprint: Fingerprint }): GbdtCheckpointState {
  const state = readCheckpoint({ path: args.path, kind: KIND, fingerprint: args.fingerprint }) as Record<
    string,
    unknown
  > | null;
  const ok =
    state !== null &&
    typeof state === 'object' &&
    Number.isSafeInteger(state.round) &&
    Array.isArray(state.trees) &&
    Array.isArray(state.binThresholds) &&
    state.trees.length === state.binThresholds.length &&
    Array.isArray(state.validationLoss) &&
    Number.isSafeInteger(state.bestRound) &&
    (state.bestLoss === null || typeof state.bestLoss === 'number') &&
    Number.isSafeInteger(state.randomDraws);
  if (!ok) throw new StratumError('BAD_REQUEST', `resumeFrom: ${args.path} is not a valid GBDT checkpoint`);
  return {
    round: state.round as number,
    trees: state.trees as GbdtTree[][],
    binThresholds: state.binThresholds as number[][][],
    validationLoss: state.validationLoss as number[],
    bestRound: state.bestRound as number,
    bestLoss: state.bestLoss === null ? Infinity : (state.bestLoss as number),
    randomDraws: state.randomDraws as number,
  };
}
