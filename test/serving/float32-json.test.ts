/**
 * FP32 outputs printed with the fewest digits that read back: every finite float32 must come back
 * as itself through JSON.parse and Math.fround, non-finite values print as null (as before), and
 * the text is the shortest such decimal (checked against toPrecision).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { float32JsonArray } from '../../src/serving/protocol/float32-json.ts';
import { encodeJsonData } from '../../src/serving/protocol/tensor-json.ts';

/** Asserts that every element of `values` reads back from the printed text. */
function assertReadsBack(values: Float32Array): string {
  const text = float32JsonArray(values);
  const back = JSON.parse(text) as (number | null)[];
  assert.equal(back.length, values.length);
  values.forEach((v, i) => {
    if (Number.isFinite(v)) {
      const got = back[i];
      assert.ok(typeof got === 'number' && Object.is(Math.fround(got), v === 0 ? 0 : v), `${v} printed as ${got}`);
    } else {
      assert.equal(back[i], null, `${v} must print as null`);
    }
  });
  return text;
}

/** The shortest decimal that reads back, by brute force. */
function shortestDigits(v: number): number {
  for (let p = 1; p <= 9; p++) if (Math.fround(Number(v.toPrecision(p))) === v) return p;
  return Number.NaN;
}

function significantDigits(text: string): number {
  return text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
}

describe('float32JsonArray', () => {
  it('reads back every float32 of a million random bit patterns (all exponents, subnormals, NaN, ±Infinity)', () => {
    const bits = new Uint32Array(1_000_000);
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        let s = seed >>> 0 || 1;
        for (let i = 0; i < bits.length; i++) {
          // xorshift32: cheap, every bit pattern reachable
          s ^= s << 13;
          s ^= s >>> 17;
          s ^= s << 5;
          bits[i] = s >>> 0;
        }
        assertReadsBack(new Float32Array(bits.buffer));
      }),
      { numRuns: 3 },
    );
  });

  it('reads back the edge cases: ±0, subnormals, the normal boundary, the largest values, powers of two and of ten', () => {
    const edges: number[] = [
      0,
      -0,
      2 ** -149,
      -(2 ** -149),
      3 * 2 ** -149,
      2 ** -126 - 2 ** -149, // largest subnormal
      2 ** -126, // smallest normal
      3.4028234663852886e38, // largest float32
      -3.4028234663852886e38,
      16777216,
      16777217,
      0.1,
      0.2,
      0.3,
      1 / 3,
      Math.PI,
      NaN,
      Infinity,
      -Infinity,
    ];
    for (let k = -149; k <= 127; k++) edges.push(2 ** k, Math.fround(2 ** k) * (1 + 2 ** -23), 2 ** k * (1 - 2 ** -24));
    for (let k = -45; k <= 38; k++) {
      const p = Number(`1e${k}`);
      const f = Math.fround(p);
      edges.push(p, f, f * (1 + 2 ** -23), f * (1 - 2 ** -23), -f);
    }
    const values = new Float32Array(edges);
    assertReadsBack(values);
  });

  it('prints the shortest decimal that reads back', () => {
    fc.assert(
      fc.property(
        fc.float({ noNaN: true, noDefaultInfinity: true }).filter((v) => v !== 0),
        (v) => {
          const text = float32JsonArray(new Float32Array([v])).slice(1, -1);
          assert.equal(Math.fround(Number(text)), v);
          assert.equal(significantDigits(text), shortestDigits(v), `${v} printed as ${text}`);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('lays numbers out as Number.prototype.toString does', () => {
    const values = new Float32Array([0.1, 1, -2.5e-8, 1e21, 1e20, 1e-7, 1e-6, 123456789, 0.5, 100, -0, 1.5e-45]);
    assert.equal(
      float32JsonArray(values),
      '[0.1,1,-2.5e-8,1e+21,100000000000000000000,1e-7,0.000001,123456790,0.5,100,0,1e-45]',
    );
    // Wherever the shortest digits are the double's shortest digits, the text is String()'s.
    for (const v of [0.5, 0.25, 1024, 3, -7.5, 1e-3, 0.375, 1e25, 1e-10]) {
      assert.equal(float32JsonArray(new Float32Array([v])), `[${String(v)}]`);
    }
  });

  it('prints an empty array, and arrays of the longest elements whole', () => {
    assert.equal(float32JsonArray(new Float32Array(0)), '[]');
    const longest = new Float32Array([-9.999999e20, -9.999999e20, -1.2345678e-38]);
    assert.equal(float32JsonArray(longest), '[-999999900000000000000,-999999900000000000000,-1.2345678e-38]');
  });
});

describe('encodeJsonData', () => {
  it('prints FP32 with the float32 shortest digits and FP64 with full double precision', () => {
    assert.equal(encodeJsonData(new Float32Array([0.1, NaN]), 'FP32'), '[0.1,null]');
    assert.equal(
      encodeJsonData(new Float64Array([0.1, Math.fround(0.1), NaN]), 'FP64'),
      '[0.1,0.10000000149011612,null]',
    );
  });

  it('prints the other datatypes as JSON.stringify does', () => {
    assert.equal(encodeJsonData(new Int32Array([1, -2]), 'INT32'), '[1,-2]');
    assert.equal(encodeJsonData(new BigInt64Array([2n ** 62n, -1n]), 'INT64'), '[4611686018427387904,-1]');
    assert.equal(encodeJsonData(new Uint8Array([1, 0]), 'BOOL'), '[true,false]');
    assert.equal(encodeJsonData([new TextEncoder().encode('a"b')], 'BYTES'), '["a\\"b"]');
  });
});
