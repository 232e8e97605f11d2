/**
 * The hand-written check of the request header against its zod schema: on generated headers,
 * valid and not, the check never accepts what the schema refuses, returns what the schema would
 * (the declared fields), accepts the shapes clients send, and a refused header still fails with
 * the schema's issues and message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StratumError } from '../../src/errors/index.ts';
import { checkRequestHeader, RequestHeader } from '../../src/serving/protocol/request-header.ts';
import { decodeRestInferRequest } from '../../src/serving/protocol/rest-infer-request.ts';

const RUNS = 3_000;

const scalar = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer({ min: -3, max: 2 ** 31 + 2 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const anyJson = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), scalar),
);

/** A `parameters` value: mostly valid, sometimes with a value or key the schema refuses. */
const parameters = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.dictionary(
      fc.oneof(
        fc.constantFrom('binary_data_size', 'priority', 'binary_data', '__proto__', 'x'),
        fc.string({ maxLength: 3 }),
      ),
      fc.oneof(
        fc.string({ maxLength: 3 }),
        fc.integer({ min: -5, max: 5000 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
      ),
      { maxKeys: 3 },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

const dimension = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 1024 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0.5, 2 ** 31 - 1, 2 ** 31, -0, '3') },
);

const input = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        name: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('x', 'input', '') },
          { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
          { weight: 1, arbitrary: fc.integer() },
        ),
        datatype: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom('FP32', 'INT64', 'BYTES', 'NOPE') },
          { weight: 1, arbitrary: fc.integer() },
        ),
        shape: fc.oneof(
          {
            weight: 8,
            arbitrary: fc.oneof(
              { weight: 6, arbitrary: fc.array(dimension, { maxLength: 4 }) },
              { weight: 1, arbitrary: fc.array(dimension, { minLength: 30, maxLength: 34 }) },
            ),
          },
          { weight: 1, arbitrary: anyJson },
        ),
        parameters,
        data: anyJson,
        extra: anyJson,
      },
      { requiredKeys: ['name', 'datatype', 'shape'] },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

const output = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        name: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('y', 'z') },
          { weight: 1, arbitrary: fc.constantFrom('', 0) },
        ),
        parameters,
      },
      { requiredKeys: ['name'] },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

const header = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record(
      {
        id: fc.oneof({ weight: 6, arbitrary: fc.string({ maxLength: 4 }) }, { weight: 1, arbitrary: fc.integer() }),
        parameters,
        inputs: fc.oneof(
          { weight: 8, arbitrary: fc.array(input, { maxLength: 3 }) },
          { weight: 1, arbitrary: anyJson },
        ),
        outputs: fc.oneof(
          { weight: 8, arbitrary: fc.array(output, { maxLength: 2 }) },
          { weight: 1, arbitrary: anyJson },
        ),
        model_name: anyJson,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

/** As a client would send it: through JSON text (so `__proto__` is an own key, as JSON.parse makes it). */
const asReceived = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');

/** The schema's fields of a header the check accepted, for comparing with the schema's output. */
function declared(value: RequestHeader): unknown {
  const pick = (o: Record<string, unknown>, keys: readonly string[]) =>
    Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  return {
    ...pick(value, ['id', 'parameters', 'inputs']),
    inputs: value.inputs.map((i) => pick(i, ['name', 'datatype', 'shape', 'parameters', 'data'])),
    ...(value.outputs !== undefined && { outputs: value.outputs.map((o) => pick(o, ['name', 'parameters'])) }),
  };
}

describe('checkRequestHeader against the RequestHeader schema', () => {
  it('accepts only what the schema accepts, and returns what it returns', () => {
    let accepted = 0;
    let refusedBySchema = 0;
    fc.assert(
      fc.property(header, (generated) => {
        const json = asReceived(generated);
        const fast = checkRequestHeader(json);
        const parsed = RequestHeader.safeParse(json);
        if (!parsed.success) refusedBySchema++;
        if (fast === undefined) return;
        accepted++;
        assert.ok(parsed.success, `the check accepted what the schema refuses: ${JSON.stringify(json)}`);
        assert.deepEqual(declared(fast), parsed.data);
      }),
      { numRuns: RUNS },
    );
    // The generator reaches both sides.
    assert.ok(accepted > RUNS / 10, `only ${accepted} accepted`);
    assert.ok(refusedBySchema > RUNS / 10, `only ${refusedBySchema} refused`);
  });

  it('accepts the headers clients send (the fast path is the one taken)', () => {
    const common = [
      {
        inputs: [{ name: 'x', shape: [1, 784], datatype: 'FP32', parameters: { binary_data_size: 3136 } }],
        parameters: { binary_data_output: true },
      },
      { id: 'r1', inputs: [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }] },
      {
        inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
        parameters: { priority: 1, timeout: 5000 },
      },
      { inputs: [] },
    ];
    for (const value of common)
      assert.notEqual(checkRequestHeader(asReceived(value)), undefined, JSON.stringify(value));
  });

  it('leaves a refused header to the schema: same issues, same message', () => {
    fc.assert(
      fc.property(header, (generated) => {
        const json = asReceived(generated);
        const parsed = RequestHeader.safeParse(json);
        if (parsed.success) return;
        assert.equal(checkRequestHeader(json), undefined);
        const body = Buffer.from(JSON.stringify(json));
        assert.throws(
          () => decodeRestInferRequest({ body, maxBytesElement: 1024 }),
          (error: unknown) => {
            assert.ok(error instanceof StratumError);
            assert.equal(error.code, 'BAD_REQUEST');
            assert.match(error.message, /^invalid inference request: /);
            assert.deepEqual((error.details as { issues: unknown }).issues, parsed.error.issues);
            return true;
          },
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps the message that names an input by its name', () => {
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }] }));
    assert.throws(() => decodeRestInferRequest({ body, maxBytesElement: 1024 }), {
      message: 'invalid inference request: input "x": shape[0] must be ≥ 0, got -1',
    });
  });
});
