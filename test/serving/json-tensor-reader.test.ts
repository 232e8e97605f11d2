/**
 * The tensor-aware JSON reader against JSON.parse: on every input it returns what JSON.parse
 * returns (numeric `data` arrays flattened into NumericData) or throws what JSON.parse throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NumericData, readInferJson } from '../../src/serving/protocol/json-tensor-reader.ts';
import { decodeRestInferRequest } from '../../src/serving/protocol/rest-infer-request.ts';

const RUNS = 2_000;

/** JSON.parse's result with numbers-only `data` arrays flattened, as the reader gives them. */
function expected(text: string): unknown {
  return normalise(JSON.parse(text), false);
}

function normalise(value: unknown, isData: boolean): unknown {
  if (value instanceof NumericData) return { numeric: Array.from(value.exact()) };
  if (Array.isArray(value)) {
    if (isData) {
      const flat = numbersOnly(value);
      if (flat !== undefined) return { numeric: flat };
    }
    return value.map((v) => normalise(v, false));
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: normalise(v, k === 'data'),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** The numbers of a `data` array the tensor decoder would flatten without an error. */
function numbersOnly(array: unknown[]): number[] | undefined {
  // The decoder takes an array as flat when its first element is not an array: an array further
  // on is then an element error, not flattened.
  if (array.length > 0 && !Array.isArray(array[0]) && array.some((item) => Array.isArray(item))) return undefined;
  const out: number[] = [];
  const walk = (node: unknown[], depth: number): boolean =>
    depth <= 32 &&
    node.every((item) =>
      Array.isArray(item) ? walk(item, depth + 1) : typeof item === 'number' && (out.push(item), true),
    );
  return walk(array, 0) ? out : undefined;
}

function read(text: string | Buffer): unknown {
  return normalise(readInferJson(typeof text === 'string' ? Buffer.from(text) : text), false);
}

/** Both throw the same SyntaxError message, or both return the same value. */
function assertSameAsJsonParse(text: string): void {
  let want: unknown;
  let wantError: unknown;
  try {
    want = expected(text);
  } catch (error) {
    wantError = error;
  }
  if (wantError !== undefined) {
    assert.throws(
      () => read(text),
      (error: unknown) => error instanceof SyntaxError && error.message === (wantError as Error).message,
    );
  } else {
    assert.deepStrictEqual(read(text), want, text.slice(0, 200));
  }
}

/** Number texts by JSON's grammar, leaning on the cases a fast path can get wrong. */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.constant('0'),
      fc.stringMatching(/^[1-9][0-9]{0,25}$/),
      fc.constantFrom('9007199254740993', '900719925474099', '900719925474100', '18446744073709551615'),
    ),
    fc.option(fc.stringMatching(/^[0-9]{1,30}$/), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 400 })), {
      nil: undefined,
    }),
  )
  .map(
    ([negative, whole, fraction, exponent]) =>
      `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}${
        exponent === undefined ? '' : `${exponent[0]}${exponent[1]}${exponent[2]}`
      }`,
  );

const whitespace = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');

/** A nested numeric array as text, with arbitrary whitespace. */
const numericArrayText: fc.Arbitrary<string> = fc.letrec((tie) => ({
  array: fc
    .array(fc.oneof({ depthSize: 'small', withCrossShrink: true }, numberText, tie('array')), { maxLength: 6 })
    .chain((items) =>
      fc.tuple(whitespace, whitespace).map(([a, b]) => `[${a}${(items as string[]).join(`${b},${a}`)}${b}]`),
    ),
})).array;

// A double near the midpoint of two adjacent float32s, printed with 16 to 20 digits: where an
// approximate read could round to the wrong float32.
const nearMidpoint = fc
  .tuple(
    fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-3e38), max: Math.fround(3e38) }),
    fc.integer({ min: -4, max: 4 }),
    fc.integer({ min: 16, max: 20 }),
  )
  .map(([f, nudge, precision]) => {
    const next = new Float32Array([f]);
    const bits = new Int32Array(next.buffer);
    bits[0]! += 1;
    const midpoint = (f + next[0]!) / 2;
    const nudged = midpoint * (1 + nudge * 2 ** -52);
    return nudged.toPrecision(precision).replace(/e\+?/, 'e');
  })
  .filter((text) => /^-?(0|[1-9][0-9]*)(\.[0-9]+)?(e-?[0-9]+)?$/.test(text));

function requestText(data: string): string {
  return `{"id":"r1","inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":${data}}],"outputs":[{"name":"y"}]}`;
}

