/**
 * The single error type that crosses Stratum's layers. Code decides the status; the message is
 * for a person (what was wrong, what was received, what to do); details are for a program.
 */
import { type ErrorCode, grpcStatusOf, httpStatusOf } from './codes.ts';

/** Options of a {@link StratumError}. */
export interface StratumErrorOptions {
  /** Machine-readable context (input name, expected and received shapes, …). */
  details?: Record<string, unknown>;
  /** The underlying error, kept for logs and never sent to clients. */
  cause?: unknown;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
}

/** An error with a catalogued code. */
export class StratumError extends Error {
  override readonly name = 'StratumError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: StratumErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return httpStatusOf(this.code);
  }

  /** gRPC status for this error's code. */
  get grpcStatus(): number {
    return grpcStatusOf(this.code);
  }
}

/** True for a {@link StratumError}. */
export function isStratumError(value: unknown): value is StratumError {
  return value instanceof StratumError;
}

/**
 * Normalises anything thrown into a {@link StratumError}. Unknown throwables become INTERNAL with a
 * generic message, so a 500 never leaks internals; the original is kept as `cause` for the log.
 */
export function toStratumError(value: unknown): StratumError {
  if (value instanceof StratumError) return value;
  return new StratumError('INTERNAL', 'internal server error', { cause: value });
}
