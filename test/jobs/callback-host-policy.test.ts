/**
 * The callback allow-list: which literal hosts are refused at submission, which resolved addresses
 * are refused at delivery (through the lookup a socket uses), and how `allowedHosts` lifts it.
 * Lookups use names every machine resolves locally (`localhost`), never the network.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { test } from 'node:test';
import type { StratumError } from '../../src/errors/index.ts';
import {
  CALLBACK_HOST_REFUSED,
  type CallbackHostPolicy,
  createCallbackHostPolicy,
  internalAddressKind,
} from '../../src/jobs/callback-host-policy.ts';

function lookupAll(policy: CallbackHostPolicy, host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    policy.lookup(host, { all: true }, (error, addresses) =>
      error === null ? resolve(addresses as LookupAddress[]) : reject(error),
    );
  });
}

test('internal addresses are named by kind; public ones are not internal', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', 'a loopback'],
    ['127.255.0.9', 'a loopback'],
    ['169.254.169.254', 'a link-local'],
    ['10.1.2.3', 'a private'],
    ['172.16.0.1', 'a private'],
    ['172.31.255.255', 'a private'],
    ['192.168.1.1', 'a private'],
    ['100.64.0.1', 'a shared (carrier-grade NAT)'],
    ['0.0.0.0', 'an unspecified ("this network")'],
    ['::1', 'a loopback'],
    ['::', 'an unspecified'],
    ['fd12:3456::1', 'a unique-local (private)'],
    ['fe80::1', 'a link-local'],
    ['::ffff:127.0.0.1', 'a loopback'],
    ['::ffff:7f00:1', 'a loopback'],
    ['::ffff:a9fe:a9fe', 'a link-local'],
    ['93.184.216.34', undefined],
    ['172.32.0.1', undefined],
    ['8.8.8.8', undefined],
    ['2606:4700::1111', undefined],
  ];
  for (const [address, kind] of cases) assert.equal(internalAddressKind(address), kind, address);
});

test('at submission: internal literal hosts and localhost are refused unless allowed; names wait for delivery', () => {
  const strict = createCallbackHostPolicy({ allowedHosts: [] });
  for (const url of [
    'http://127.0.0.1:8080/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.5/x',
    'http://[::1]:9000/',
    'http://[::ffff:127.0.0.1]/',
    'http://localhost:3000/',
    'http://LOCALHOST./',
    'http://api.localhost/',
    'http://0x7f.1/',
    'http://2130706433/',
  ]) {
    const refusal = strict.refusalOf(url);
    assert.ok(refusal !== undefined, url);
    assert.match(refusal, /callbacks\.allowedHosts/);
  }
  assert.match(strict.refusalOf('http://169.254.169.254/') ?? '', /169\.254\.169\.254 is a link-local address/);
  for (const url of ['https://hooks.example.com/x', 'http://93.184.216.34/', 'https://[2606:4700::1111]/']) {
    assert.equal(strict.refusalOf(url), undefined, url);
  }

  const allowing = createCallbackHostPolicy({
    allowedHosts: ['127.0.0.1', '10.0.0.0/8', 'localhost', '*.internal', '::1'],
  });
  for (const url of [
    'http://127.0.0.1:8080/',
    'http://10.9.9.9/',
    'http://localhost/',
    'http://hooks.internal/',
    'http://[::1]/',
  ]) {
    assert.equal(allowing.refusalOf(url), undefined, url);
  }
  assert.ok(allowing.refusalOf('http://127.0.0.2/') !== undefined);
  assert.ok(allowing.refusalOf('http://192.168.0.1/') !== undefined);
});

test('at delivery: a name resolving to an internal address is refused unless the name or address is allowed', async () => {
  const strict = createCallbackHostPolicy({ allowedHosts: [] });
  await assert.rejects(lookupAll(strict, 'localhost'), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, CALLBACK_HOST_REFUSED);
    assert.match(error.message, /^localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    return true;
  });
  const byName = await lookupAll(createCallbackHostPolicy({ allowedHosts: ['localhost'] }), 'localhost');
  assert.ok(byName.length > 0);
  const byRange = createCallbackHostPolicy({ allowedHosts: ['127.0.0.0/8', '::1'] });
  assert.ok((await lookupAll(byRange, 'localhost')).every((a) => a.address === '127.0.0.1' || a.address === '::1'));
  // The single-address form (`all` unset) answers with one address and its family.
  const one = await new Promise<[string, number | undefined]>((resolve, reject) => {
    byRange.lookup('localhost', { family: 4 }, (error, address, family) =>
      error === null ? resolve([address as string, family]) : reject(error),
    );
  });
  assert.deepEqual(one, ['127.0.0.1', 4]);
});

test('a pattern that is no host, suffix, address or range stops the start with CONFIG_INVALID naming it', () => {
  for (const [pattern, index] of [
    ['http://x', 0],
    ['10.0.0.0/33', 0],
    ['a b', 0],
  ] as const) {
    assert.throws(
      () => createCallbackHostPolicy({ allowedHosts: [pattern] }),
      (error: StratumError) =>
        error.code === 'CONFIG_INVALID' && error.message.includes(`callbacks.allowedHosts[${index}]`),
    );
  }
});
