import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import {
  ERROR_CODES,
  GrpcStatus,
  grpcStatusOf,
  httpStatusOf,
  renderErrorsMarkdown,
  StratumError,
  toStratumError,
} from '../../src/errors/index.ts';

test('docs/errors.md matches the error catalogue (run `npm run docs:errors` after changing codes)', async () => {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(doc, renderErrorsMarkdown());
  for (const code of Object.keys(ERROR_CODES)) assert.ok(doc.includes(`\`${code}\``), `${code} is documented`);
});

test('every code maps to a client or server HTTP status and a gRPC status', () => {
  for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
    const http = httpStatusOf(code);
    assert.ok(http >= 400 && http < 600, `${code} → ${http}`);
    assert.ok(Object.values(GrpcStatus).includes(grpcStatusOf(code) as never));
    assert.notEqual(grpcStatusOf(code), GrpcStatus.OK);
  }
});

test('unknown throwables become an opaque INTERNAL error that keeps the cause', () => {
  const cause = new TypeError('secret stack detail');
  const e = toStratumError(cause);
  assert.equal(e.code, 'INTERNAL');
  assert.equal(e.status, 500);
  assert.ok(!e.message.includes('secret'));
  assert.equal(e.cause, cause);
  const known = new StratumError('QUEUE_FULL', 'full', { retryAfterSeconds: 1 });
  assert.equal(toStratumError(known), known);
  assert.equal(known.status, 503);
  assert.equal(known.grpcStatus, GrpcStatus.UNAVAILABLE);
});
