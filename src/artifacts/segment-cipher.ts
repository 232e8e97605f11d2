/**
 * The encrypted body of an artifact: AES-256-GCM in independently sealed segments, so that a
 * body of any size is written and read as a stream, and every segment is authenticated before a
 * byte of it is handed out (one GCM tag over a whole 256 MiB file could only be checked at the end).
 *
 * ```
 * header   magic "STRMENC1" (8) | segment size, u32 BE (4) | body id (16, random)
 * segment  ciphertext (segment size bytes; the last one 0..segment size) | GCM tag (16)
 * ```
 *
 * Segment i is sealed under the artifact's own data key with the nonce `0^4 | u64 BE i` and the
 * associated data `header | u64 BE i | final flag`. A data key seals exactly one body, so counter
 * nonces never repeat under one key. The index in the associated data makes a reordered or
 * duplicated segment fail its tag; the final flag, set on the last segment only, makes a body
 * cut at a segment boundary fail too (its new last segment was sealed as not final); the header
 * in it ties every segment to this body. This is the STREAM construction of Hoang, Reyhanitabar,
 * Rogaway and Vizár (Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance, 2015),
 * the framing Tink's streaming AEAD and age use.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { StratumError } from '../errors/index.ts';

/** The first bytes of every encrypted body; a plaintext artifact written before encryption lacks them. */
export const BODY_MAGIC = Buffer.from('STRMENC1', 'latin1');
/** Plaintext bytes per segment. */
export const SEGMENT_BYTES = 64 * 1024;
/** Length of the body id, which names the body's data-key file. */
export const BODY_ID_BYTES = 16;
/** Length of the header. */
export const HEADER_BYTES = BODY_MAGIC.length + 4 + BODY_ID_BYTES;
/** Length of a GCM tag. */
export const TAG_BYTES = 16;
/** Length of a data key (AES-256). */
export const DATA_KEY_BYTES = 32;

// Bounds a header's segment size before it is authenticated, so a tampered one cannot make a
// reader allocate gigabytes before its first tag fails.
const MIN_SEGMENT_BYTES = 1024;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;

/** A parsed body header. */
export interface BodyHeader {
  readonly segmentBytes: number;
  /** Random per body, in hex: names the data-key file that opens it. */
  readonly bodyId: string;
  /** The header's bytes, authenticated with every segment. */
  readonly raw: Buffer;
}

/** Builds the header of a new body. */
export function encodeHeader(options: { bodyId: Buffer; segmentBytes?: number }): BodyHeader {
  const segmentBytes = options.segmentBytes ?? SEGMENT_BYTES;
  const raw = Buffer.alloc(HEADER_BYTES);
  BODY_MAGIC.copy(raw, 0);
  raw.writeUInt32BE(segmentBytes, BODY_MAGIC.length);
  options.bodyId.copy(raw, BODY_MAGIC.length + 4);
  return { segmentBytes, bodyId: options.bodyId.toString('hex'), raw };
}

/** True when `bytes` start with the body magic (an encrypted body). */
export function hasBodyMagic(bytes: Uint8Array): boolean {
  return bytes.length >= BODY_MAGIC.length && BODY_MAGIC.equals(bytes.subarray(0, BODY_MAGIC.length));
}

/**
 * Parses the header at the start of `bytes` (which must start with the magic).
 * @throws StratumError ARTIFACT_CORRUPT when it is cut short or names an impossible segment size.
 */
export function parseHeader(bytes: Uint8Array, digest: string): BodyHeader {
  const raw = Buffer.from(bytes.subarray(0, HEADER_BYTES));
  if (raw.length < HEADER_BYTES) throw corruptBody(digest, 'its encryption header is cut short');
  const segmentBytes = raw.readUInt32BE(BODY_MAGIC.length);
  if (segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) {
    throw corruptBody(digest, `its encryption header names a segment size of ${segmentBytes} bytes`);
  }
  return { segmentBytes, bodyId: raw.subarray(BODY_MAGIC.length + 4).toString('hex'), raw };
}

/**
 * The plaintext length of an encrypted body of `fileSize` bytes: every segment adds one tag, and
 * there is always at least one (an empty artifact is one empty final segment).
 */
export function plainSizeOf(options: { fileSize: number; segmentBytes: number }): number {
  const sealed = options.fileSize - HEADER_BYTES;
  const segments = Math.max(1, Math.ceil(sealed / (options.segmentBytes + TAG_BYTES)));
  return Math.max(0, sealed - segments * TAG_BYTES);
}

/** Seals plaintext into segments as it arrives; see the module comment for the framing. */
export class SegmentEncryptor {
  readonly #key: Buffer;
  readonly #header: BodyHeader;
  readonly #pending: Buffer;
  #filled = 0;
  #index = 0;

