/**
 * Reading TensorProtos (the ONNX backend test data's `.pb` files): every element type survives
 * createTensorProto → encodeTensor → decodeTensor → readTensorProto, whichever field the writer
 * used (raw_data or the typed lists), and 64-bit integers beyond 2^53 keep every digit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATA_TYPE, decodeTensor, encodeTensor, type TensorProto } from '../../src/onnx/onnx-proto.ts';
import { readTensorProto } from '../../src/onnx/read-tensor-proto.ts';
import { createTensorProto, type TensorData, type TensorElementType } from '../../src/onnx/tensor-proto.ts';

const CASES: [TensorElementType, TensorData][] = [
  ['FLOAT', new Float32Array([1.5, -0, NaN, Infinity, -Infinity, 3.4e38])],
  ['DOUBLE', new Float64Array([Math.PI, -1e308, NaN, 5e-324, 0, 1])],
  ['INT8', new Int8Array([-128, 127, 0, 1, -1, 5])],
  ['UINT8', new Uint8Array([0, 255, 1, 2, 3, 4])],
  ['INT16', new Int16Array([-32768, 32767, 0, 1, -1, 7])],
  ['UINT16', new Uint16Array([0, 65535, 1, 2, 3, 4])],
  ['INT32', new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, 1, -1, 9])],
  ['UINT32', new Uint32Array([0, 2 ** 32 - 1, 1, 2, 3, 4])],
  ['INT64', new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, 0n, -1n, 42n])],
  ['UINT64', new BigUint64Array([0n, 2n ** 64n - 1n, 2n ** 53n + 1n, 1n, 2n, 3n])],
  ['BOOL', new Uint8Array([0, 1, 1, 0, 1, 0])],
  ['FLOAT16', new Uint16Array([0x3c00, 0xbc00, 0x7c00, 0x7e00, 0, 0x0001])],
  ['STRING', ['a', '', 'naïve ✓', 'x,y', '"q"', '\n']],
];

for (const [type, data] of CASES) {
  test(`${type} from raw_data (or string_data)`, () => {
    const proto = createTensorProto({ name: 't', dims: [2, 3], data, type });
    const read = readTensorProto(decodeTensor(encodeTensor(proto)));
    assert.equal(read.name, 't');
    assert.equal(read.type, type);
    assert.deepEqual(read.dims, [2, 3]);
    assert.deepEqual(read.data, data);
  });
}

/** The same values written into the typed field the ONNX spec assigns to the element type. */
function typedProto(type: TensorElementType, data: TensorData): TensorProto {
  const base: TensorProto = {
    name: 't',
    dims: [data.length],
    data_type: DATA_TYPE[type],
    float_data: [],
    int32_data: [],
    string_data: [],
    int64_data: [],
    external_data: [],
    double_data: [],
    uint64_data: [],
    metadata_props: [],
  };
  const values = Array.from(data as ArrayLike<number | bigint>);
  switch (type) {
    case 'FLOAT':
      return { ...base, float_data: values as number[] };
    case 'DOUBLE':
      return { ...base, double_data: values as number[] };
    case 'INT64':
    case 'UINT64':
    case 'UINT32': {
      // Decimal strings, so 64-bit values keep every digit on the way in.
      const field = type === 'INT64' ? 'int64_data' : 'uint64_data';
      return { ...base, [field]: values.map(String) } as unknown as TensorProto;
    }
    default:
      return { ...base, int32_data: values as number[] };
  }
}

for (const [type, data] of CASES.filter(([t]) => t !== 'STRING')) {
  test(`${type} from its typed field`, () => {
    const read = readTensorProto(decodeTensor(encodeTensor(typedProto(type, data))));
    assert.equal(read.type, type);
    assert.deepEqual(read.data, data);
  });
}

test('contents that do not fit the dims, external data and 4-bit types are refused naming the tensor', () => {
  const proto = createTensorProto({ name: 'x', dims: [3], data: new Float32Array([1, 2, 3]) });
  const short = decodeTensor(encodeTensor({ ...proto, dims: [4] }));
  assert.throws(() => readTensorProto(short), /tensor "x": dims \[4\] do not fit 3 elements/);
  const external = decodeTensor(encodeTensor({ ...proto, data_location: 1 }));
  assert.throws(() => readTensorProto(external), /tensor "x": external data is not read/);
  const int4 = decodeTensor(encodeTensor({ ...proto, data_type: DATA_TYPE.INT4 }));
  assert.throws(() => readTensorProto(int4), /tensor "x": element type INT4 is not read/);
});
