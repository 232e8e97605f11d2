/**
 * The one error the ONNX codec throws, so callers (model upload, signature reading) can tell
 * "these bytes are not an ONNX model" apart from every other failure and show the reason.
 */

/** Options for {@link OnnxDecodeError}. */
export interface OnnxDecodeErrorOptions {
  /** Why decoding failed, in the parser's words (e.g. `invalid wire type 4 at offset 1`). */
  readonly reason: string;
  /** The underlying parser error, when there is one. */
  readonly cause?: unknown;
}

/**
 * Thrown by `decodeModel` when bytes are not a well-formed ONNX `ModelProto`.
 *
 * @example
 * ```ts
 * try { decodeModel(bytes) } catch (err) {
 *   if (err instanceof OnnxDecodeError) console.error(err.reason)
 * }
 * ```
 */
export class OnnxDecodeError extends Error {
  /** Why decoding failed, in the parser's words. */
  readonly reason: string;

  constructor(options: OnnxDecodeErrorOptions) {
    super(`invalid ONNX model: ${options.reason}`, { cause: options.cause });
    this.name = 'OnnxDecodeError';
    this.reason = options.reason;
  }
}
