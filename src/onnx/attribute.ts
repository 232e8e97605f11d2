/**
 * Typed node attributes. ONNX distinguishes FLOAT from INT, but a JS number does not, so each
 * attribute is made with an explicit constructor (`attr.int(1)`, `attr.float(1)`).
 */
import { ATTRIBUTE_TYPE, type AttributeProto } from './onnx-proto.ts';
import { createTensorProto, type TensorSpec } from './tensor-proto.ts';

/** A node attribute value tagged with its ONNX attribute type. */
export type AttributeValue =
  | { readonly type: 'FLOAT'; readonly value: number }
  | { readonly type: 'INT'; readonly value: number }
  | { readonly type: 'STRING'; readonly value: string }
  | { readonly type: 'TENSOR'; readonly value: TensorSpec }
  | { readonly type: 'FLOATS'; readonly value: readonly number[] }
  | { readonly type: 'INTS'; readonly value: readonly number[] }
  | { readonly type: 'STRINGS'; readonly value: readonly string[] };

/**
 * Constructors for {@link AttributeValue}s.
 *
 * @example
 * ```ts
 * builder.addNode({ op: 'Gemm', inputs: ['x', 'w', 'b'], attributes: { transB: attr.int(1), alpha: attr.float(1) } })
 * ```
 */
export const attr = Object.freeze({
  /** A 32-bit float attribute (stored as protobuf `float`, so rounded to float32). */
  float: (value: number): AttributeValue => ({ type: 'FLOAT', value }),
  /** A 64-bit integer attribute; must be a safe integer. */
  int: (value: number): AttributeValue => ({ type: 'INT', value: safeInteger(value) }),
  /** A UTF-8 string attribute. */
  string: (value: string): AttributeValue => ({ type: 'STRING', value }),
  /** A tensor attribute (e.g. the `value` of a `Constant` node). */
  tensor: (value: TensorSpec): AttributeValue => ({ type: 'TENSOR', value }),
  /** A list of 32-bit floats. */
  floats: (value: ArrayLike<number>): AttributeValue => ({ type: 'FLOATS', value: Array.from(value) }),
  /** A list of 64-bit integers; each must be a safe integer. */
  ints: (value: ArrayLike<number>): AttributeValue => ({ type: 'INTS', value: Array.from(value, safeInteger) }),
  /** A list of UTF-8 strings. */
  strings: (value: readonly string[]): AttributeValue => ({ type: 'STRINGS', value: [...value] }),
});

const UTF8 = new TextEncoder();

/** Converts a named {@link AttributeValue} to its `AttributeProto`. */
export function toAttributeProto(name: string, attribute: AttributeValue): AttributeProto {
  const proto: AttributeProto = {
    name,
    type: ATTRIBUTE_TYPE[attribute.type],
    floats: [],
    ints: [],
    strings: [],
    tensors: [],
    graphs: [],
  };
  switch (attribute.type) {
    case 'FLOAT':
      return { ...proto, f: attribute.value };
    case 'INT':
      return { ...proto, i: attribute.value };
    case 'STRING':
      return { ...proto, s: UTF8.encode(attribute.value) };
    case 'TENSOR':
      return { ...proto, t: createTensorProto(attribute.value) };
    case 'FLOATS':
      return { ...proto, floats: attribute.value };
    case 'INTS':
      return { ...proto, ints: attribute.value };
    case 'STRINGS':
      return { ...proto, strings: attribute.value.map((value) => UTF8.encode(value)) };
  }
}

function safeInteger(value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`INT attribute must be a safe integer, got ${value}`);
  return value;
}