  constructor(options: { dataKey: Buffer; header: BodyHeader }) {
    this.#key = options.dataKey;
    this.#header = options.header;
    this.#pending = Buffer.allocUnsafe(options.header.segmentBytes);
  }

  /**
   * Takes more plaintext; returns the sealed bytes of the segments it completed, as pieces to
   * write in order (none while a segment is filling).
   */
  update(chunk: Uint8Array): Buffer[] {
    const sealed: Buffer[] = [];
    const size = this.#pending.length;
    let offset = 0;
    while (offset < chunk.byteLength) {
      // A full segment is sealed only once more bytes arrive: until then it may be the last one.
      if (this.#filled === size) {
        sealed.push(...this.#seal(this.#pending, false));
        this.#filled = 0;
      }
      // Whole segments inside the chunk, with more bytes after them, are sealed in place (no copy).
      if (this.#filled === 0 && chunk.byteLength - offset > size) {
        sealed.push(...this.#seal(chunk.subarray(offset, offset + size), false));
        offset += size;
        continue;
      }
      const n = Math.min(this.#pending.length - this.#filled, chunk.byteLength - offset);
      this.#pending.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
    }
    return sealed;
  }

  /** Seals what is left as the final segment; returns its pieces. */
  final(): Buffer[] {
    return this.#seal(this.#pending.subarray(0, this.#filled), true);
  }

  /** The segment's ciphertext and tag, as separate pieces: writev puts them down without a concat. */
  #seal(plain: Uint8Array, final: boolean): Buffer[] {
    const index = this.#index++;
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonceOf(index));
    cipher.setAAD(aadOf({ header: this.#header, index, final }));
    const head = cipher.update(plain);
    // GCM is a stream mode: final() adds no ciphertext, only computes the tag.
    cipher.final();
    return [head, cipher.getAuthTag()];
  }
}

/**
 * Opens segments as the sealed bytes (everything after the header) arrive. Every segment's tag is
 * checked before its plaintext is returned.
 */
export class SegmentDecryptor {
  readonly #key: Buffer;
  readonly #header: BodyHeader;
  readonly #digest: string;
  readonly #pending: Buffer;
  #filled = 0;
  #index = 0;

  constructor(options: { dataKey: Buffer; header: BodyHeader; digest: string }) {
    this.#key = options.dataKey;
    this.#header = options.header;
    this.#digest = options.digest;
    this.#pending = Buffer.allocUnsafe(options.header.segmentBytes + TAG_BYTES);
  }

  /** Takes more sealed bytes; returns the plaintext of the segments they completed. */
  update(chunk: Uint8Array): Buffer[] {
    const opened: Buffer[] = [];
    const size = this.#pending.length;
    let offset = 0;
    while (offset < chunk.byteLength) {
      // As when sealing: a full segment is not final only if more bytes follow it.
      if (this.#filled === size) {
        opened.push(this.#open(this.#pending, false));
        this.#filled = 0;
      }
      if (this.#filled === 0 && chunk.byteLength - offset > size) {
        opened.push(this.#open(chunk.subarray(offset, offset + size), false));
        offset += size;
        continue;
      }
      const n = Math.min(this.#pending.length - this.#filled, chunk.byteLength - offset);
      this.#pending.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
    }
    return opened;
  }

  /** Opens the last segment. @throws StratumError ARTIFACT_CORRUPT when the body was cut short. */
  final(): Buffer {
    if (this.#filled < TAG_BYTES) throw corruptBody(this.#digest, 'its encrypted body is cut short');
    return this.#open(this.#pending.subarray(0, this.#filled), true);
  }

  #open(sealed: Uint8Array, final: boolean): Buffer {
    const index = this.#index++;
    const decipher = createDecipheriv('aes-256-gcm', this.#key, nonceOf(index));
    decipher.setAAD(aadOf({ header: this.#header, index, final }));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const head = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      throw corruptBody(
        this.#digest,
        `segment ${index} fails its authentication tag (a changed, reordered, cut or foreign segment)`,
      );
    }
    return head;
  }
}

function nonceOf(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

function aadOf(options: { header: BodyHeader; index: number; final: boolean }): Buffer {
  const aad = Buffer.alloc(options.header.raw.length + 9);
  options.header.raw.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(options.index), options.header.raw.length);
  aad[aad.length - 1] = options.final ? 1 : 0;
  return aad;
}

/** ARTIFACT_CORRUPT for an encrypted artifact, saying what failed. */
export function corruptBody(digest: string, why: string): StratumError {
  return new StratumError(
    'ARTIFACT_CORRUPT',
    `artifact ${digest} is corrupt: ${why}; nothing of it was served unverified; restore it or upload it again`,
    { details: { digest, reason: why } },
  );
}
