/**
 * What a linear-model checkpoint holds (mini-batch optimisers): the parameters, Adam's moments
 * and step, the epoch, the learning curve and the early-stopping best. The mini-batch order is not
 * stored: a resumed run replays the epochs' seeded shuffles, which restores both the order and
 * the generator's position.
 */
import { StratumError } from '../../errors/index.ts';
import {
  decodeFloat64,
  encodeFloat64,
  readCheckpoint,
  writeCheckpoint,
  type Fingerprint,
} from '../checkpoint/checkpoint-file.ts';
import type { LinearHistoryEntry } from './linear-model.ts';

/** The state of a mini-batch run after an epoch. */
export interface LinearCheckpointState {
  /** Epochs completed. */
  readonly epoch: number;
  /** Parameters `[W, b]`. */
  readonly theta: Float64Array;
  /** Adam first moments (zeros for SGD). */
  readonly m: Float64Array;
  /** Adam second moments (zeros for SGD). */
  readonly v: Float64Array;
  /** Adam steps taken. */
  readonly step: number;
  /** Learning curve so far. */
  readonly history: LinearHistoryEntry[];
  /** Early stopping's best epoch so far, if any. */
  readonly best: { epoch: number; monitored: number; theta: Float64Array } | undefined;
}

const KIND = 'linear';

/** Writes `state` atomically to `path`. */
export function writeLinearCheckpoint(args: {
  path: string;
  fingerprint: Fingerprint;
  state: LinearCheckpointState;
}): void {
  const { state } = args;
  writeCheckpoint({
    path: args.path,
    kind: KIND,
    fingerprint: args.fingerprint,
    state: {
      epoch: state.epoch,
      theta: encodeFloat64(state.theta),
      m: encodeFloat64(state.m),
      v: encodeFloat64(state.v),
      step: state.step,
      history: state.history,
      best:
        state.best === undefined
          ? null
          : { epoch: state.best.epoch, monitored: state.best.monitored, theta: encodeFloat64(state.best.theta) },
    },
  });
}

/** Reads a checkpoint of a run with `fingerprint` and parameter count `size`. @throws StratumError BAD_REQUEST otherwise. */
export function readLinearCheckpoint(args: {
  path: string;
  fingerprint: Fingerprint;
  size: number;
}): LinearCheckpointState {
  const raw = readCheckpoint({ path: args.path, kind: KIND, fingerprint: args.fingerprint }) as Record<
    string,
    unknown
  > | null;
  const invalid = (): never => {
    throw new StratumError('BAD_REQUEST', `resumeFrom: ${args.path} is not a valid linear-model checkpoint`);
  };
  if (raw === null || typeof raw !== 'object') return invalid();
  const vector = (value: unknown): Float64Array => {
    if (typeof value !== 'string') return invalid();
    const decoded = decodeFloat64(value);
    return decoded.length === args.size ? decoded : invalid();
  };
  const best = raw.best as { epoch?: unknown; monitored?: unknown; theta?: unknown } | null;
  if (!Number.isSafeInteger(raw.epoch) || !Number.isSafeInteger(raw.step) || !Array.isArray(raw.history)) invalid();
  return {
    epoch: raw.epoch as number,
    theta: vector(raw.theta),
    m: vector(raw.m),
    v: vector(raw.v),
    step: raw.step as number,
    history: raw.history as LinearHistoryEntry[],
    best:
      best === null || best === undefined
        ? undefined
        : { epoch: Number(best.epoch), monitored: Number(best.monitored), theta: vector(best.theta) },
  };
}
