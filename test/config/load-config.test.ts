import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { StratumError } from '../../src/errors/index.ts';

test('defaults follow Triton and KServe: HTTP 8000, gRPC 8001', () => {
  const config = loadConfig({ env: {} });
  assert.equal(config.httpPort, 8000);
  assert.equal(config.grpcPort, 8001);
  assert.ok(config.runtime.workers >= 1);
});

test('environment variables are read and overrides win over them', () => {
  const config = loadConfig({
    env: { STRATUM_HTTP_PORT: '9000', STRATUM_RUNTIME_WORKERS: '3', STRATUM_WATCH: 'false' },
    overrides: { httpPort: 9100 },
  });
  assert.equal(config.httpPort, 9100);
  assert.equal(config.runtime.workers, 3);
  assert.equal(config.watch, false);
});

test('the configuration is frozen, deeply', () => {
  const config = loadConfig({ env: {} });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.runtime));
  assert.throws(() => {
    (config as { httpPort: number }).httpPort = 1;
  }, TypeError);
});

test('every invalid setting is reported with its path, at once', () => {
  try {
    loadConfig({
      env: { STRATUM_HTTP_PORT: 'eighty', STRATUM_INTRA_OP_THREADS: '0' },
      overrides: { logLevel: 'loud' as 'info' },
    });
    assert.fail('expected an error');
  } catch (error) {
    assert.ok(error instanceof StratumError);
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /httpPort/);
    assert.match(error.message, /runtime\.intraOpThreads/);
    assert.match(error.message, /logLevel/);
  }
});

test('unknown keys are rejected rather than silently ignored', () => {
  assert.throws(() => loadConfig({ env: {}, overrides: { httpPortt: 1 } as never }), /httpPortt/);
});
