/**
 * An error as it crosses a thread boundary: structured clone keeps no class, so a thread posts the
 * code, message and details, and the other side builds the StratumError again.
 */
import { type ErrorCode, StratumError } from './index.ts';

/** A StratumError's parts, posted between threads. */
export interface ThreadFailure {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/** The parts of what was thrown (anything not a StratumError is INTERNAL with its message). */
export function toThreadFailure(error: unknown): ThreadFailure {
  const stratum =
    error instanceof StratumError
      ? error
      : new StratumError('INTERNAL', error instanceof Error ? error.message : String(error));
  return {
    code: stratum.code,
    message: stratum.message,
    ...(stratum.details !== undefined && { details: stratum.details }),
  };
}

/** The StratumError a thread posted. */
export function fromThreadFailure(failure: ThreadFailure): StratumError {
  return new StratumError(failure.code as ErrorCode, failure.message, {
    ...(typeof failure.details === 'object' &&
      failure.details !== null && { details: failure.details as Record<string, unknown> }),
  });
}
