/**
 * The Node versions the package promises (`engines.node` in package.json, repeated in the README)
 * are versions every production dependency supports: a dependency that starts to require a newer
 * Node fails this test instead of a user's install (npm only warns, EBADENGINE, unless
 * engine-strict is set). Checked on the installed tree, which the lock decides; the packed-install
 * test runs the same check on a fresh install of the tarball, which is what users get.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describeConflicts, productionEngineConflicts } from '../helpers/dependency-engines.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function promisedRange(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  return manifest.engines.node;
}

test('every production dependency supports every Node version package.json promises', async () => {
  const promised = await promisedRange();
  assert.ok(semver.validRange(promised), `engines.node "${promised}" is a semver range`);
  const conflicts = await productionEngineConflicts({ root: REPO_ROOT });
  assert.deepEqual(
    conflicts,
    [],
    `dependencies that need another Node than ${promised}:\n${describeConflicts(conflicts)}`,
  );
});

test('the check catches a dependency that needs a newer Node than the minimum', async () => {
  // Node 18 is below what several dependencies accept: promising it must be refused.
  const conflicts = await productionEngineConflicts({ root: REPO_ROOT, node: '>=18' });
  assert.ok(conflicts.length > 0);
  assert.ok(conflicts.every((c) => !semver.subset('>=18', c.node)));
  assert.ok(
    conflicts.every((c) => c.via[0]?.startsWith('stratum@')),
    'each is reached from the package',
  );
});

test('the running Node is one the package promises, and the README names the same range', async () => {
  const promised = await promisedRange();
  assert.ok(semver.satisfies(process.version, promised), `${process.version} satisfies ${promised}`);
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(`\`${promised}\``), `README.md names the engines range \`${promised}\``);
});
