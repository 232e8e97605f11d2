/**
 * The byte-level rules of gRPC over HTTP/2 (grpc/grpc, doc/PROTOCOL-HTTP2.md) that a unary server
 * needs: the 5-byte length prefix of each message, the `grpc-timeout` header and the
 * percent-encoding of `grpc-message`. Pure functions, no I/O.
 */

/** Bytes before each message: the compressed flag, then the length as a big-endian uint32. */
export const FRAME_HEADER_BYTES = 5;

/** One message read from a request body. */
export interface GrpcFrame {
  /** The compressed flag: the message is in the request's `grpc-encoding`. */
  readonly compressed: boolean;
  /** The message bytes: a view of the body, not a copy. */
  readonly message: Buffer;
}

/** Why a body is not exactly one well-formed message. */
export type FrameProblem = 'empty' | 'truncated' | 'trailing';

/**
 * Reads the single message of a unary request body.
 * @returns the frame, or the problem with the body.
 */
export function readUnaryFrame(body: Buffer): GrpcFrame | FrameProblem {
  if (body.length === 0) return 'empty';
  if (body.length < FRAME_HEADER_BYTES) return 'truncated';
  const length = body.readUInt32BE(1);
  const end = FRAME_HEADER_BYTES + length;
  if (body.length < end) return 'truncated';
  // A unary call carries one message; a second one is a client bug, not something to ignore.
  if (body.length > end) return 'trailing';
  return { compressed: body[0] === 1, message: body.subarray(FRAME_HEADER_BYTES, end) };
}

/** The declared length of the message that starts `body` (once its prefix has arrived). */
export function declaredLength(body: Buffer): number | undefined {
  return body.length < FRAME_HEADER_BYTES ? undefined : body.readUInt32BE(1);
}

/** Frames `message` (uncompressed) into one buffer ready to write as a response body. */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, FRAME_HEADER_BYTES);
  return out;
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = Object.freeze({
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
});

/**
 * Parses `grpc-timeout` (`TimeoutValue TimeoutUnit`: at most 8 digits, then one of H M S m u n).
 * @returns milliseconds, or undefined when the header is absent or malformed (no deadline, as
 *   grpc-js treats a value it cannot read).
 */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (TIMEOUT_UNIT_MS[match[2] as string] as number);
}

/**
 * Percent-encodes a status message for `grpc-message`: bytes outside printable ASCII and `%` as
 * `%XX` of their UTF-8 bytes, the rest as is (what every gRPC client decodes).
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte < 0x20 || byte > 0x7e || byte === 0x25
        ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte);
  }
  return out;
}
