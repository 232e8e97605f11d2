/** The logger censors credentials and keys wherever a line carries them, at any level. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/logging/logger.ts';

test('request credentials and key settings are written as [redacted]', () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const logger = createLogger({ level: 'trace', destination: stream, pretty: false });
  logger.info(
    {
      req: {
        method: 'GET',
        headers: { authorization: 'Bearer tok-1234567890', 'x-api-key': 'key-1234567890', host: 'h' },
      },
      headers: { 'x-stratum-callback-secret': 'cbs-1234567890' },
      config: {
        artifactEncryption: { masterKey: 'mk-1234567890' },
        asyncInference: { callbackSecret: 'srv-1234567890' },
      },
      callback: { url: 'https://example.test/', secret: 'req-1234567890' },
      masterKey: 'mk2-1234567890',
    },
    'a request',
  );
  logger.child({ component: 'x' }).trace({ settings: { apiKey: 'ak-1234567890', token: 'tk-1234567890' } }, 'child');
  stream.end();
  for (const value of ['tok-', 'key-', 'cbs-', 'mk-', 'srv-', 'req-', 'mk2-', 'ak-', 'tk-']) {
    assert.ok(!text.includes(`${value}1234567890`), `${value} was written: ${text}`);
  }
  const first = JSON.parse(text.split('\n')[0] as string) as { req: { headers: Record<string, string> } };
  assert.equal(first.req.headers['authorization'], '[redacted]');
  assert.equal(first.req.headers['host'], 'h');
  assert.match(text, /"url":"https:\/\/example\.test\/"/);
});
