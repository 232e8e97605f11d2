/**
 * A model's `metadata_props` (ModelProto field 14: string key → string value) read without decoding
 * the graph: the top-level fields are walked and the graph and other large fields are skipped by
 * their length, so reading the metadata of a large model costs microseconds, not a parse of every
 * weight. Serving reads it on every load (the class names a classifier declares) and the registry
 * on every push.
 */
import protobuf from 'protobufjs';
import { OnnxDecodeError } from './onnx-decode-error.ts';

/**
 * The metadata key of a classifier's class names, a JSON array: entry k names label k and column k
 * of the probabilities. Stratum's trainers write it; serving shows it as the `classes` parameter
 * of the model metadata reply.
 */
export const CLASSES_METADATA_KEY = 'stratum.classes';

/** `ModelProto.metadata_props` (onnx.proto). */
const METADATA_PROPS_FIELD = 14;
const LENGTH_DELIMITED = 2;

/**
 * The model's metadata entries; a key given twice keeps its last value.
 *
 * @throws OnnxDecodeError when the bytes are not a protobuf message.
 * @example
 * ```ts
 * readModelMetadata(bytes)['stratum.classes'] // '["ham","spam"]'
 * ```
 */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const metadata: Record<string, string> = {};
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === METADATA_PROPS_FIELD && wireType === LENGTH_DELIMITED) {
        const entry = readEntry(reader.bytes());
        if (entry !== undefined) metadata[entry.key] = entry.value;
      } else {
        reader.skipType(wireType);
      }
    }
  } catch (err) {
    if (err instanceof OnnxDecodeError) throw err;
    throw new OnnxDecodeError({ reason: err instanceof Error ? err.message : String(err), cause: err });
  }
  return metadata;
}

/** A `StringStringEntryProto` (key = 1, value = 2); undefined without a key. */
function readEntry(bytes: Uint8Array): { key: string; value: string } | undefined {
  const reader = protobuf.Reader.create(bytes);
  let key: string | undefined;
  let value = '';
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === ((1 << 3) | LENGTH_DELIMITED)) key = reader.string();
    else if (tag === ((2 << 3) | LENGTH_DELIMITED)) value = reader.string();
    else reader.skipType(tag & 7);
  }
  return key === undefined ? undefined : { key, value };
}