describe('readInferJson', () => {
  it('reads every number as JSON.parse does (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(numberText, { minLength: 1, maxLength: 50 }), (numbers) => {
        const text = requestText(`[${numbers.join(',')}]`);
        const got = readInferJson(Buffer.from(text)) as { inputs: { data: NumericData }[] };
        const data = got.inputs[0]!.data;
        // float32 first: it must not depend on an exact pass having run.
        const floats = data.float32();
        const values = data.exact();
        assert.equal(values.length, numbers.length);
        numbers.forEach((n, i) => {
          assert.ok(Object.is(values[i], JSON.parse(n)), `${n}: ${values[i]}`);
          assert.ok(Object.is(floats[i], Math.fround(JSON.parse(n) as number)), `${n} as float32: ${floats[i]}`);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('rounds to float32 as JSON.parse then Float32Array do, next to float32 midpoints (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(nearMidpoint, numberText), { minLength: 1, maxLength: 40 }), (numbers) => {
        const text = requestText(`[${numbers.join(',')}]`);
        const data = (readInferJson(Buffer.from(text)) as { inputs: { data: NumericData }[] }).inputs[0]!.data;
        assert.deepStrictEqual(data.float32(), new Float32Array(numbers.map((n) => JSON.parse(n) as number)));
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps several data arrays of one body apart, float32 first or exact first (fuzz)', () => {
    // The arrays share the reader's scratch buffers; an exact pass re-reads only its own array.
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            numericArrayText,
            fc.array(nearMidpoint, { minLength: 1, maxLength: 8 }).map((xs) => `[${xs.join(',')}]`),
          ),
          { minLength: 2, maxLength: 4 },
        ),
        fc.boolean(),
        (arrays, exactFirst) => {
          const inputs = arrays.map((data, i) => `{"name":"x${i}","datatype":"FP32","shape":[1],"data":${data}}`);
          const text = `{"inputs":[${inputs.join(',')}]}`;
          const got = (readInferJson(Buffer.from(text)) as { inputs: { data: unknown }[] }).inputs;
          const want = (JSON.parse(text) as { inputs: { data: unknown[] }[] }).inputs;
          got.forEach(({ data }, i) => {
            // Arrays the reader leaves plain are JSON.parse's (the tests above): here only its own.
            if (!(data instanceof NumericData)) return;
            const numbers = numbersOnly(want[i]!.data) ?? [];
            const exact = exactFirst ? Array.from(data.exact()) : undefined;
            assert.deepStrictEqual(data.float32(), new Float32Array(numbers), arrays[i]);
            assert.deepStrictEqual(exact ?? Array.from(data.exact()), numbers, arrays[i]);
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('flattens nested numeric data row-major (fuzz)', () => {
    fc.assert(
      fc.property(numericArrayText, (data) => assertSameAsJsonParse(requestText(data))),
      { numRuns: RUNS },
    );
  });

  it('returns what JSON.parse returns for any JSON value (fuzz)', () => {
    const anyJson = fc.jsonValue();
    fc.assert(
      fc.property(anyJson, anyJson, fc.constantFrom(0, 2), (a, b, indent) => {
        assertSameAsJsonParse(JSON.stringify(a, null, indent));
        assertSameAsJsonParse(JSON.stringify({ inputs: [{ name: 'x', data: a }], data: b }, null, indent));
      }),
      { numRuns: RUNS },
    );
  });

  it('throws what JSON.parse throws on broken text, and reads what it reads (fuzz)', () => {
    const base = fc.oneof(
      numericArrayText.map(requestText),
      fc.jsonValue().map((v) => JSON.stringify({ inputs: [{ data: v }] })),
    );
    const junk = fc.constantFrom(
      '',
      ',',
      ']',
      '[',
      '{',
      '}',
      '"',
      '\\',
      ':',
      '-',
      '.',
      'e',
      '0',
      '1',
      'x',
      ' ',
      '\u0001',
    );
    const edit = fc.record({
      at: fc.nat(),
      length: fc.nat({ max: 2 }),
      ch: junk,
      op: fc.constantFrom('insert', 'delete', 'replace', 'truncate'),
    });
    fc.assert(
      fc.property(base, edit, (text, { at, length, ch, op }) => {
        const i = text.length === 0 ? 0 : at % text.length;
        const broken =
          op === 'insert'
            ? text.slice(0, i) + ch + text.slice(i)
            : op === 'delete'
              ? text.slice(0, i) + text.slice(i + 1 + length)
              : op === 'replace'
                ? text.slice(0, i) + ch + text.slice(i + 1)
                : text.slice(0, i);
        assertSameAsJsonParse(broken);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('keeps JSON.parse behaviour for the awkward cases', () => {
    for (const text of [
      '{"__proto__":{"polluted":1},"data":[1]}',
      '{"data":[1],"data":[2,3]}',
      '{"data":[1,"a",2]}',
      '{"data":[[1],[true]]}',
      '{"data":[0,[1,2],3]}',
      '{"data":[[0],1,[[2]]]}',
      `{"data":${'['.repeat(33)}1${']'.repeat(33)}}`,
      `{"data":${'['.repeat(34)}1${']'.repeat(34)}}`,
      '{"data":[1,null]}',
      '{"data":[]}',
      '{"data":[[],[[]]]}',
      '{"data":"text"}',
      '{"data":{"a":[1]}}',
      '{"data":[-0,0.0,-0.0,1e-400,1e400,5e-324,1.7976931348623157e308]}',
      '{"s":"a\\"b\\\\c\\u00e9\\ud83d\\ude00","t":"é😀"}',
      '"\\ud800"',
      '\ufeff{}',
      '{"a":01}',
      '[1,]',
      '{"a":1,}',
      '{"data":[1 2]}',
      '  [ ]  ',
      `{"data":${'['.repeat(200)}1${']'.repeat(200)}}`,
      `${'['.repeat(1000)}${']'.repeat(1000)}`,
    ]) {
      assertSameAsJsonParse(text);
    }
    const proto = readInferJson(Buffer.from('{"__proto__":{"polluted":1}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.deepEqual(Object.keys(proto), ['__proto__']);
  });

  it('decodes invalid UTF-8 as Buffer#toString does before JSON.parse', () => {
    for (const bytes of [
      [0x22, 0xff, 0x22],
      [0x22, 0xe2, 0x82, 0x22],
      [0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d],
    ]) {
      const buffer = Buffer.from(bytes);
      assert.deepStrictEqual(read(buffer), JSON.parse(buffer.toString('utf8')));
    }
  });
});

describe('decodeRestInferRequest with the reader', () => {
  const decode = (inputs: unknown[]) =>
    decodeRestInferRequest({ body: Buffer.from(JSON.stringify({ inputs })), maxBytesElement: 1024 });

  it('gives the typed arrays the element-by-element path gave', () => {
    const request = decode([
      {
        name: 'f',
        datatype: 'FP32',
        shape: [2, 2],
        data: [
          [0.1, -2.5],
          [3e-5, 7],
        ],
      },
      { name: 'd', datatype: 'FP64', shape: [2], data: [0.1, 1e300] },
      { name: 'i', datatype: 'INT32', shape: [3], data: [1, -2, 2147483647] },
      { name: 'l', datatype: 'INT64', shape: [2], data: [101, -9007199254740991] },
      { name: 'b', datatype: 'BOOL', shape: [2], data: [true, false] },
      { name: 's', datatype: 'BYTES', shape: [1], data: ['hé'] },
    ]);
    const [f, d, i, l, b, s] = request.inputs.map((input) => input.data);
    assert.deepStrictEqual(f, new Float32Array([0.1, -2.5, 3e-5, 7]));
    assert.deepStrictEqual(d, new Float64Array([0.1, 1e300]));
    assert.deepStrictEqual(i, new Int32Array([1, -2, 2147483647]));
    assert.deepStrictEqual(l, new BigInt64Array([101n, -9007199254740991n]));
    assert.deepStrictEqual(b, new Uint8Array([1, 0]));
    assert.deepStrictEqual(
      s,
      [Buffer.from('hé')].map((x) => new Uint8Array(x)),
    );
  });

  it('keeps the element errors: position and what was wrong', () => {
    assert.throws(() => decode([{ name: 'i', datatype: 'INT32', shape: [2], data: [1, 2.5] }]), {
      code: 'INVALID_INPUT',
      message:
        'input "i": element 1 of "data" must be an integer in [-2147483648, 2147483647] for INT32, got number 2.5',
    });
    assert.throws(() => decode([{ name: 'b', datatype: 'BOOL', shape: [1], data: [1] }]), {
      code: 'INVALID_INPUT',
      message: 'input "b": element 0 of "data" must be true or false, got number 1',
    });
    assert.throws(() => decode([{ name: 'f', datatype: 'FP32', shape: [3], data: [[1, 2]] }]), {
      code: 'INVALID_INPUT',
      message: 'input "f": shape [3] needs 3 elements, got 2 in "data"',
    });
    assert.throws(() => decode([{ name: 'h', datatype: 'FP16', shape: [1], data: [1] }]), { code: 'UNSUPPORTED' });
    assert.throws(
      () => decodeRestInferRequest({ body: Buffer.from('{"inputs":[{"data":[1,]}]}'), maxBytesElement: 1 }),
      { code: 'INVALID_JSON' },
    );
  });
});
