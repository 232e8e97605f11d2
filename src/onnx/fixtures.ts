/**
 * The test-model fixtures, by the name they are served under. Each builds deterministic bytes
 * with Stratum's own ONNX writer, so tests and the demo need no downloads.
 */
import { ALL_TYPES_FIXTURE } from './fixtures/all-types.ts';
import { BYTES_ECHO_FIXTURE } from './fixtures/bytes-echo.ts';
import { CNN_FIXTURE } from './fixtures/cnn.ts';
import type { FixtureSpec } from './fixtures/fixture-spec.ts';
import { FIXED_BATCH_FIXTURE } from './fixtures/fixed-batch.ts';
import { MLP_FIXTURE } from './fixtures/mlp.ts';
import { MULTI_IO_FIXTURE } from './fixtures/multi-io.ts';
import { TRANSFORMER_FIXTURE } from './fixtures/transformer.ts';

export type { FixtureSpec } from './fixtures/fixture-spec.ts';

/**
 * Every fixture model: name → `{ description, inputs, outputs, build() }`.
 *
 * @example
 * ```ts
 * const session = await ort.InferenceSession.create(FIXTURES.mlp.build())
 * ```
 */
export const FIXTURES = Object.freeze({
  mlp: MLP_FIXTURE,
  cnn: CNN_FIXTURE,
  transformer: TRANSFORMER_FIXTURE,
  bytes_echo: BYTES_ECHO_FIXTURE,
  multi_io: MULTI_IO_FIXTURE,
  all_types: ALL_TYPES_FIXTURE,
  fixed_batch: FIXED_BATCH_FIXTURE,
} as const satisfies Record<string, FixtureSpec>);

/** The name of a fixture in {@link FIXTURES}. */
export type FixtureName = keyof typeof FIXTURES;

/** Every fixture name, in table order. */
export const FIXTURE_NAMES = Object.freeze(Object.keys(FIXTURES) as FixtureName[]);
