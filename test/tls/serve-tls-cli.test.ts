/**
 * `stratum serve --tls-cert/--tls-key` as a process (compiled dist/: `npm run build` first): a bad
 * file stops the start with an error naming it and no key material. (Serving over TLS from the CLI
 * is exercised by secrets-never-logged.test.ts, which runs a whole session that way.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCli } from '../helpers/cli-process.ts';
import { createTestCa } from '../helpers/test-certificates.ts';

test('stratum serve refuses a key that is not the certificate’s, naming the files, and exits non-zero', async (t) => {
  const ca = await createTestCa(t);
  const served = await ca.issueServer('server');
  const other = await ca.issueServer('other');
  const proc = startCli(t, [
    'serve',
    '--no-registry',
    '--models',
    ca.dir,
    '--http-port',
    '0',
    '--grpc-port',
    '0',
    '--workers',
    '1',
    '--tls-cert',
    served.certFile,
    '--tls-key',
    other.keyFile,
  ]);
  assert.equal(await proc.exited, 1);
  const output = proc.output();
  assert.match(output, /tls.keyFile .* is not the private key of the certificate in tls.certFile/);
  assert.ok(output.includes(other.keyFile) && output.includes(served.certFile), output);
  assert.ok(!output.includes(other.key.toString('utf8').split('\n')[1] as string), 'the key was printed');

  const half = startCli(t, ['serve', '--no-registry', '--models', ca.dir, '--tls-cert', join(ca.dir, 'server.crt')]);
  assert.equal(await half.exited, 1);
  assert.match(half.output(), /tls\.keyFile/);
});
