/**
 * The TypeScript side of the text transform, written to match the exported ops exactly:
 * lowercase like onnxruntime's StringNormalizer under the C.UTF-8 locale (one code point at a
 * time, no final-sigma rule), tokens like com.microsoft Tokenizer with {@link TOKEN_PATTERN},
 * hashes like com.microsoft MurmurHash3 (x86, 32-bit, seed 0, over UTF-8), and n-gram buckets
 * folded in int64-safe arithmetic that the graph repeats with Mul/Add/Mod.
 */

/** RE2 / JS pattern of a token: a run of letters and digits. */
export const TOKEN_PATTERN = '[\\p{L}\\p{N}]+';

/** Multiplier that folds token hashes into an n-gram hash; `< 2^20`, so `acc * K + h < 2^53`. */
export const NGRAM_HASH_MULTIPLIER = 1_000_003;

/** Modulus that keeps the folded n-gram hash below 2^32. */
export const NGRAM_HASH_MODULUS = 2 ** 32;

/** L2 norms below this are raised to it, so an all-zero row stays zero (the graph uses the same Max). */
export const L2_NORM_FLOOR = 1e-12;

const TOKEN = new RegExp(TOKEN_PATTERN, 'gu');
const UTF8 = new TextEncoder();

/**
 * Lowercases per code point. glibc's `towlower` (which StringNormalizer uses) maps one code point
 * to one, so `İ` becomes `i` (JS gives `i̇`) and a word-final `Σ` becomes `σ` (JS gives `ς`).
 * Known residual difference: letters whose case pair is newer than the C library's Unicode tables
 * (55 letters added in Unicode 16, under glibc 2.36) are lowercased here but left as-is by the graph.
 */
export function lowerCodePoints(text: string): string {
  let out = '';
  for (const char of text) {
    const lower = char.toLowerCase();
    out += lower.length === char.length ? lower : String.fromCodePoint(lower.codePointAt(0) ?? 0);
  }
  return out;
}

/** The tokens of `text`, in order. */
export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

/**
 * Scratch space for the UTF-8 bytes of the string being hashed. Hashing runs once per token of
 * every document, and allocating a fresh array per token (`TextEncoder.encode`) was a third of
 * the text transform's time; the buffer holds no state between calls.
 */
let scratch = new Uint8Array(256);

/** The UTF-8 bytes of `text` in `scratch` (grown as needed); returns how many. */
function utf8Into(text: string): number {
  const n = text.length;
  if (3 * n > scratch.length) scratch = new Uint8Array(Math.max(3 * n, 2 * scratch.length));
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return UTF8.encodeInto(text, scratch).written;
    scratch[i] = c;
  }
  return n;
}

/** MurmurHash3 x86 32-bit of the UTF-8 bytes of `text`, as an unsigned integer. */
export function murmurHash3(text: string, seed = 0): number {
  const length = utf8Into(text);
  const bytes = scratch;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = length - (length % 4);
  for (let i = 0; i < blocks; i += 4) {
    let k = (bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = length % 4;
  if (tail >= 3) k ^= (bytes[blocks + 2] ?? 0) << 16;
  if (tail >= 2) k ^= (bytes[blocks + 1] ?? 0) << 8;
  if (tail >= 1) {
    k ^= bytes[blocks] ?? 0;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Options of {@link ngramBuckets}. */
export interface NgramBucketsOptions {
  /** Token hashes from {@link murmurHash3}, in text order. */
  readonly hashes: readonly number[];
  /** Smallest n-gram length. */
  readonly ngramMin: number;
  /** Largest n-gram length. */
  readonly ngramMax: number;
  /** Number of hash buckets. */
  readonly buckets: number;
}

/**
 * The bucket of every n-gram, for n from `ngramMin` to `ngramMax`. An n-gram's hash starts at
 * `n` and folds each token in with `acc = (acc * K + h) mod 2^32`, so n-grams of different
 * lengths over the same tokens land in different buckets.
 */
export function ngramBuckets(options: NgramBucketsOptions): number[] {
  const { hashes, buckets } = options;
  const out: number[] = [];
  for (let n = options.ngramMin; n <= options.ngramMax; n++) {
    for (let start = 0; start + n <= hashes.length; start++) {
      let acc = n;
      for (let j = 0; j < n; j++) acc = (acc * NGRAM_HASH_MULTIPLIER + (hashes[start + j] ?? 0)) % NGRAM_HASH_MODULUS;
      out.push(acc % buckets);
    }
  }
  return out;
}

/** Options of {@link textBuckets}. */
export interface TextBucketsOptions {
  /** The raw text (`''` when missing). */
  readonly text: string;
  /** Lowercase first. */
  readonly lowercase: boolean;
  /** Smallest n-gram length. */
  readonly ngramMin: number;
  /** Largest n-gram length. */
  readonly ngramMax: number;
  /** Number of hash buckets. */
  readonly buckets: number;
}

/** The bucket of every n-gram of `text` (repeats included): lowercase → tokenize → hash → fold. */
export function textBuckets(options: TextBucketsOptions): number[] {
  const text = options.lowercase ? lowerCodePoints(options.text) : options.text;
  return ngramBuckets({ ...options, hashes: tokenize(text).map((token) => murmurHash3(token)) });
}
